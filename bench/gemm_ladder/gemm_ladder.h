#pragma once
// The GEMM ladder: every step from the textbook triple loop up to the production GEMM, kept as named, callable
// variants so the benchmark (tensorgrad-bench gemm) can show what each step buys and the tests can check each
// one against the reference kernel. tg::matmul never calls these, so they are not part of the library: they
// build into their own static library, tg_gemm_ladder (bench/gemm_ladder/CMakeLists.txt), over tg_kernels'
// private GEMM (src/kernels/cpu/gemm.h), whenever the tests or the benchmarks are built.
//
//   naive      i-j-k triple loop: the inner loop walks a column of B (stride n), one dot product at a time
//   reordered  i-k-j: the inner loop walks rows of B and C with unit stride, so the compiler vectorises it
//   blocked    reordered, over MB x KB x NB tiles that stay in cache
//   packed     the production five loops and packing, with the portable (16-byte vector) micro-kernel
//   avx2       the same with the AVX2+FMA micro-kernel        (listed only when the CPU has AVX2 and FMA)
//   avx512     the same with the AVX-512 micro-kernel         (listed only when the CPU has AVX-512F)
//   threaded   the best micro-kernel on `threads` OpenMP threads (a 2-D grid over C)
//   tuned      threaded, with the micro-kernel and blocking the library uses: the tune file when there is one
//   strassen   one level of Strassen (7 half-size products instead of 8) over the tuned rung
// All rungs below `threaded` run on the calling thread whatever `threads` says.
#include <cstdint>
#include <string_view>
#include <vector>

namespace tg::kernels::cpu {

// C[m x n] = A[m x k] B[k x n] for row-major matrices with row strides lda, ldb, ldc (>= their column counts).
template <class T>
struct MatrixProduct {
  int64_t m = 0, n = 0, k = 0;
  const T* a = nullptr;
  int64_t lda = 0;
  const T* b = nullptr;
  int64_t ldb = 0;
  T* c = nullptr;
  int64_t ldc = 0;
};

template <class T>
using RungFn = void (*)(const MatrixProduct<T>& p, int threads);

struct LadderRung {
  const char* name = "";
  const char* adds = "";  // what this rung adds over the one below it
  RungFn<float> f32 = nullptr;
  RungFn<double> f64 = nullptr;
  bool threaded = false;  // honours `threads`
  bool slow = false;      // no blocking at all: benchmarks cap the sizes they give it

  template <class T>
  RungFn<T> fn() const {
    if constexpr (sizeof(T) == sizeof(float)) return f32;
    else return f64;
  }
};

// The rungs this CPU can run, lowest first.
const std::vector<LadderRung>& gemm_ladder();
// The rung called `name`, or null.
const LadderRung* find_rung(std::string_view name);

}  // namespace tg::kernels::cpu
