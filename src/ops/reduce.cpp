// Reductions: sum, mean, prod, max/min, argmax/argmin, var/std, logsumexp and sum_to.
#include <algorithm>
#include <cmath>
#include <limits>

#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/reduce.h>
#include <tensorgrad/ops/view.h>

#include "profiling.h"
#include "record.h"

namespace tg {

namespace {

using kernels::ReduceOp;

// Which input dims a reduction removes, and the shapes it produces.
struct Plan {
  std::vector<bool> reduced;  // one flag per input dim
  Dims dims;                  // the reduced dims, wrapped and ascending
  Shape kept;                 // output shape with keepdim
  Shape out;                  // output shape as requested
  int64_t count = 1;          // input elements per output element
  bool keepdim = false;
};

Plan make_plan(const Shape& shape, const Dims& dims, bool keepdim, const char* op) {
  const auto ndim = static_cast<int64_t>(shape.size());
  Plan p;
  p.keepdim = keepdim;
  p.reduced.assign(shape.size(), dims.empty());
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(d, ndim, op);
    if (ndim == 0) continue;  // a 0-d tensor accepts dim 0 / -1 and has nothing to reduce
    TG_CHECK(!p.reduced[static_cast<size_t>(w)], op, ": dimension ", d, " appears more than once in ", dims);
    p.reduced[static_cast<size_t>(w)] = true;
  }
  for (size_t d = 0; d < shape.size(); ++d) {
    if (p.reduced[d]) {
      p.dims.push_back(static_cast<int64_t>(d));
      p.count *= shape[d];
      p.kept.push_back(1);
      if (keepdim) p.out.push_back(1);
    } else {
      p.kept.push_back(shape[d]);
      p.out.push_back(shape[d]);
    }
  }
  return p;
}

// Runs the reduce kernel on `x` (already of the kernel's dtype) into a fresh tensor of shape p.out.
Tensor reduce_raw(ReduceOp op, const Tensor& x, const Plan& p, DType out_dtype) {
  Tensor out = Tensor::empty(p.out, out_dtype, x.device());
  // The kernel wants out's strides over the input shape, 0 in the reduced dims.
  Strides strides(p.reduced.size(), 0);
  size_t od = 0;
  for (size_t d = 0; d < p.reduced.size(); ++d) {
    if (!p.reduced[d]) strides[d] = out.strides()[od++];
    else if (p.keepdim) ++od;
  }
  kernels::reduce(op, x.shape(), p.reduced, {out.data_ptr(), strides, out_dtype, out.device().type}, ops::arg(x));
  return out;
}

// A gradient of the output's shape brought back to the kept shape (size-1 reduced dims), so it broadcasts
// against the input.
Tensor restore_dims(Tensor g, const Plan& p) {
  if (p.keepdim) return g;
  for (int64_t d : p.dims) g = unsqueeze(g, d);
  return g;
}

DType float_dtype(DType d) { return is_floating(d) ? d : default_float_dtype(); }

void check_not_empty(const Tensor& x, const Plan& p, const char* op) {
  TG_CHECK(p.count > 0, op, ": cannot reduce over an empty dimension (input shape ", x.shape(), ", dims ", p.dims,
           ")");
}

Tensor max_min(const Tensor& x, const Dims& dims, bool keepdim, bool is_max) {
  TG_PROFILE_OP(is_max ? "max" : "min", x);
  const char* op = is_max ? "tg::max" : "tg::min";
  const Plan p = make_plan(x.shape(), dims, keepdim, op);
  check_not_empty(x, p, op);
  Tensor out = reduce_raw(is_max ? ReduceOp::Max : ReduceOp::Min, x, p, x.dtype());
  if (ops::needs_tangent({x})) {
    // The tangent of the winner, averaged over ties (the same split as the VJP).
    ops::push_tangent({x}, out, [&](const TensorList& t) {
      const Tensor mask = to(eq(x, restore_dims(out, p)), x.dtype());
      return sum(t[0] * mask, p.dims, keepdim) / sum(mask, p.dims, keepdim);
    });
  }
  if (ops::needs_grad({x})) {
    // Ties share the gradient evenly, so the sum over the slice stays equal to the output's gradient.
    ops::record(
        is_max ? "max" : "min", {x}, out,
        [p](const Tensor& g, const TensorList& saved) -> TensorList {
          const Tensor& in = saved[0];
          const Tensor mask = to(eq(in, restore_dims(saved[1], p)), in.dtype());
          const Tensor ties = sum(mask, p.dims, /*keepdim=*/true);
          return {restore_dims(g, p) * mask / ties};
        },
        {{x}, /*output=*/true});
  }
  return out;
}

// d prod / d x_i (the product of the other elements of x_i's slice), in x's shape. out / x_i breaks at zeros.
// With x_safe = x with its zeros replaced by 1 and P = prod(x_safe), per slice:
//   no zero:   P / x_i
//   one zero:  P at the zero; elsewhere P / x_i * (the zero element itself), which is 0 but keeps the
//              right derivative with respect to the zero for second order
//   more:      0
Tensor prod_factor(const Tensor& in, const Plan& p) {
  const Tensor zero = scalar_like(0, in);
  const Tensor is_zero = eq(in, zero);
  const Tensor x_safe = where(is_zero, Scalar(1.0), in);
  const Tensor p_safe = prod(x_safe, p.dims, /*keepdim=*/true);
  const Tensor zeros_in_slice = sum(is_zero, p.dims, /*keepdim=*/true);
  const Tensor zero_value = sum(where(is_zero, in, Scalar(0.0)), p.dims, /*keepdim=*/true);
  const Tensor scale = where(eq(zeros_in_slice, scalar_like(0, zeros_in_slice)), Scalar(1.0), zero_value);
  const Tensor others = where(is_zero, p_safe, p_safe / x_safe * scale);
  return where(le(zeros_in_slice, scalar_like(1, zeros_in_slice)), others, Scalar(0.0));
}

Tensor arg_reduce(const Tensor& x, std::optional<int64_t> dim, bool keepdim, bool is_max) {
  TG_PROFILE_OP(is_max ? "argmax" : "argmin", x);
  const char* op = is_max ? "tg::argmax" : "tg::argmin";
  Dims dims;
  if (dim) dims.push_back(*dim);
  Plan p = make_plan(x.shape(), dims, keepdim, op);
  check_not_empty(x, p, op);
  return reduce_raw(is_max ? ReduceOp::ArgMax : ReduceOp::ArgMin, x, p, DType::Int64);
}

}  // namespace

