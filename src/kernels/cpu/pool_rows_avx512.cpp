// pool_rows.h's row of 2x2 / stride-2 max pooling with AVX-512F: 16 windows a step, the even and odd columns
// of each input row separated by one two-register permute, compares as masks, positions widened to int64. Compiled with -mavx512f
// (src/kernels/CMakeLists.txt) and called only when the CPU has AVX-512F (pool.cpp). Nothing else may live
// here: any code in this file may use AVX-512 instructions.
#include "pool_rows.h"

#if defined(__AVX512F__)
#include <immintrin.h>

namespace tg::kernels::cpu {
namespace {

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*(), which -Wmaybe-uninitialized flags at -O3.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

// The low `count` bits (none for count <= 0). Plain expressions, no std:: templates: an out-of-line copy of one
// compiled here could be the one the linker keeps for baseline code.
__mmask16 low_bits(int64_t count) {
  return static_cast<__mmask16>(count >= 16 ? 0xFFFF : count <= 0 ? 0 : (1u << count) - 1);
}

// pool.cpp's rule, lane by lane: v replaces b when strictly larger, or NaN while b is not.
__mmask16 takes(__m512 v, __m512 b) {
  const __mmask16 larger = _mm512_cmp_ps_mask(v, b, _CMP_GT_OQ);
  const __mmask16 v_nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  const __mmask16 b_nan = _mm512_cmp_ps_mask(b, b, _CMP_UNORD_Q);
  return larger | (v_nan & static_cast<__mmask16>(~b_nan));
}

inline __attribute__((always_inline)) void pool_row_2x2(const float* r0, const float* r1, int64_t n, const float* end,
                                                       int64_t first, int64_t row_length, float* value,
                                                       int64_t* position) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const __m512i width = _mm512_set1_epi32(static_cast<int32_t>(row_length));
  for (int64_t w = 0; w < n; w += 16) {
    const int64_t windows = n - w < 16 ? n - w : 16;
    __m512 t0, t1, u0, u1;
    if (end != nullptr && r0 + 2 * w + 32 <= end && r1 + 2 * w + 32 <= end) {
      // Whole vectors where the memory past the row is readable: the lanes past it are never stored, and
      // plain loads keep the hardware prefetchers following the rows (masked ones ran at half the speed).
      t0 = _mm512_loadu_ps(r0 + 2 * w), t1 = _mm512_loadu_ps(r0 + 2 * w + 16);
      u0 = _mm512_loadu_ps(r1 + 2 * w), u1 = _mm512_loadu_ps(r1 + 2 * w + 16);
    } else {
      const __mmask16 lo = low_bits(2 * windows), hi = low_bits(2 * windows - 16);
      t0 = _mm512_maskz_loadu_ps(lo, r0 + 2 * w), t1 = _mm512_maskz_loadu_ps(hi, r0 + 2 * w + 16);
      u0 = _mm512_maskz_loadu_ps(lo, r1 + 2 * w), u1 = _mm512_maskz_loadu_ps(hi, r1 + 2 * w + 16);
    }
    const __m512 a = _mm512_permutex2var_ps(t0, even, t1), b = _mm512_permutex2var_ps(t0, odd, t1);
    const __m512 c = _mm512_permutex2var_ps(u0, even, u1), d = _mm512_permutex2var_ps(u0, odd, u1);
    const __mmask16 mb = takes(b, a);
    __m512 best = _mm512_mask_blend_ps(mb, a, b);
    __m512i place = _mm512_maskz_mov_epi32(mb, _mm512_set1_epi32(1));
    const __mmask16 mc = takes(c, best);
    best = _mm512_mask_blend_ps(mc, best, c);
    place = _mm512_mask_mov_epi32(place, mc, _mm512_set1_epi32(2));
    const __mmask16 md = takes(d, best);
    best = _mm512_mask_blend_ps(md, best, d);
    place = _mm512_mask_mov_epi32(place, md, _mm512_set1_epi32(3));
    const __mmask16 out = low_bits(windows);
    _mm512_mask_storeu_ps(value + w, out, best);
    // 2 (w + lane) + (place & 1) + (place >> 1) W in int32, then widened and added to first + 2w.
    const __m512i offset = _mm512_add_epi32(_mm512_add_epi32(even, _mm512_and_si512(place, _mm512_set1_epi32(1))),
                                            _mm512_mullo_epi32(_mm512_srli_epi32(place, 1), width));
    const __m512i start = _mm512_set1_epi64(first + 2 * w);
    _mm512_mask_storeu_epi64(position + w, static_cast<__mmask8>(out),
                             _mm512_add_epi64(start, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(offset))));
    _mm512_mask_storeu_epi64(position + w + 8, static_cast<__mmask8>(out >> 8),
                             _mm512_add_epi64(start, _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(offset, 1))));
  }
}

#pragma GCC diagnostic pop

}  // namespace

namespace isa {
const PoolRow2x2 avx512_pool_row_2x2 = &pool_row_2x2;
const PoolRows2x2 avx512_pool_rows_2x2 = &pool_plane_rows<&pool_row_2x2>;
}  // namespace isa

}  // namespace tg::kernels::cpu

#else  // built for a target without AVX-512: nothing to offer

namespace tg::kernels::cpu::isa {
const PoolRow2x2 avx512_pool_row_2x2 = nullptr;
const PoolRows2x2 avx512_pool_rows_2x2 = nullptr;
}  // namespace tg::kernels::cpu::isa

#endif
