# Decides whether the Python module is built (TG_HAVE_PYTHON): TG_PYTHON=ON requires Python's headers and
# pybind11, AUTO builds it when both are found. Debian's packages: python3-dev, pybind11-dev (and
# python3-numpy, which the module imports). Pass -DPython3_EXECUTABLE=... to choose the interpreter; the
# module is built for that one.
set(TG_HAVE_PYTHON OFF)
if(TG_PYTHON STREQUAL "OFF")
  return()
endif()
if(TG_SANITIZE)
  if(TG_PYTHON STREQUAL "ON")
    message(FATAL_ERROR "TG_PYTHON=ON with TG_SANITIZE=ON: a sanitized module cannot be loaded by Python")
  endif()
  message(STATUS "tensorgrad: Python module off (sanitizer build)")
  return()
endif()
# Debian's python3-numpy / python3-torch are installed for /usr/bin/python3; a python3 earlier on PATH (pyenv,
# a virtual environment) would build a module for an interpreter without them. Pass -DPython3_EXECUTABLE to
# choose another.
if(NOT DEFINED Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
  set(Python3_EXECUTABLE /usr/bin/python3 CACHE FILEPATH "The Python interpreter the module is built for")
endif()
if(TG_PYTHON STREQUAL "ON")
  set(tg_python_required REQUIRED)
else()
  set(tg_python_required "")
endif()
find_package(Python3 3.9 COMPONENTS Interpreter Development.Module ${tg_python_required})
if(Python3_FOUND)
  set(PYBIND11_FINDPYTHON ON)
  find_package(pybind11 2.10 CONFIG ${tg_python_required})
endif()
if(Python3_FOUND AND pybind11_FOUND)
  set(TG_HAVE_PYTHON ON)
  message(STATUS "tensorgrad: Python module for ${Python3_EXECUTABLE} (${Python3_VERSION}), pybind11 ${pybind11_VERSION}")
else()
  message(STATUS "tensorgrad: Python module off (needs python3-dev and pybind11-dev)")
endif()
