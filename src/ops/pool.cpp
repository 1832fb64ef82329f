// Pooling. Max: a kernel finds each window's maximum and its position in one pass; the values equal a gather
// of those positions from the flattened [N, C, H*W] input and are recorded with gather's rules, so the
// backward is one scatter_add (the gradient goes to the first maximum of a window, as in PyTorch) and higher
// orders come from gather's rules. Where no such kernel exists, the values are that gather. Average: windows
// from im2col ([N, C * K, L] viewed as [N, C, K, L]) summed over K. Every differentiable step is a recorded
// op, so gradients of any order come from their rules.
#include <string>

#include <tensorgrad/kernels/kernel_tables.h>
#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/movement.h>
#include <tensorgrad/ops/pool.h>
#include <tensorgrad/ops/reduce.h>
#include <tensorgrad/ops/view.h>

#include "gather_vjp.h"
#include "profiling.h"
#include "record.h"
#include "window.h"

namespace tg {

namespace {

using ops::geometry;
using ops::image_arg;
using ops::Window;

// Checks the input and the window (PyTorch's rules: positive kernel, stride and dilation, padding at most
// half the kernel, at least one output position) and works out the output size.
Window check_pool(const Tensor& x, const SpatialArg& kernel, const SpatialArg& stride, const SpatialArg& padding,
                  const SpatialArg& dilation, size_t nd, const char* op) {
  const std::string context = "input " + shape_str(x.shape());
  const int64_t rank = static_cast<int64_t>(nd) + 2;
  TG_CHECK(x.dim() == rank, op, ": input must be ", rank, "-D ", nd == 1 ? "[N, C, L]" : "[N, C, H, W]", ", got ",
           x.dim(), "-D; ", context);
  TG_CHECK(is_floating(x.dtype()), op, ": expected a floating input (float32, float64, bfloat16, float16), got ",
           dtype_name(x.dtype()), "; ", context);
  const Shape in(x.shape().begin() + 2, x.shape().end());
  return ops::make_window(in, kernel, dilation, padding, stride, op, context,
                          {.noun = "pooling", .stride_defaults_to_kernel = true, .padding_at_most_half = true});
}

// im2col's windows as [N, C, K, L].
Tensor windows(const Tensor& x, const Window& w, double pad_value) {
  const Tensor cols = im2col(x, SpatialArg(w.kernel), SpatialArg(w.dilation), SpatialArg(w.padding),
                             SpatialArg(w.stride), pad_value);
  return reshape(cols, {x.size(0), x.size(1), numel_of(w.kernel), numel_of(w.out)});
}

// [N, C, L] -> [N, C, *out].
Tensor unflatten(const Tensor& t, const Window& w) {
  Shape shape{t.size(0), t.size(1)};
  shape.insert(shape.end(), w.out.begin(), w.out.end());
  return reshape(t, shape);
}

// [N, C, L] int64: each window's maximum as a position in the flattened spatial plane of `x`.
Tensor window_argmax(const Tensor& x, const Window& w) {
  Tensor index = Tensor::empty({x.size(0), x.size(1), numel_of(w.out)}, DType::Int64, x.device());
  if (index.numel() > 0) kernels::max_pool_indices(geometry(w, x.size(0), x.size(1)), ops::arg(index), image_arg(x));
  return index;
}

// The values with their positions from one kernel pass (kernels::max_pool), recorded as the gather from the
// flattened plane they equal: the same VJP (gather_vjp) and tangent (gather of the tangent's plane).
Tensor max_pool_values(const Tensor& x, const Window& w, size_t nd) {
  const int64_t n = x.size(0), c = x.size(1), l = numel_of(w.out);
  Tensor values = Tensor::empty({n, c, l}, x.dtype(), x.device());
  Tensor index = Tensor::empty({n, c, l}, DType::Int64, x.device());
  if (values.numel() > 0) kernels::max_pool(geometry(w, n, c), ops::arg(values), ops::arg(index), image_arg(x));
  const Shape plane_shape{n, c, numel_of(w.in)};
  if (ops::needs_tangent({x}))
    ops::push_tangent({x}, values, [&](const TensorList& t) { return gather(reshape(t[0], plane_shape), 2, index); });
  if (ops::needs_grad({x})) {
    const Shape x_shape = x.shape();
    ops::record(
        nd == 1 ? "max_pool1d" : "max_pool2d", {x}, values,
        [plane_shape, x_shape](const Tensor& g, const TensorList& saved) -> TensorList {
          return {reshape(ops::gather_vjp(plane_shape, 2, saved[0], g), x_shape)};
        },
        {{index}});
  }
  return values;
}

Tensor max_pool(const Tensor& x, const SpatialArg& kernel, const SpatialArg& stride, const SpatialArg& padding,
                const SpatialArg& dilation, size_t nd, const char* op) {
  const Window w = check_pool(x, kernel, stride, padding, dilation, nd, op);
  if (kernels::kernel_tables().max_pool.supports(x.device().type, x.dtype()))
    return unflatten(max_pool_values(x, w, nd), w);
  // Other dtypes and devices: the positions, then a gather of the values.
  const Tensor index = window_argmax(x, w);
  const Tensor plane = reshape(x, {x.size(0), x.size(1), numel_of(w.in)});
  return unflatten(gather(plane, 2, index), w);
}

Tensor avg_pool(const Tensor& x, const SpatialArg& kernel, const SpatialArg& stride, const SpatialArg& padding,
                bool count_include_pad, size_t nd, const char* op) {
  const Window w = check_pool(x, kernel, stride, padding, 1, nd, op);
  const Tensor sums = sum(windows(x, w, 0.0), {2});  // [N, C, L]
  const int64_t k = numel_of(w.kernel);
  bool padded = false;
  for (int64_t p : w.padding) padded |= p > 0;
  if (count_include_pad || !padded) return unflatten(sums / Scalar(static_cast<double>(k)), w);
  // Per window position, the number of kernel offsets that land inside the input, a product over the
  // spatial dims of the per-axis counts.
  std::vector<double> counts(static_cast<size_t>(numel_of(w.out)), 1.0);
  int64_t inner = 1;
  for (size_t d = nd; d-- > 0;) {
    for (size_t pos = 0; pos < counts.size(); ++pos) {
      const int64_t o = (static_cast<int64_t>(pos) / inner) % w.out[d];
      const int64_t start = o * w.stride[d] - w.padding[d];
      int64_t inside = 0;
      for (int64_t j = 0; j < w.kernel[d]; ++j) inside += start + j >= 0 && start + j < w.in[d];
      counts[pos] *= static_cast<double>(inside);
    }
    inner *= w.out[d];
  }
  const Tensor divisor = to(from_vector(counts, {numel_of(w.out)}, x.device()), x.dtype());
  return unflatten(sums / divisor, w);
}

}  // namespace

Tensor max_pool1d(const Tensor& x, const SpatialArg& kernel_size, const SpatialArg& stride, const SpatialArg& padding,
                  const SpatialArg& dilation) {
  TG_PROFILE_OP("max_pool1d", x);
  return max_pool(x, kernel_size, stride, padding, dilation, 1, "tg::max_pool1d");
}

Tensor max_pool2d(const Tensor& x, const SpatialArg& kernel_size, const SpatialArg& stride, const SpatialArg& padding,
                  const SpatialArg& dilation) {
  TG_PROFILE_OP("max_pool2d", x);
  return max_pool(x, kernel_size, stride, padding, dilation, 2, "tg::max_pool2d");
}

Tensor avg_pool1d(const Tensor& x, const SpatialArg& kernel_size, const SpatialArg& stride, const SpatialArg& padding,
                  bool count_include_pad) {
  TG_PROFILE_OP("avg_pool1d", x);
  return avg_pool(x, kernel_size, stride, padding, count_include_pad, 1, "tg::avg_pool1d");
}

Tensor avg_pool2d(const Tensor& x, const SpatialArg& kernel_size, const SpatialArg& stride, const SpatialArg& padding,
                  bool count_include_pad) {
  TG_PROFILE_OP("avg_pool2d", x);
  return avg_pool(x, kernel_size, stride, padding, count_include_pad, 2, "tg::avg_pool2d");
}

}  // namespace tg
