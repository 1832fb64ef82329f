#pragma once
// BLIS as a second reference GEMM for `tensorgrad-bench gemm`, loaded at run time: dlopen("libblis.so.4") with
// RTLD_LOCAL keeps its BLAS / CBLAS symbols apart from OpenBLAS's, which the benchmark links, so both can be
// measured in one process. Debian's libblis4-openmp (or -pthread / -serial) provides the library.
#include <cstdint>
#include <string>

namespace tg::bench {

class BlisLibrary {
 public:
  // Loads the library and fixes its sub-configuration (arch: "auto" or a BLIS name such as zen3, haswell,
  // skx; see sub_configuration_for_this_cpu) before BLIS initialises itself. Never throws: available()
  // says whether it worked and why_not() why not.
  explicit BlisLibrary(const std::string& arch);

  bool available() const { return sgemm_ != nullptr; }
  const std::string& why_not() const { return why_not_; }
  // "BLIS 0.9.0, sub-configuration zen3 (...how it was chosen...)".
  const std::string& description() const { return description_; }

  void set_num_threads(int threads) const;
  // Row-major C = A B, float32 (cblas_sgemm).
  void sgemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
             int64_t ldc) const;

 private:
  using Sgemm = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int);
  using SetThreads = void (*)(int64_t);
  Sgemm sgemm_ = nullptr;
  SetThreads set_threads_ = nullptr;
  std::string why_not_, description_;
};

// The BLIS sub-configuration for this CPU's widest vectors: skx with AVX-512, zen3 (AMD) or haswell (Intel)
// with AVX2 + FMA, empty otherwise. BLIS 0.9 (Debian 12) does not recognise Zen 4 / Zen 5 and falls back to its
// generic, unvectorised kernels there, so "auto" names the configuration instead of trusting the detection.
std::string blis_sub_configuration_for_this_cpu();

}  // namespace tg::bench
