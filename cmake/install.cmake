# `cmake --install build --prefix P`: the headers, the layer libraries, a CMake package
# (find_package(tensorgrad CONFIG) -> tensorgrad::tensorgrad, its dependencies found again) and a pkg-config
# file; `cpack -G DEB` (from the build folder) makes a Debian package of the same files.
include(CMakePackageConfigHelpers)

# Link order: every layer before the layers it uses (what a static link needs).
set(TG_LAYER_LIBRARIES tg_nn tg_optim tg_data tg_io tg_dist tg_autograd tg_ops tg_kernels tg_core tg_profiler tg_base)
foreach(lib ${TG_LAYER_LIBRARIES})
  # Shared: a versioned soname, and $ORIGIN so each installed layer finds the layers below it beside itself
  # (a program's RUNPATH does not apply to its libraries' own dependencies).
  set_target_properties(${lib} PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}
                                          INSTALL_RPATH "$ORIGIN")
endforeach()

install(DIRECTORY include/tensorgrad DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS ${TG_LAYER_LIBRARIES} tensorgrad EXPORT tensorgradTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
set(TG_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/tensorgrad)
install(EXPORT tensorgradTargets NAMESPACE tensorgrad:: DESTINATION ${TG_CMAKE_DIR})
configure_package_config_file(cmake/tensorgradConfig.cmake.in ${PROJECT_BINARY_DIR}/tensorgradConfig.cmake
                              INSTALL_DESTINATION ${TG_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/tensorgradConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/tensorgradConfig.cmake ${PROJECT_BINARY_DIR}/tensorgradConfigVersion.cmake
        DESTINATION ${TG_CMAKE_DIR})

# pkg-config: static libraries need their dependencies on the link line itself, shared ones only privately.
set(TG_PC_LIBS "")
foreach(lib ${TG_LAYER_LIBRARIES})
  string(APPEND TG_PC_LIBS " -l${lib}")
endforeach()
set(TG_PC_DEPENDENCY_LIBS "-fopenmp -lpthread -lz")
if(TG_DIST_HAS_MPI)
  foreach(mpi_lib ${TG_MPI_CXX_LIBRARIES})
    string(APPEND TG_PC_DEPENDENCY_LIBS " ${mpi_lib}")
  endforeach()
endif()
if(BUILD_SHARED_LIBS)
  set(TG_PC_PRIVATE_LIBS "${TG_PC_DEPENDENCY_LIBS}")
  string(APPEND TG_PC_LIBS " -fopenmp")
else()
  set(TG_PC_PRIVATE_LIBS "")
  string(APPEND TG_PC_LIBS " ${TG_PC_DEPENDENCY_LIBS}")
endif()
if(TG_PROFILER)
  set(TG_PROFILER_VALUE 1)
else()
  set(TG_PROFILER_VALUE 0)
endif()
# The .pc file finds its prefix from its own folder (${pcfiledir}), so `--prefix` at install time works.
file(RELATIVE_PATH TG_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
configure_file(cmake/tensorgrad.pc.in ${PROJECT_BINARY_DIR}/tensorgrad.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/tensorgrad.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# cpack -G DEB: a Debian package of what is installed above (headers, libraries, CMake and pkg-config files).
set(CPACK_PACKAGE_NAME libtensorgrad-dev)
set(CPACK_PACKAGE_VENDOR tensorgrad)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "tensorgrad: a lean deep-learning framework in C++20 (development files)")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "tensorgrad developers <tensorgrad@localhost>")
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libgomp1, zlib1g-dev, nlohmann-json3-dev")
if(TG_DIST_HAS_MPI)
  string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", libopenmpi-dev")
endif()
if(TG_HAVE_PYTHON)
  # The Python package is in it too (python/CMakeLists.txt), for Debian's python3.
  string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", python3, python3-numpy")
endif()
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
include(CPack)
