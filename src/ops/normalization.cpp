// layer_norm and batch_norm. Both normalise over a set of dims with the biased variance and apply an
// optional affine map; they share one node whose VJP is written with tensor ops (grad-of-grad works).
// layer_norm in float32 / float64 runs the fused kernels (kernels::layer_norm_forward / _backward: one pass over
// memory each way instead of ~9 and ~12 elementwise ops) wherever the device has them; a backward that is itself
// recorded (create_graph) or carries tangents takes the composed VJP, which is the same function.
#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/normalization.h>
#include <tensorgrad/ops/reduce.h>
#include <tensorgrad/ops/view.h>

#include <tensorgrad/kernels/kernel_tables.h>

#include "profiling.h"
#include "record.h"

namespace tg {

namespace {

struct Normalized {
  Tensor out;
  Tensor mean;  // over `dims`, keepdim, no history
  Tensor var;   // biased, same shape, no history (undefined from the fused kernel: batch_norm never fuses)
};

// The fused kernels take layer_norm's trailing dims in float32 or float64 on a device that has them, with the
// weight and bias (if any) on x's device in its compute dtype; anything else composes.
bool fused_layer_norm_applies(const Tensor& x, const Tensor& w, const Tensor& b) {
  const DType dtype = compute_dtype(x.dtype());
  const DeviceType device = x.device().type;
  const kernels::KernelTables& tables = kernels::kernel_tables();
  if (!tables.layer_norm_forward.supports(device, dtype) || !tables.layer_norm_backward.supports(device, dtype))
    return false;
  for (const Tensor* p : {&w, &b})
    if (p->defined() && (p->dtype() != dtype || p->device() != x.device())) return false;
  return true;
}

// Rows of the trailing `cols` values: the problem the fused kernels see.
kernels::LayerNormProblem layer_norm_problem(const Tensor& x, const Dims& dims, double eps) {
  int64_t cols = 1;
  for (int64_t d : dims) cols *= x.size(d);
  return {cols == 0 ? 0 : x.numel() / cols, cols, eps};
}

// y, mean and rstd by the fused forward kernel (no history), all in x's compute dtype.
Tensor fused_layer_norm_forward(const Tensor& x, const Dims& dims, const Tensor& w, const Tensor& b, double eps,
                                Tensor& mean, Tensor& rstd) {
  const DType dtype = compute_dtype(x.dtype());
  const Tensor xc = contiguous(to(x, dtype));
  Shape stats = x.shape();
  for (int64_t d : dims) stats[static_cast<size_t>(d)] = 1;
  Tensor y = Tensor::empty(x.shape(), dtype, x.device());
  mean = Tensor::empty(stats, dtype, x.device());
  rstd = Tensor::empty(stats, dtype, x.device());
  const Tensor wc = w.defined() ? contiguous(w) : Tensor(), bc = b.defined() ? contiguous(b) : Tensor();
  kernels::LayerNormArgs args;
  args.x = ops::arg(xc), args.weight = ops::arg_or_none(wc), args.bias = ops::arg_or_none(bc);
  args.y = ops::arg(y), args.mean = ops::arg(mean), args.rstd = ops::arg(rstd);
  kernels::layer_norm_forward(layer_norm_problem(x, dims, eps), args);
  return y;
}

// {dx, dw, db} (each only when wanted; dw and db in the weight's shape) by the fused backward kernel.
TensorList fused_layer_norm_backward(const Tensor& g, const Tensor& x, const Tensor& w, const Tensor& mean,
                                     const Tensor& rstd, const Dims& dims, bool want_x, bool want_w, bool want_b) {
  const DType dtype = mean.dtype();
  const Tensor xc = contiguous(to(x, dtype)), gc = contiguous(to(g, dtype));
  const Tensor wc = w.defined() ? contiguous(w) : Tensor();
  Shape params;
  for (int64_t d : dims) params.push_back(x.size(d));
  const Tensor dx = want_x ? Tensor::empty(x.shape(), dtype, x.device()) : Tensor();
  const Tensor dw = want_w ? Tensor::empty(params, dtype, x.device()) : Tensor();
  const Tensor db = want_b ? Tensor::empty(params, dtype, x.device()) : Tensor();
  kernels::LayerNormArgs args;
  args.x = ops::arg(xc), args.weight = ops::arg_or_none(wc), args.mean = ops::arg(mean), args.rstd = ops::arg(rstd);
  args.grad_out = ops::arg(gc), args.grad_x = ops::arg_or_none(dx), args.grad_weight = ops::arg_or_none(dw);
  args.grad_bias = ops::arg_or_none(db);
  kernels::layer_norm_backward(layer_norm_problem(x, dims, 0.0), args);
  return {dx, dw, db};
}

// y = (x - mean) * rsqrt(var + eps) * w + b over `dims` (w, b optional and already broadcastable to x).
// VJP, with xhat = (x - mean) * rstd and gxhat = g * w:
//   dx = rstd * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat)),  dw = g * xhat,  db = g
// (dw and db in x's shape; the engine sums them back to w's and b's shapes).
// `fused`: layer_norm's trailing dims where fused_layer_norm_applies.
Normalized normalize_affine(const char* name, const Tensor& x, const Dims& dims, const Tensor& w, const Tensor& b,
                            double eps, bool fused = false) {
  Normalized r;
  Tensor rstd;
  if (fused) {
    NoGradGuard no_grad;
    NoTangentGuard no_tangent;
    DType out_dtype = x.dtype();
    for (const Tensor* p : {&w, &b})
      if (p->defined()) out_dtype = promote_types(out_dtype, p->dtype());
    r.out = to(fused_layer_norm_forward(x, dims, w, b, eps, r.mean, rstd), out_dtype);
  } else {
    NoGradGuard no_grad;
    NoTangentGuard no_tangent;
    // A 16-bit input is normalised in float32 and the result rounded once (as torch's CPU kernels): rounding
    // the mean to 8 bits first would leave x - mean with few correct bits when the values are close.
    DType out_dtype = x.dtype();
    for (const Tensor* p : {&w, &b})
      if (p->defined()) out_dtype = promote_types(out_dtype, p->dtype());
    const Tensor xc = to(x, compute_dtype(x.dtype()));
    r.mean = mean(xc, dims, /*keepdim=*/true);
    const Tensor centered = xc - r.mean;
    r.var = mean(centered * centered, dims, /*keepdim=*/true);
    rstd = rsqrt(r.var + eps);
    r.out = centered * rstd;
    if (w.defined()) r.out = r.out * w;
    if (b.defined()) r.out = r.out + b;
    r.out = to(r.out, out_dtype);
  }
  TensorList inputs{x};
  if (w.defined()) inputs.push_back(w);
  if (b.defined()) inputs.push_back(b);
  if (ops::needs_tangent(inputs)) {
    // d xhat = rstd (tx - mean(tx) - xhat mean(xhat tx)),  d y = d xhat w + xhat tw + tb.
    ops::push_tangent(inputs, r.out, [&](const TensorList& t) {
      const Tensor xhat = (x - r.mean) * rstd;
      Tensor dxhat;
      if (t[0].defined()) {
        dxhat = rstd * (t[0] - mean(t[0], dims, /*keepdim=*/true) - xhat * mean(xhat * t[0], dims, /*keepdim=*/true));
        if (w.defined()) dxhat = dxhat * w;
      }
      const size_t wi = 1, bi = w.defined() ? 2 : 1;
      const Tensor dw = w.defined() && t[wi].defined() ? xhat * t[wi] : Tensor();
      const Tensor db = b.defined() ? t[bi] : Tensor();
      return ops::sum_defined({dxhat, dw, db});
    });
  }
  if (!ops::needs_grad(inputs)) return r;

  const bool has_w = w.defined(), has_b = b.defined();
  const bool want_x = x.requires_grad(), want_w = has_w && w.requires_grad(), want_b = has_b && b.requires_grad();
  TensorList save{x};
  if (has_w) save.push_back(w);
  save.push_back(r.mean);
  save.push_back(rstd);
  ops::record(
      name, inputs, r.out,
      [dims, eps, fused, has_w, has_b, want_x, want_w, want_b](const Tensor& g, const TensorList& saved) -> TensorList {
        const Tensor& in = saved[0];
        const Tensor& weight = has_w ? saved[1] : saved[0];
        Tensor mu = saved[has_w ? 2 : 1], rs = saved[has_w ? 3 : 2];
        const bool differentiable_statistics = GradMode::enabled() || ops::has_tangent(in);
        if (fused && !differentiable_statistics && !ops::has_tangent(g)) {
          TensorList grads = fused_layer_norm_backward(g, in, has_w ? weight : Tensor(), mu, rs, dims, want_x,
                                                       has_w && want_w, has_b && want_b);
          if (!has_b) grads.pop_back();
          if (!has_w) grads.erase(grads.begin() + 1);
          return grads;
        }
        if (differentiable_statistics) {
          // Recording the backward pass (create_graph), or pushing tangents through it (forward-over-reverse):
          // the statistics must be functions of x, so recompute them with differentiable ops rather than using
          // the constants saved by the forward pass; in float32 for a 16-bit input, as the forward computed them.
          const Tensor wide = to(in, compute_dtype(in.dtype()));
          mu = mean(wide, dims, /*keepdim=*/true);
          const Tensor c = wide - mu;
          rs = rsqrt(mean(c * c, dims, /*keepdim=*/true) + eps);
        }
        const Tensor xhat = (in - mu) * rs;
        TensorList grads;
        if (want_x) {
          const Tensor gxhat = has_w ? g * weight : g;
          grads.push_back(rs * (gxhat - mean(gxhat, dims, /*keepdim=*/true) -
                                xhat * mean(gxhat * xhat, dims, /*keepdim=*/true)));
        } else {
          grads.emplace_back();
        }
        if (has_w) grads.push_back(want_w ? g * xhat : Tensor());
        if (has_b) grads.push_back(want_b ? g : Tensor());
        return grads;
      },
      {save});
  return r;
}

void check_input(const Tensor& x, const char* op) {
  TG_CHECK(x.defined(), op, ": input is undefined");
  TG_CHECK(is_floating(x.dtype()), op, ": input must be a floating dtype (float32, float64, bfloat16, float16), got ", dtype_name(x.dtype()),
           " (shape ", x.shape(), ")");
}

void check_param(const Tensor& p, const Shape& want, const char* op, const char* what, const Tensor& x) {
  if (!p.defined()) return;
  TG_CHECK(is_floating(p.dtype()), op, ": ", what, " must be a floating dtype (float32, float64, bfloat16, float16), got ", dtype_name(p.dtype()));
  TG_CHECK(p.shape() == want, op, ": ", what, " has shape ", p.shape(), " but input ", x.shape(), " needs ", want);
}

}  // namespace

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps) {
  TG_PROFILE_OP("layer_norm", x, weight, bias);
  const char* op = "tg::layer_norm";
  check_input(x, op);
  const auto k = static_cast<int64_t>(normalized_shape.size());
  TG_CHECK(k >= 1, op, ": normalized_shape must have at least one dimension, got ", normalized_shape);
  TG_CHECK(eps >= 0, op, ": eps must be non-negative, got ", eps);
  bool matches = k <= x.dim();
  for (int64_t i = 0; matches && i < k; ++i) matches = x.size(x.dim() - k + i) == normalized_shape[static_cast<size_t>(i)];
  TG_CHECK(matches, op, ": normalized_shape ", normalized_shape, " does not match the last dimensions of input ",
           x.shape());
  check_param(weight, normalized_shape, op, "weight", x);
  check_param(bias, normalized_shape, op, "bias", x);
  Dims dims;
  for (int64_t d = x.dim() - k; d < x.dim(); ++d) dims.push_back(d);
  return normalize_affine("layer_norm", x, dims, weight, bias, eps, fused_layer_norm_applies(x, weight, bias)).out;
}

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps) {
  TG_PROFILE_OP("batch_norm", x, running_mean, running_var, weight, bias);
  const char* op = "tg::batch_norm";
  check_input(x, op);
  TG_CHECK(x.dim() >= 2, op, ": input must be [N, C] or [N, C, *], got shape ", x.shape());
  TG_CHECK(eps >= 0, op, ": eps must be non-negative, got ", eps);
  const int64_t c = x.size(1);
  const Shape channels{c};
  check_param(weight, channels, op, "weight", x);
  check_param(bias, channels, op, "bias", x);
  check_param(running_mean, channels, op, "running_mean", x);
  check_param(running_var, channels, op, "running_var", x);
  TG_CHECK(running_mean.defined() == running_var.defined(), op,
           ": running_mean and running_var must be given together (one of them is undefined)");

  // [C] parameters viewed as [C, 1, ..., 1] so they broadcast against [N, C, *].
  Shape param_shape(static_cast<size_t>(x.dim() - 1), 1);
  param_shape[0] = c;
  auto as_param = [&](const Tensor& p) { return p.defined() ? reshape(p, param_shape) : p; };
  const Tensor w = as_param(weight), b = as_param(bias);

  if (!training) {
    TG_CHECK(running_mean.defined(), op,
             ": running_mean and running_var are needed in evaluation mode (training = false); pass training = "
             "true to normalise with batch statistics");
    // The running stats are buffers: constants here (never differentiated), read in the input's dtype.
    const Tensor rm = reshape(ops::cast_raw(running_mean.detach(), x.dtype()), param_shape);
    const Tensor rstd = rsqrt(reshape(ops::cast_raw(running_var.detach(), x.dtype()), param_shape) + eps);
    const Tensor scale = w.defined() ? w * rstd : rstd;
    Tensor out = (x - rm) * scale;
    if (b.defined()) out = out + b;
    return out;
  }

  int64_t count = x.size(0);
  for (int64_t d = 2; d < x.dim(); ++d) count *= x.size(d);
  TG_CHECK(count > 1, op, ": expected more than 1 value per channel when training, got input shape ", x.shape());
  Dims dims{0};
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  const Normalized r = normalize_affine("batch_norm", x, dims, w, b, eps);

  if (running_mean.defined()) {
    NoGradGuard no_grad;
    const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
    Tensor rm = running_mean, rv = running_var;
    rm.copy_(rm * (1.0 - momentum) + reshape(r.mean, channels) * momentum);
    rv.copy_(rv * (1.0 - momentum) + reshape(r.var, channels) * (momentum * unbias));
  }
  return r.out;
}

