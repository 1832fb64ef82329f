// conv_direct_weight_grad.h's row with AVX2: each 16-column step as two halves of 8 lanes, one pass over the rows
// a half (16 accumulators would not fit the 16 registers twice), masked loads for a row's last step. Compiled with
// -mavx2 -mfma (src/kernels/CMakeLists.txt) and called only when the CPU has AVX2 and FMA
// (conv_direct_weight_grad.cpp). Nothing else may live here: any code in this file may use AVX2 instructions.
#include "conv_direct_weight_grad.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#include "conv_direct_weight_grad_row.h"

namespace tg::kernels::cpu {
namespace {

struct F32x8 {
  using V = __m256;
  static constexpr int L = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V load_first(const float* p, int n) {
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return _mm256_maskload_ps(p, mask);
  }
  static void in_register(V& v) { __asm__("" : "+x"(v)); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static void fold(V v, double* tot) {
    const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
    const __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
    _mm256_storeu_pd(tot, _mm256_add_pd(_mm256_loadu_pd(tot), lo));
    _mm256_storeu_pd(tot + 4, _mm256_add_pd(_mm256_loadu_pd(tot + 4), hi));
  }
};

}  // namespace

namespace isa {
const DirectImageRow avx2_direct_image_row = &direct_image_row_any<F32x8>;
}  // namespace isa

}  // namespace tg::kernels::cpu

#else  // built for a target without AVX2 and FMA: nothing to offer

namespace tg::kernels::cpu::isa {
const DirectImageRow avx2_direct_image_row = nullptr;
}  // namespace tg::kernels::cpu::isa

#endif
