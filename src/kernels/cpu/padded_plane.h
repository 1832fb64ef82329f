#pragma once
// One plane of a zero-padded copy of an image, for the convolution kernels that read their windows from such a
// copy instead of clipping them (conv_winograd.cpp, conv_direct_weight_grad.cpp). Internal linkage: each
// including file builds it with its own flags (conv_winograd.cpp without GCC's loop idioms, so a short row is a
// loop rather than a memcpy call).
#include <algorithm>
#include <cstdint>

#include <tensorgrad/kernels/kernels.h>

namespace tg::kernels::cpu {
namespace {

// dst[k] = src[k * stride] for k < count. The rows are short (14 floats in the CNN's conv2): in a file built
// without loop idioms a memcpy call per row was 13-19% of the Winograd passes' time.
inline void copy_strided(const float* __restrict src, int64_t stride, int64_t count, float* __restrict dst) {
  if (stride == 1) {
    for (int64_t k = 0; k < count; ++k) dst[k] = src[k];
  } else {
    for (int64_t k = 0; k < count; ++k) dst[k] = src[k * stride];
  }
}

// dst (hp rows of wp floats) = the plane `in` (g.in_h x g.in_w, rows row_stride and columns col_stride apart)
// moved down by g.pad_h and right by g.pad_w, zeros around it; whatever falls past hp x wp is left out.
inline void pad_plane(const WindowGeometry& g, const float* in, int64_t row_stride, int64_t col_stride, int64_t hp,
                      int64_t wp, float* dst) {
  for (int64_t r = 0; r < hp; ++r) {
    float* row = dst + r * wp;
    const int64_t ih = r - g.pad_h;
    if (ih < 0 || ih >= g.in_h) {
      std::fill(row, row + wp, 0.0f);
      continue;
    }
    const int64_t lo = std::min(g.pad_w, wp), hi = std::clamp<int64_t>(g.in_w + g.pad_w, lo, wp);
    std::fill(row, row + lo, 0.0f);
    copy_strided(in + ih * row_stride + (lo - g.pad_w) * col_stride, col_stride, hi - lo, row + lo);
    std::fill(row + hi, row + wp, 0.0f);
  }
}

}  // namespace
}  // namespace tg::kernels::cpu
