#pragma once
// A sliding window over [N, C, *spatial] inputs (1 or 2 spatial dims), shared by convolution and pooling:
// the checked parameters and the 2-D kernel geometry they give.
#include <string>

#include <tensorgrad/kernels/kernels.h>
#include <tensorgrad/ops/conv.h>

#include "record.h"

namespace tg::ops {

// The window parameters along each spatial dimension (1 or 2 of them) and the output size they give.
struct Window {
  Shape in, kernel, stride, padding, dilation, out;
  int64_t kernel_numel() const { return numel_of(kernel); }
  int64_t positions() const { return numel_of(out); }
};

// What differs between the callers' window rules; the rest (positive kernel, stride and dilation,
// non-negative padding, at least one output position) is common.
struct WindowRules {
  const char* noun = "windows";         // in "needs 1 or 2 values for 2-D <noun>"
  bool stride_defaults_to_kernel = false;  // an empty stride means the kernel size (pooling)
  bool padding_at_most_half = false;       // PyTorch's pooling rule
};

// Checks the window parameters over spatial size `in` and works out the output size. `context` names the
// operands for messages.
Window make_window(const Shape& in, const SpatialArg& kernel, const SpatialArg& dilation, const SpatialArg& padding,
                   const SpatialArg& stride, const char* op, const std::string& context, const WindowRules& rules = {});

inline kernels::WindowGeometry geometry(const Window& w, int64_t batch, int64_t channels) {
  kernels::WindowGeometry g;
  g.batch = batch;
  g.channels = channels;
  const size_t last = w.in.size() - 1;  // width; a 1-D window keeps height 1
  g.in_w = w.in[last];
  g.out_w = w.out[last];
  g.kernel_w = w.kernel[last];
  g.stride_w = w.stride[last];
  g.pad_w = w.padding[last];
  g.dilation_w = w.dilation[last];
  if (w.in.size() == 2) {
    g.in_h = w.in[0];
    g.out_h = w.out[0];
    g.kernel_h = w.kernel[0];
    g.stride_h = w.stride[0];
    g.pad_h = w.padding[0];
    g.dilation_h = w.dilation[0];
  }
  return g;
}

// Kernel strides for an [N, C, *spatial] tensor (1-D gets a size-1 height with stride 0).
inline kernels::StridedArg image_arg(const Tensor& t) {
  const Strides& s = t.strides();
  if (t.dim() == 4) return ops::arg(t);
  return {t.data_ptr(), {s[0], s[1], 0, s[2]}, t.dtype(), t.device().type};
}

}  // namespace tg::ops
