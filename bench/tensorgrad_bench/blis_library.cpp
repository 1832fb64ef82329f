// BLIS loaded at run time (see blis_library.h).
#include "blis_library.h"

#include <dlfcn.h>

#include <cstdlib>
#include <fstream>

namespace tg::bench {

namespace {

constexpr int kCblasRowMajor = 101, kCblasNoTrans = 111;

bool cpu_vendor_is_amd() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("vendor_id", 0) == 0) return line.find("AuthenticAMD") != std::string::npos;
  return false;
}

}  // namespace

std::string blis_sub_configuration_for_this_cpu() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return "skx";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return cpu_vendor_is_amd() ? "zen3" : "haswell";
  return {};
}

BlisLibrary::BlisLibrary(const std::string& arch) {
  // RTLD_DEEPBIND: BLIS's calls into itself must reach its own functions, not the same-named BLAS symbols of
  // the OpenBLAS already loaded (without it, BLIS 0.9 aborts in its first call with "uninitialized context").
  void* handle = dlopen("libblis.so.4", RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
  if (handle == nullptr) {
    why_not_ = std::string("libblis.so.4 not found (install libblis4-openmp): ") + dlerror();
    return;
  }
  using ArchString = const char* (*)(int64_t);
  using ArchId = int64_t (*)();
  using Version = const char* (*)();
  auto arch_string = reinterpret_cast<ArchString>(dlsym(handle, "bli_arch_string"));
  auto arch_id = reinterpret_cast<ArchId>(dlsym(handle, "bli_arch_query_id"));
  auto version = reinterpret_cast<Version>(dlsym(handle, "bli_info_get_version_str"));
  auto sgemm = reinterpret_cast<Sgemm>(dlsym(handle, "cblas_sgemm"));
  set_threads_ = reinterpret_cast<SetThreads>(dlsym(handle, "bli_thread_set_num_threads"));
  if (arch_string == nullptr || arch_id == nullptr || sgemm == nullptr || set_threads_ == nullptr) {
    why_not_ = "libblis.so.4 lacks cblas_sgemm, bli_thread_set_num_threads or bli_arch_*: not a BLIS 0.9 build";
    return;
  }
  // BLIS reads BLIS_ARCH_TYPE, a number (its arch_t), once, when it initialises on its first computation; the
  // names come from bli_arch_string, which needs no initialisation.
  std::string how;
  if (const char* env = std::getenv("BLIS_ARCH_TYPE"); env != nullptr) {
    how = std::string("BLIS_ARCH_TYPE=") + env + " from the environment";
  } else {
    const std::string wanted = arch == "auto" ? blis_sub_configuration_for_this_cpu() : arch;
    if (wanted.empty()) {
      how = "BLIS's own CPU detection";
    } else {
      int64_t id = -1;
      std::string names;
      for (int64_t i = 0; i < 64; ++i) {
        const char* name = arch_string(i);
        if (name == nullptr) break;
        if (wanted == name) id = i;
        names += std::string(names.empty() ? "" : ", ") + name;
        if (std::string(name) == "generic") break;  // the last entry of arch_t
      }
      if (id < 0) {
        why_not_ = "BLIS has no sub-configuration '" + wanted + "' (it has: " + names + ")";
        return;
      }
      setenv("BLIS_ARCH_TYPE", std::to_string(id).c_str(), 1);
      how = arch == "auto" ? "--blis-arch auto: the widest vectors this CPU has" : "--blis-arch " + arch;
    }
  }
  sgemm_ = sgemm;
  float one = 1.0f, out = 0.0f;
  sgemm_(kCblasRowMajor, kCblasNoTrans, kCblasNoTrans, 1, 1, 1, 1.0f, &one, 1, &one, 1, 0.0f, &out, 1);  // initialises
  description_ = std::string("BLIS ") + (version != nullptr ? version() : "?") + ", sub-configuration " +
                 arch_string(arch_id()) + " (" + how + ")";
}

void BlisLibrary::set_num_threads(int threads) const {
  if (set_threads_ != nullptr) set_threads_(threads);
}

void BlisLibrary::sgemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
                        float* c, int64_t ldc) const {
  sgemm_(kCblasRowMajor, kCblasNoTrans, kCblasNoTrans, int(m), int(n), int(k), 1.0f, a, int(lda), b, int(ldb), 0.0f,
         c, int(ldc));
}

}  // namespace tg::bench
