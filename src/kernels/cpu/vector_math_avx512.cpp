// vector_math_simd.h's exp / log / sigmoid / tanh / silu on AVX-512F, compiled with -mavx512f -ffp-contract=off
// (src/kernels/CMakeLists.txt) and called only when the CPU has AVX-512F (unary.cpp). Nothing else may live
// here: any code in this file may use AVX-512 instructions.
#include "vector_math_simd.h"

#if defined(__AVX512F__)
#include <immintrin.h>

namespace tg::kernels::cpu::simd {
namespace {

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*(), which -Wmaybe-uninitialized flags at -O3.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
struct Avx512 {
  using V = __m512;
  using I = __m512i;
  using M = __mmask16;
  static constexpr int L = 16;
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V set1(float v) { return _mm512_set1_ps(v); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V div(V a, V b) { return _mm512_div_ps(a, b); }
  static M lt(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static M gt(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
  static M unordered(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q); }
  static V select(M m, V a, V b) { return _mm512_mask_blend_ps(m, b, a); }
  static V floor(V a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
  static I to_int(V a) { return _mm512_cvttps_epi32(a); }
  static I int_set1(int32_t v) { return _mm512_set1_epi32(v); }
  static I int_add(I a, I b) { return _mm512_add_epi32(a, b); }
  static I int_sub(I a, I b) { return _mm512_sub_epi32(a, b); }
  static I int_sra1(I a) { return _mm512_srai_epi32(a, 1); }
  static I int_sign(I a) { return _mm512_srai_epi32(a, 31); }
  static I int_shl23(I a) { return _mm512_slli_epi32(a, 23); }
  static V as_float(I a) { return _mm512_castsi512_ps(a); }
  static M eq(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
  static V to_float(I a) { return _mm512_cvtepi32_ps(a); }
  static I int_and(I a, I b) { return _mm512_and_si512(a, b); }
  static I int_or(I a, I b) { return _mm512_or_si512(a, b); }
  static I int_srl23(I a) { return _mm512_srli_epi32(a, 23); }
  static I as_int(V a) { return _mm512_castps_si512(a); }
};

constexpr Runs kRuns = runs_of<Avx512>("avx512");
#pragma GCC diagnostic pop

}  // namespace

const Runs* const avx512_runs = &kRuns;

}  // namespace tg::kernels::cpu::simd

#else  // built for a target without AVX-512: nothing to offer

namespace tg::kernels::cpu::simd {
const Runs* const avx512_runs = nullptr;
}

#endif
