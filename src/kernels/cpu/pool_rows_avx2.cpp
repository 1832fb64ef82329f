// pool_rows.h's row of 2x2 / stride-2 max pooling with AVX2: 8 windows a step, the even and odd columns of
// each input row separated by a shuffle and a cross-lane permute, compares as lane masks; the last n % 8
// windows one by one. Compiled with -mavx2 (src/kernels/CMakeLists.txt) and called only when the CPU has AVX2
// (pool.cpp). Nothing else may live here: any code in this file may use AVX2 instructions.
#include "pool_rows.h"

#if defined(__AVX2__)
#include <immintrin.h>

namespace tg::kernels::cpu {
namespace {

// pool.cpp's rule, lane by lane: v replaces b when strictly larger, or NaN while b is not (all-ones lanes).
__m256 takes(__m256 v, __m256 b) {
  const __m256 larger = _mm256_cmp_ps(v, b, _CMP_GT_OQ);
  const __m256 v_nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
  const __m256 b_nan = _mm256_cmp_ps(b, b, _CMP_UNORD_Q);
  return _mm256_or_ps(larger, _mm256_andnot_ps(b_nan, v_nan));
}
bool takes(float v, float b) { return (v > b) | ((v != v) & (b == b)); }

// The even (or odd) elements of 16 consecutive floats, in order.
__m256 columns(const float* p, bool odd_columns) {
  const __m256 lo = _mm256_loadu_ps(p), hi = _mm256_loadu_ps(p + 8);
  const __m256 mixed = odd_columns ? _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1))
                                   : _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(mixed), _MM_SHUFFLE(3, 1, 2, 0)));
}

inline __attribute__((always_inline)) void pool_row_2x2(const float* r0, const float* r1, int64_t n,
                                                       const float* /*end*/, int64_t first, int64_t row_length,
                                                       float* value, int64_t* position) {
  const __m256i twice_lane = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
  const __m256i width = _mm256_set1_epi32(static_cast<int32_t>(row_length));
  int64_t w = 0;
  for (; w + 8 <= n; w += 8) {
    const __m256 a = columns(r0 + 2 * w, false), b = columns(r0 + 2 * w, true);
    const __m256 c = columns(r1 + 2 * w, false), d = columns(r1 + 2 * w, true);
    const __m256 mb = takes(b, a);
    __m256 best = _mm256_blendv_ps(a, b, mb);
    __m256 place = _mm256_and_ps(mb, _mm256_castsi256_ps(_mm256_set1_epi32(1)));
    const __m256 mc = takes(c, best);
    best = _mm256_blendv_ps(best, c, mc);
    place = _mm256_blendv_ps(place, _mm256_castsi256_ps(_mm256_set1_epi32(2)), mc);
    const __m256 md = takes(d, best);
    best = _mm256_blendv_ps(best, d, md);
    place = _mm256_blendv_ps(place, _mm256_castsi256_ps(_mm256_set1_epi32(3)), md);
    _mm256_storeu_ps(value + w, best);
    // 2 (w + lane) + (place & 1) + (place >> 1) W in int32, then widened and added to first + 2w.
    const __m256i code = _mm256_castps_si256(place);
    const __m256i offset = _mm256_add_epi32(_mm256_add_epi32(twice_lane, _mm256_and_si256(code, _mm256_set1_epi32(1))),
                                            _mm256_mullo_epi32(_mm256_srli_epi32(code, 1), width));
    const __m256i start = _mm256_set1_epi64x(first + 2 * w);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(position + w),
                        _mm256_add_epi64(start, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(offset))));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(position + w + 4),
                        _mm256_add_epi64(start, _mm256_cvtepi32_epi64(_mm256_extracti128_si256(offset, 1))));
  }
  for (; w < n; ++w) {
    const float a = r0[2 * w], b = r0[2 * w + 1], c = r1[2 * w], d = r1[2 * w + 1];
    float best = a;
    int32_t place = 0;
    if (takes(b, best)) best = b, place = 1;
    if (takes(c, best)) best = c, place = 2;
    if (takes(d, best)) best = d, place = 3;
    value[w] = best;
    position[w] = first + 2 * w + (place & 1) + (place >> 1) * row_length;
  }
}

}  // namespace

namespace isa {
const PoolRow2x2 avx2_pool_row_2x2 = &pool_row_2x2;
const PoolRows2x2 avx2_pool_rows_2x2 = &pool_plane_rows<&pool_row_2x2>;
}  // namespace isa

}  // namespace tg::kernels::cpu

#else  // built for a target without AVX2: nothing to offer

namespace tg::kernels::cpu::isa {
const PoolRow2x2 avx2_pool_row_2x2 = nullptr;
const PoolRows2x2 avx2_pool_rows_2x2 = nullptr;
}  // namespace tg::kernels::cpu::isa

#endif
