#include "window.h"

namespace tg::ops {

namespace {

// One value per spatial dimension from an int-or-tuple argument.
Shape expand_arg(const SpatialArg& arg, size_t nd, const char* op, const char* what, const std::string& context,
                 const char* noun) {
  const auto& v = arg.values();
  TG_CHECK(v.size() == 1 || v.size() == nd, op, ": ", what, nd == 1 ? " needs 1 value" : " needs 1 or 2 values",
           " for ", nd, "-D ", noun, ", got ", v, "; ", context);
  return v.size() == 1 ? Shape(nd, v[0]) : Shape(v);
}

}  // namespace

Window make_window(const Shape& in, const SpatialArg& kernel, const SpatialArg& dilation, const SpatialArg& padding,
                   const SpatialArg& stride, const char* op, const std::string& context, const WindowRules& rules) {
  const size_t nd = in.size();
  Window w;
  w.in = in;
  w.kernel = expand_arg(kernel, nd, op, "kernel_size", context, rules.noun);
  w.stride = rules.stride_defaults_to_kernel && stride.empty()
                 ? w.kernel
                 : expand_arg(stride, nd, op, "stride", context, rules.noun);
  w.padding = expand_arg(padding, nd, op, "padding", context, rules.noun);
  w.dilation = expand_arg(dilation, nd, op, "dilation", context, rules.noun);
  for (size_t d = 0; d < nd; ++d) {
    TG_CHECK(w.kernel[d] > 0, op, ": kernel_size must be positive, got ", w.kernel, "; ", context);
    TG_CHECK(w.stride[d] > 0, op, ": stride must be positive, got ", w.stride, "; ", context);
    TG_CHECK(w.dilation[d] > 0, op, ": dilation must be positive, got ", w.dilation, "; ", context);
    TG_CHECK(w.padding[d] >= 0, op, ": padding must be non-negative, got ", w.padding, "; ", context);
    TG_CHECK(!rules.padding_at_most_half || 2 * w.padding[d] <= w.kernel[d], op, ": padding ", w.padding,
             " must be at most half of kernel_size ", w.kernel, "; ", context);
  }
  bool fits = true;
  for (size_t d = 0; d < nd; ++d) {
    const int64_t span = w.dilation[d] * (w.kernel[d] - 1) + 1;
    const int64_t room = in[d] + 2 * w.padding[d] - span;
    // Floor division, so a window that does not fit even once gives an output size below 1.
    const int64_t s = w.stride[d];
    w.out.push_back((room >= 0 ? room / s : -((-room + s - 1) / s)) + 1);
    fits &= room >= 0;
  }
  TG_CHECK(fits, op, ": kernel_size ", w.kernel, " with dilation ", w.dilation,
           " is larger than the padded input (spatial size ", in, ", padding ", w.padding, "): output size would be ",
           w.out, "; ", context);
  return w;
}

}  // namespace tg::ops