Tensor sum(const Tensor& x, const Dims& dims, bool keepdim) {
  TG_PROFILE_OP("sum", x);
  const Plan p = make_plan(x.shape(), dims, keepdim, "tg::sum");
  const DType dt = is_floating(x.dtype()) ? x.dtype() : DType::Int64;
  Tensor out = reduce_raw(ReduceOp::Sum, ops::cast_raw(x, dt), p, dt);
  if (ops::needs_tangent({x}))
    ops::push_tangent({x}, out, [&](const TensorList& t) { return sum(t[0], dims, keepdim); });
  if (ops::needs_grad({x})) {
    const Shape in_shape = x.shape();
    ops::record("sum", {x}, out, [p, in_shape](const Tensor& g, const TensorList&) -> TensorList {
      return {expand(restore_dims(g, p), in_shape)};
    });
  }
  return out;
}

Tensor mean(const Tensor& x, const Dims& dims, bool keepdim) {
  TG_PROFILE_OP("mean", x);
  const Plan p = make_plan(x.shape(), dims, keepdim, "tg::mean");
  Tensor out;
  {
    NoGradGuard no_grad;
    NoTangentGuard no_tangent;
    // An empty reduction divides 0 by 0: NaN, as in PyTorch.
    out = div(sum(ops::cast_raw(x, float_dtype(x.dtype())), dims, keepdim), Scalar(p.count));
  }
  if (ops::needs_tangent({x}))
    ops::push_tangent({x}, out, [&](const TensorList& t) {
      // Over an empty slice the value is 0 / 0 but the Jacobian has no columns: J v = 0.
      return p.count == 0 ? zeros_like(out) : mean(t[0], dims, keepdim);
    });
  if (ops::needs_grad({x})) {
    const Shape in_shape = x.shape();
    ops::record("mean", {x}, out, [p, in_shape](const Tensor& g, const TensorList&) -> TensorList {
      return {expand(restore_dims(g, p), in_shape) / Scalar(p.count)};
    });
  }
  return out;
}

Tensor prod(const Tensor& x, const Dims& dims, bool keepdim) {
  TG_PROFILE_OP("prod", x);
  const Plan p = make_plan(x.shape(), dims, keepdim, "tg::prod");
  const DType dt = is_floating(x.dtype()) ? x.dtype() : DType::Int64;
  Tensor out = reduce_raw(ReduceOp::Prod, ops::cast_raw(x, dt), p, dt);
  if (ops::needs_tangent({x})) {
    ops::push_tangent({x}, out, [&](const TensorList& t) { return sum(t[0] * prod_factor(x, p), p.dims, keepdim); });
  }
  if (ops::needs_grad({x})) {
    // d out / d x_i is the product of the other elements; out / x_i breaks at zeros. With x_safe = x with its
    // zeros replaced by 1 and P = prod(x_safe), per slice:
    //   no zero:   P / x_i
    //   one zero:  P at the zero; elsewhere P / x_i * (the zero element itself), which is 0 but keeps the
    //              right derivative with respect to the zero for second order
    //   more:      0
    ops::record(
        "prod", {x}, out,
        [p](const Tensor& g, const TensorList& saved) -> TensorList {
          return {restore_dims(g, p) * prod_factor(saved[0], p)};
        },
        {{x}});
  }
  return out;
}

