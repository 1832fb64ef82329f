// conv_direct_weight_grad.h's row with AVX-512: one 16-lane vector a step, masked loads for a row's last step.
// Compiled with -mavx512f -mfma (src/kernels/CMakeLists.txt) and called only when the CPU has AVX-512F
// (conv_direct_weight_grad.cpp). Nothing else may live here: any code in this file may use AVX-512 instructions.
#include "conv_direct_weight_grad.h"

#if defined(__AVX512F__) && defined(__FMA__)
#include <immintrin.h>

#include "conv_direct_weight_grad_row.h"

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*(), which -W(maybe-)uninitialized flags where they are
// inlined: here, at the templates' instantiation at the end of this file, so for all of it.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace tg::kernels::cpu {
namespace {

struct F32x16 {
  using V = __m512;
  static constexpr int L = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V load_first(const float* p, int n) {
    return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1u), p);
  }
  static void in_register(V& v) { __asm__("" : "+v"(v)); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static void fold(V v, double* tot) {
    const __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
    const __m512d hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    _mm512_storeu_pd(tot, _mm512_add_pd(_mm512_loadu_pd(tot), lo));
    _mm512_storeu_pd(tot + 8, _mm512_add_pd(_mm512_loadu_pd(tot + 8), hi));
  }
};

}  // namespace

namespace isa {
const DirectImageRow avx512_direct_image_row = &direct_image_row_any<F32x16>;
}  // namespace isa

}  // namespace tg::kernels::cpu

#else  // built for a target without AVX-512: nothing to offer

namespace tg::kernels::cpu::isa {
const DirectImageRow avx512_direct_image_row = nullptr;
}  // namespace tg::kernels::cpu::isa

#endif
