// Inverted dropout with a counter-based (Philox) mask: the mask depends only on the generator's seed and
// offset, never on the thread count.
#include <algorithm>

#include <tensorgrad/ops/dropout.h>
#include <tensorgrad/ops/elementwise.h>

#include <tensorgrad/kernels/kernel_tables.h>

#include "profiling.h"
#include "record.h"

namespace tg {

namespace {

// keep ? v / q : 0 composed of differentiable ops: what a recorded backward, a tangent and a device without the
// fused kernel use.
Tensor composed_masked_divide(const Tensor& keep, const Tensor& v, double q) { return where(keep, v / q, Scalar(0.0)); }

// The same values (a division, +0 for a dropped element), no history: one pass where the device has the fused
// kernel.
Tensor masked_divide(const Tensor& keep, const Tensor& v, double q) {
  if (!kernels::kernel_tables().masked_divide.supports(v.device().type, v.dtype()) || keep.device() != v.device())
    return composed_masked_divide(keep, v, q);
  Tensor out = Tensor::empty(v.shape(), v.dtype(), v.device());
  kernels::masked_divide(v.shape(), ops::arg(out), ops::arg(keep, v.shape()), ops::arg(v), q);
  return out;
}

}  // namespace

Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
  TG_PROFILE_OP("dropout", x);
  TG_CHECK(x.defined(), "tg::dropout: input is undefined");
  TG_CHECK(p >= 0.0 && p <= 1.0, "tg::dropout: probability p must be in [0, 1], got ", p);
  TG_CHECK(is_floating(x.dtype()), "tg::dropout: input must be a floating dtype (float32, float64, bfloat16, float16), got ", dtype_name(x.dtype()),
           " (shape ", x.shape(), ")");
  if (!training || p == 0.0) return x;

  // keep[i] for element i in row-major order: draw i % 4 of block first + i / 4 is at least p.
  Tensor keep = Tensor::empty(x.shape(), DType::Bool, x.device());
  if (p == 1.0) {
    kernels::fill(keep.shape(), ops::arg(keep), 0.0);
  } else {
    constexpr kernels::RandomOp kBernoulli = kernels::RandomOp::Bernoulli;
    kernels::RandomParams params{.seed = gen.seed(), .threshold = p};
    params.first_block = gen.reserve(kernels::random_blocks(kBernoulli, DType::Bool, keep.numel()));
    kernels::random(kBernoulli, keep.shape(), ops::arg(keep), params);
  }

  const double q = 1.0 - p;
  Tensor out;
  {
    NoGradGuard no_grad;
    NoTangentGuard no_tangent;
    // Kept values are x / (1 - p) exactly (division, not multiplication by a rounded reciprocal).
    out = masked_divide(keep, x, q);
  }
  if (ops::needs_tangent({x}))
    ops::push_tangent({x}, out, [&](const TensorList& t) { return composed_masked_divide(keep, t[0], q); });
  if (ops::needs_grad({x})) {
    ops::record(
        "dropout", {x}, out,
        [q](const Tensor& g, const TensorList& saved) -> TensorList {
          // A recorded backward (create_graph) or one carrying tangents needs the composed, differentiable form.
          if (GradMode::enabled() || ops::has_tangent(g)) return {composed_masked_divide(saved[0], g, q)};
          return {masked_divide(saved[0], g, q)};
        },
        {{keep}});
  }
  return out;
}

}  // namespace tg