Tensor group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight, const Tensor& bias, double eps) {
  TG_PROFILE_OP("group_norm", x);
  TG_CHECK(x.defined() && x.dim() >= 2, "tg::group_norm: expected an input [N, C, *], got ",
           x.defined() ? detail::concat(x.shape()) : std::string("an undefined tensor"));
  const int64_t n = x.size(0), c = x.size(1);
  TG_CHECK(num_groups > 0 && c % num_groups == 0, "tg::group_norm: ", c, " channels do not split into ", num_groups,
           " groups (input ", x.shape(), ")");
  for (const Tensor* p : {&weight, &bias})
    TG_CHECK(!p->defined() || p->shape() == Shape{c}, "tg::group_norm: weight and bias must be [", c, "], got ",
             p->shape());
  // Each (sample, group) is one row of a layer norm over its C / G * (spatial) values.
  const Tensor rows = reshape(x, {n, num_groups, -1});
  Tensor y = reshape(layer_norm(rows, {rows.size(2)}, {}, {}, eps), x.shape());
  Shape per_channel(static_cast<size_t>(x.dim()), 1);
  per_channel[1] = c;
  if (weight.defined()) y = y * reshape(weight, per_channel);
  if (bias.defined()) y = y + reshape(bias, per_channel);
  return y;
}

