#pragma once
// What this CPU can execute, asked once per call of CPUID through GCC's builtin (false on other targets):
// the run-time choice between the per-ISA translation units (gemm_<isa>.cpp, vector_math_<isa>.cpp).
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

}  // namespace tg::kernels::cpu
