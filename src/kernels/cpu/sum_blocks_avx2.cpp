// sum_blocks.h's float32 block sum with AVX2: 32 double lanes in eight registers, each conversion loading its
// 4 floats. Compiled with -mavx2 (src/kernels/CMakeLists.txt) and called only when the CPU has AVX2
// (reduce.cpp). Nothing else may live here: any code in this file may use AVX2 instructions.
#include "sum_blocks.h"

#if defined(__AVX2__)
#include <immintrin.h>

namespace tg::kernels::cpu {
namespace {

double sum_block_f32(const float* row, int64_t n) {
  __m256d a[8];  // a[k] holds lanes 4k .. 4k + 3
  for (__m256d& v : a) v = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) a[k] = _mm256_add_pd(a[k], _mm256_cvtps_pd(_mm_loadu_ps(row + i + 4 * k)));
  }
  double tail = 0;
  for (; i < n; ++i) tail += static_cast<double>(row[i]);
  // w = 16: lanes 0..15 += 16..31; w = 8: lanes 0..7 += 8..15; w = 4: lanes 0..3 += 4..7; then w = 2, 1.
  for (int k = 0; k < 4; ++k) a[k] = _mm256_add_pd(a[k], a[k + 4]);
  for (int k = 0; k < 2; ++k) a[k] = _mm256_add_pd(a[k], a[k + 2]);
  a[0] = _mm256_add_pd(a[0], a[1]);
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, a[0]);
  lanes[0] += lanes[2];
  lanes[1] += lanes[3];
  lanes[0] += lanes[1];
  return tail + lanes[0];
}

}  // namespace

namespace isa {
const SumBlockF32 avx2_sum_block_f32 = &sum_block_f32;
}  // namespace isa

}  // namespace tg::kernels::cpu

#else  // built for a target without AVX2: nothing to offer

namespace tg::kernels::cpu::isa {
const SumBlockF32 avx2_sum_block_f32 = nullptr;
}  // namespace tg::kernels::cpu::isa

#endif