Tensor rms_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight, std::optional<double> eps) {
  TG_PROFILE_OP("rms_norm", x);
  TG_CHECK(x.defined() && is_floating(x.dtype()), "tg::rms_norm: expected a floating input");
  const auto k = static_cast<int64_t>(normalized_shape.size());
  TG_CHECK(k <= x.dim() && Shape(x.shape().end() - k, x.shape().end()) == normalized_shape, "tg::rms_norm: ",
           "normalized_shape ", detail::concat(normalized_shape), " is not the trailing dims of input ", x.shape());
  TG_CHECK(!weight.defined() || weight.shape() == normalized_shape, "tg::rms_norm: weight must have shape ",
           detail::concat(normalized_shape), ", got ", weight.shape());
  const double e = eps ? *eps : [&] {
    switch (x.dtype()) {
      case DType::Float64: return 2.220446049250313e-16;
      case DType::BFloat16: return 0.0078125;
      case DType::Float16: return 0.0009765625;
      default: return 1.1920928955078125e-07;
    }
  }();
  Dims dims;
  for (int64_t d = x.dim() - k; d < x.dim(); ++d) dims.push_back(d);
  Tensor y = x * rsqrt(mean(x * x, dims, /*keepdim=*/true) + e);
  if (weight.defined()) y = y * weight;
  return y;
}

}  // namespace tg
