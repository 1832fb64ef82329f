#pragma once
// The SIMD micro-kernel template shared by the per-ISA translation units (gemm_avx2.cpp, gemm_avx512.cpp).
// Include it only from a file compiled with that ISA's flags; everything here has internal linkage, so no
// ISA-specific code can be merged into (and run from) the portable part of the library.
#include <cstdint>

namespace tg::kernels::cpu {
namespace {

// Ops: a SIMD register type V of L lanes of T with load / broadcast / fma / add / store.
// C (MR x NV*L, row stride ldc) = (C +) sum_p a[p*MR + i] * b[p*NR + j]: MR*NV accumulators in registers,
// NV loads of B and MR broadcasts of A per step of p.
// StridedA: A read in place, row i at a[i * lda + p] (gemm.h's StridedAKernelFn) instead of a packed panel.
template <class Ops, int MR, int NV, bool StridedA>
inline void simd_micro_kernel_over(int64_t kc, const typename Ops::T* a, int64_t lda, const typename Ops::T* b,
                                   typename Ops::T* c, int64_t ldc, bool accumulate) {
  using V = typename Ops::V;
  using T = typename Ops::T;
  constexpr int L = Ops::L, NR = NV * L;
  V acc[MR][NV];
  // Ask for C's tile now, so its lines arrive during the k loop instead of stalling the stores (and the loads
  // of an accumulating pass) at the end: each row is a different page when C is wide. On an Intel Xeon with
  // AVX-512 (docs/GEMM.md) this took the 2048^3 product from 0.85x to ~0.95x of OpenBLAS, and the AVX2 kernel
  // there from 75 to 100 GFLOP/s; on a Zen 5 it had made no difference. Into L2 (locality 2): the B and A
  // panels fill L1 during the loop and would evict the tile from there.
  constexpr int kLine = 64 / static_cast<int>(sizeof(T));
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
    for (int j = 0; j < NR; j += kLine) __builtin_prefetch(c + i * ldc + j, 1, 2);
    __builtin_prefetch(c + i * ldc + NR - 1, 1, 2);
  }
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[i][v] = Ops::zero();
#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; ++p) {
    V bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) bv[v] = Ops::load(b + v * L);
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
      const V ai = Ops::broadcast(StridedA ? a + i * lda : a + i);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[i][v] = Ops::fma(ai, bv[v], acc[i][v]);
    }
    a += StridedA ? 1 : MR;
    b += NR;
  }
  if (accumulate) {
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) Ops::store(c + i * ldc + v * L, Ops::add(Ops::load(c + i * ldc + v * L), acc[i][v]));
  } else {
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) Ops::store(c + i * ldc + v * L, acc[i][v]);
  }
}

template <class Ops, int MR, int NV>
inline void simd_micro_kernel(int64_t kc, const typename Ops::T* a, const typename Ops::T* b, typename Ops::T* c,
                              int64_t ldc, bool accumulate) {
  simd_micro_kernel_over<Ops, MR, NV, false>(kc, a, 0, b, c, ldc, accumulate);
}

}  // namespace
}  // namespace tg::kernels::cpu