Tensor max(const Tensor& x, const Dims& dims, bool keepdim) { return max_min(x, dims, keepdim, true); }
Tensor min(const Tensor& x, const Dims& dims, bool keepdim) { return max_min(x, dims, keepdim, false); }

Tensor argmax(const Tensor& x, std::optional<int64_t> dim, bool keepdim) { return arg_reduce(x, dim, keepdim, true); }
Tensor argmin(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  return arg_reduce(x, dim, keepdim, false);
}

Tensor var(const Tensor& x, const Dims& dims, int64_t correction, bool keepdim) {
  TG_PROFILE_OP("var", x);
  const Plan p = make_plan(x.shape(), dims, keepdim, "tg::var");
  TG_CHECK(correction >= 0, "tg::var: correction must be non-negative, got ", correction);
  // N <= correction divides by zero or less: inf/NaN, as in PyTorch.
  const double denom = static_cast<double>(p.count - correction);
  Tensor out;
  {
    NoGradGuard no_grad;
    NoTangentGuard no_tangent;
    const Tensor xf = ops::cast_raw(x, float_dtype(x.dtype()));
    const Tensor centered = xf - mean(xf, dims, /*keepdim=*/true);
    out = sum(centered * centered, dims, keepdim) / Scalar(denom);
  }
  if (ops::needs_tangent({x})) {
    ops::push_tangent({x}, out, [&](const TensorList& t) {
      const Tensor centered = x - mean(x, p.dims, /*keepdim=*/true);
      return sum(centered * t[0], p.dims, keepdim) * Scalar(2.0 / denom);
    });
  }
  if (ops::needs_grad({x})) {
    ops::record(
        "var", {x}, out,
        [p, denom](const Tensor& g, const TensorList& saved) -> TensorList {
          const Tensor& in = saved[0];
          const Tensor centered = in - mean(in, p.dims, /*keepdim=*/true);
          return {restore_dims(g, p) * centered * Scalar(2.0 / denom)};
        },
        {{x}});
  }
  return out;
}

Tensor std(const Tensor& x, const Dims& dims, int64_t correction, bool keepdim) {
  TG_PROFILE_OP("std", x);
  return sqrt(var(x, dims, correction, keepdim));
}

Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim) {
  TG_PROFILE_OP("logsumexp", x);
  const Plan p = make_plan(x.shape(), dims, keepdim, "tg::logsumexp");
  Tensor out;
  {
    NoGradGuard no_grad;
    NoTangentGuard no_tangent;
    const Tensor xf = ops::cast_raw(x, float_dtype(x.dtype()));
    // The shift only keeps exp in range; an infinite maximum (or an empty slice) shifts by 0 instead, so
    // inf - inf never appears, and an empty slice gives log(0) = -inf.
    Tensor m = p.count > 0 ? max(xf, dims, /*keepdim=*/true) : zeros(p.kept, xf.dtype(), xf.device());
    m = where(eq(abs(m), scalar_like(std::numeric_limits<double>::infinity(), m)), Scalar(0.0), m);
    const Tensor m_out = keepdim ? m : reshape(m, p.out);
    out = log(sum(exp(xf - m), dims, keepdim)) + m_out;
  }
  if (ops::needs_tangent({x})) {
    ops::push_tangent({x}, out, [&](const TensorList& t) {
      return sum(exp(x - restore_dims(out, p)) * t[0], p.dims, keepdim);
    });
  }
  if (ops::needs_grad({x})) {
    ops::record(
        "logsumexp", {x}, out,
        [p](const Tensor& g, const TensorList& saved) -> TensorList {
          return {restore_dims(g, p) * exp(saved[0] - restore_dims(saved[1], p))};
        },
        {{x}, /*output=*/true});
  }
  return out;
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  TG_PROFILE_OP("sum_to", x);
  if (x.shape() == shape) return x;
  TG_CHECK(is_broadcastable_to(shape, x.shape()), "tg::sum_to: shape ", x.shape(), " cannot be summed to ", shape,
           " (", shape, " does not broadcast to ", x.shape(), ")");
  const size_t lead = x.shape().size() - shape.size();
  Dims dims;
  for (size_t d = 0; d < x.shape().size(); ++d)
    if (d < lead || (shape[d - lead] == 1 && x.shape()[d] != 1)) dims.push_back(static_cast<int64_t>(d));
  // Shapes differ, so some dim is reduced and `dims` is never the empty "all dims" list.
  return reshape(sum(x, dims, /*keepdim=*/true), shape);
}

}  // namespace tg
