#pragma once
// Which output positions of a sliding window read inside the input, worked out once per kernel offset, so
// the loops of im2col, col2im and max pooling need no bounds test per element.
#include <algorithm>
#include <cstdint>
#include <vector>

namespace tg::kernels::cpu {

// Output positions o in [lo, hi) whose input position o * stride + offset lies in [0, size).
struct Span {
  int64_t lo = 0, hi = 0;
};

inline Span valid_span(int64_t offset, int64_t stride, int64_t size, int64_t out_size) {
  Span s;
  s.lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  s.hi = size - 1 - offset >= 0 ? (size - 1 - offset) / stride + 1 : 0;
  s.lo = std::min(s.lo, out_size);
  s.hi = std::clamp(s.hi, s.lo, out_size);
  return s;
}

// Spans for every kernel offset along one axis: kernel index k reads input o * stride + k * dilation - pad.
inline std::vector<Span> spans(int64_t kernel, int64_t stride, int64_t pad, int64_t dilation, int64_t size,
                               int64_t out_size) {
  std::vector<Span> out(static_cast<size_t>(kernel));
  for (int64_t k = 0; k < kernel; ++k)
    out[static_cast<size_t>(k)] = valid_span(k * dilation - pad, stride, size, out_size);
  return out;
}

}  // namespace tg::kernels::cpu
