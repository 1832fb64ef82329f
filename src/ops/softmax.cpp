// softmax and log_softmax: fused, stable forward kernels; VJPs from the saved output.
#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/reduce.h>
#include <tensorgrad/ops/softmax.h>

#include "profiling.h"
#include "record.h"

namespace tg {

namespace {

Tensor softmax_forward(const Tensor& x, int64_t dim, bool log) {
  const char* op = log ? "tg::log_softmax" : "tg::softmax";
  const int64_t d = wrap_dim(dim, x.dim(), op);
  const Tensor xf = ops::cast_raw(x, is_floating(x.dtype()) ? x.dtype() : default_float_dtype());
  Tensor out = Tensor::empty(xf.shape(), xf.dtype(), xf.device());
  const kernels::SoftmaxOp kind = log ? kernels::SoftmaxOp::LogSoftmax : kernels::SoftmaxOp::Softmax;
  if (xf.dim() == 0) {
    // The kernel needs a real dimension to run along: a 0-d tensor is one row of length 1.
    kernels::softmax(kind, {1}, 0, ops::arg(out.as_strided({1}, {0}, 0)), ops::arg(xf.as_strided({1}, {0}, xf.offset())));
  } else {
    kernels::softmax(kind, xf.shape(), d, ops::arg(out), ops::arg(xf));
  }
  return out;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) {
  TG_PROFILE_OP("softmax", x);
  Tensor out = softmax_forward(x, dim, /*log=*/false);
  if (ops::needs_tangent({x})) {
    // `y`, an alias of the output without autograd state, so a tangent that requires grad saves no reference
    // back to `out` (which will hold that tangent: a cycle never freed).
    ops::push_tangent({x}, out, [&](const TensorList& t) {
      const Tensor y = out.detach();
      return y * (t[0] - sum(t[0] * y, {dim}, true));
    });
  }
  if (ops::needs_grad({x})) {
    ops::record(
        "softmax", {x}, out,
        [dim](const Tensor& g, const TensorList& saved) -> TensorList {
          const Tensor& y = saved[0];
          return {y * (g - sum(g * y, {dim}, /*keepdim=*/true))};
        },
        {{}, /*output=*/true});
  }
  return out;
}

Tensor log_softmax(const Tensor& x, int64_t dim) {
  TG_PROFILE_OP("log_softmax", x);
  Tensor out = softmax_forward(x, dim, /*log=*/true);
  if (ops::needs_tangent({x})) {
    ops::push_tangent({x}, out, [&](const TensorList& t) { return t[0] - sum(exp(out) * t[0], {dim}, true); });
  }
  if (ops::needs_grad({x})) {
    ops::record(
        "log_softmax", {x}, out,
        [dim](const Tensor& g, const TensorList& saved) -> TensorList {
          return {g - exp(saved[0]) * sum(g, {dim}, /*keepdim=*/true)};
        },
        {{}, /*output=*/true});
  }
  return out;
}

}  // namespace tg
