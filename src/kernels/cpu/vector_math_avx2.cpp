// vector_math_simd.h's exp / log / sigmoid / tanh / silu on AVX2, compiled with -mavx2 -ffp-contract=off
// (src/kernels/CMakeLists.txt) and called only when the CPU has AVX2 (unary.cpp). Nothing else may live here:
// any code in this file may use AVX2 instructions.
#include "vector_math_simd.h"

#if defined(__AVX2__)
#include <immintrin.h>

namespace tg::kernels::cpu::simd {
namespace {

struct Avx2 {
  using V = __m256;
  using I = __m256i;
  using M = __m256;  // all-ones lanes where true
  static constexpr int L = 8;
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V set1(float v) { return _mm256_set1_ps(v); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V div(V a, V b) { return _mm256_div_ps(a, b); }
  static M lt(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static M gt(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
  static M unordered(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_UNORD_Q); }
  static V select(M m, V a, V b) { return _mm256_blendv_ps(b, a, m); }
  static V floor(V a) { return _mm256_floor_ps(a); }
  static I to_int(V a) { return _mm256_cvttps_epi32(a); }
  static I int_set1(int32_t v) { return _mm256_set1_epi32(v); }
  static I int_add(I a, I b) { return _mm256_add_epi32(a, b); }
  static I int_sub(I a, I b) { return _mm256_sub_epi32(a, b); }
  static I int_sra1(I a) { return _mm256_srai_epi32(a, 1); }
  static I int_sign(I a) { return _mm256_srai_epi32(a, 31); }
  static I int_shl23(I a) { return _mm256_slli_epi32(a, 23); }
  static V as_float(I a) { return _mm256_castsi256_ps(a); }
  static M eq(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
  static V to_float(I a) { return _mm256_cvtepi32_ps(a); }
  static I int_and(I a, I b) { return _mm256_and_si256(a, b); }
  static I int_or(I a, I b) { return _mm256_or_si256(a, b); }
  static I int_srl23(I a) { return _mm256_srli_epi32(a, 23); }
  static I as_int(V a) { return _mm256_castps_si256(a); }
};

constexpr Runs kRuns = runs_of<Avx2>("avx2");

}  // namespace

const Runs* const avx2_runs = &kRuns;

}  // namespace tg::kernels::cpu::simd

#else  // built for a target without AVX2: nothing to offer

namespace tg::kernels::cpu::simd {
const Runs* const avx2_runs = nullptr;
}

#endif
