// sum_blocks.h's float32 block sum with AVX-512F: 32 double lanes in four registers, each conversion loading
// its 8 floats. Compiled with -mavx512f (src/kernels/CMakeLists.txt) and called only when the CPU has AVX-512F
// (reduce.cpp). Nothing else may live here: any code in this file may use AVX-512 instructions.
#include "sum_blocks.h"

#if defined(__AVX512F__)
#include <immintrin.h>

namespace tg::kernels::cpu {
namespace {

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*(), which -Wmaybe-uninitialized flags at -O3.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
double sum_block_f32(const float* row, int64_t n) {
  // a[k] holds lanes 8k .. 8k + 7.
  __m512d a0 = _mm512_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm512_add_pd(a0, _mm512_cvtps_pd(_mm256_loadu_ps(row + i)));
    a1 = _mm512_add_pd(a1, _mm512_cvtps_pd(_mm256_loadu_ps(row + i + 8)));
    a2 = _mm512_add_pd(a2, _mm512_cvtps_pd(_mm256_loadu_ps(row + i + 16)));
    a3 = _mm512_add_pd(a3, _mm512_cvtps_pd(_mm256_loadu_ps(row + i + 24)));
  }
  double tail = 0;
  for (; i < n; ++i) tail += static_cast<double>(row[i]);
  // w = 16: lanes 0..15 += 16..31; w = 8: lanes 0..7 += 8..15; then w = 4, 2, 1 within the first 8.
  a0 = _mm512_add_pd(a0, a2);
  a1 = _mm512_add_pd(a1, a3);
  a0 = _mm512_add_pd(a0, a1);
  alignas(64) double lanes[8];
  _mm512_store_pd(lanes, a0);
  for (int w = 4; w > 0; w /= 2)
    for (int l = 0; l < w; ++l) lanes[l] += lanes[l + w];
  return tail + lanes[0];
}
#pragma GCC diagnostic pop

}  // namespace

namespace isa {
const SumBlockF32 avx512_sum_block_f32 = &sum_block_f32;
}  // namespace isa

}  // namespace tg::kernels::cpu

#else  // built for a target without AVX-512F: nothing to offer

namespace tg::kernels::cpu::isa {
const SumBlockF32 avx512_sum_block_f32 = nullptr;
}  // namespace tg::kernels::cpu::isa

#endif
