#pragma once
// What this CPU can execute, asked once per call of CPUID through GCC's builtin (false on other targets):
// the run-time choice between the per-ISA translation units (gemm_<isa>.cpp, vector_math_<isa>.cpp,
// pool_rows_<isa>.cpp, sum_blocks_<isa>.cpp, random.cpp's Philox lanes).
namespace tg::kernels::cpu {

inline bool cpu_has_avx2() {
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

inline bool cpu_has_fma() {
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

inline bool cpu_has_avx512f() {
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_cpu_supports("avx512f");
#else
  return false;
#endif
}

// The widest of a pair of per-ISA versions this CPU can execute: `avx512` where it has AVX-512F, else `avx2`
// where it has AVX2 (a version is null when its file was built for another target), else `fallback`.
template <class T>
T widest_supported(T avx512, T avx2, T fallback) {
  if (avx512 != nullptr && cpu_has_avx512f()) return avx512;
  if (avx2 != nullptr && cpu_has_avx2()) return avx2;
  return fallback;
}

}  // namespace tg::kernels::cpu
