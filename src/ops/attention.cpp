// scaled_dot_product_attention: the fused kernel (attention_forward / attention_backward, which never hold the
// [L, S] scores) where it applies, and the composition of differentiable ops (the reference formulation) for
// dropout, a mask that needs a gradient, and kernels a device lacks. Forward mode and a backward that must
// itself be differentiated (create_graph) use composed rules, which do hold [L, S].
#include <tensorgrad/ops/attention.h>

#include <cmath>
#include <limits>

#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/dropout.h>
#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/linalg.h>
#include <tensorgrad/ops/reduce.h>
#include <tensorgrad/ops/softmax.h>
#include <tensorgrad/ops/view.h>
#include <tensorgrad/kernels/kernel_tables.h>

#include "profiling.h"
#include "record.h"

namespace tg {

namespace {

void check_qkv(const char* op, const Tensor& q, const Tensor& k, const Tensor& v, const AttentionOptions& options) {
  TG_CHECK(q.defined() && k.defined() && v.defined(), op, ": q, k and v must be defined");
  TG_CHECK(q.dim() >= 2 && k.dim() >= 2 && v.dim() >= 2, op, ": q, k and v need at least 2 dims [..., L, E], got ",
           q.shape(), ", ", k.shape(), ", ", v.shape());
  TG_CHECK(is_floating(q.dtype()) && q.dtype() == k.dtype() && q.dtype() == v.dtype(), op,
           ": q, k and v must share one floating dtype, got ", dtype_name(q.dtype()), ", ", dtype_name(k.dtype()),
           ", ", dtype_name(v.dtype()));
  ops::check_same_device(op, {q, k, v, options.attn_mask});
  const int64_t E = q.size(-1);
  TG_CHECK(k.size(-1) == E, op, ": q ", q.shape(), " and k ", k.shape(), " disagree on the embedding size E");
  TG_CHECK(v.size(-2) == k.size(-2), op, ": k ", k.shape(), " and v ", v.shape(), " disagree on the number of keys S");
  TG_CHECK(options.dropout_p >= 0.0 && options.dropout_p <= 1.0, op, ": dropout_p must be in [0, 1], got ",
           options.dropout_p);
}

Tensor weights(const char* op, const Tensor& q, const Tensor& k, const AttentionOptions& options, Generator& gen) {
  const int64_t L = q.size(-2), S = k.size(-2), E = q.size(-1);
  const double scale = options.scale.value_or(1.0 / std::sqrt(static_cast<double>(E)));

  Tensor scores = matmul(q, transpose(k, -2, -1)) * scale;  // [..., L, S]
  constexpr double kNegInf = -std::numeric_limits<double>::infinity();
  const Tensor& mask = options.attn_mask;
  if (mask.defined()) {
    TG_CHECK(is_broadcastable_to(mask.shape(), scores.shape()), op, ": attn_mask ", mask.shape(),
             " does not broadcast to the scores ", scores.shape(), " ([..., L, S])");
    if (mask.dtype() == DType::Bool) scores = where(mask, scores, Scalar(kNegInf));
    else scores = scores + mask.to(scores.dtype());
  }
  if (options.is_causal) {
    // Key j is visible to query i when j <= i.
    const Tensor rows = unsqueeze(arange(L, q.device()), 1), cols = unsqueeze(arange(S, q.device()), 0);
    scores = where(le(cols, rows), scores, Scalar(kNegInf));
  }
  Tensor attn;
  if (mask.defined() || options.is_causal) {
    // A row with every key excluded would be softmax of all -inf (NaN): give it finite scores, then zero
    // weights, so its output and every gradient through it are zero.
    Tensor valid;
    {
      NoGradGuard no_grad;
      NoTangentGuard no_tangent;
      valid = gt(max(scores.detach(), {-1}, /*keepdim=*/true), Scalar(kNegInf));  // [..., L, 1]
    }
    attn = softmax(where(valid, scores, Scalar(0.0)), -1) * valid.to(scores.dtype());
  } else {
    attn = softmax(scores, -1);
  }
  if (options.dropout_p > 0.0) attn = dropout(attn, options.dropout_p, /*training=*/true, gen);
  return attn;
}

double scale_of(const Tensor& q, const AttentionOptions& options) {
  return options.scale.value_or(1.0 / std::sqrt(static_cast<double>(q.size(-1))));
}

Shape with_matrix(Shape batch, int64_t rows, int64_t cols) {
  batch.push_back(rows);
  batch.push_back(cols);
  return batch;
}
Shape batch_of(const Tensor& x) { return Shape(x.shape().begin(), x.shape().end() - 2); }

// The fused kernel covers everything but dropout and a mask that needs a gradient, on devices and dtypes
// that register it.
bool fused_applies(const Tensor& q, const AttentionOptions& options) {
  const Tensor& mask = options.attn_mask;
  if (options.dropout_p > 0.0) return false;
  if (mask.defined() && (ops::needs_grad({mask}) || ops::needs_tangent({mask}))) return false;
  const auto& tables = kernels::kernel_tables();
  return tables.attention_forward.supports(q.device().type, q.dtype()) &&
         tables.attention_backward.supports(q.device().type, q.dtype());
}

// The composed gradient of softmax(q k^T s + mask) v with respect to q, k and v: differentiable, so a recorded
// backward (create_graph) can be differentiated again.
TensorList composed_vjp(const Tensor& g, const Tensor& q, const Tensor& k, const Tensor& v,
                        const AttentionOptions& options) {
  const double scale = scale_of(q, options);
  const Tensor p = weights("tg::scaled_dot_product_attention", q, k, options, default_generator());
  const Tensor dp = matmul(g, transpose(v, -2, -1));
  const Tensor ds = p * (dp - sum(dp * p, {-1}, /*keepdim=*/true)) * scale;
  return {sum_to(matmul(ds, k), q.shape()), sum_to(matmul(transpose(ds, -2, -1), q), k.shape()),
          sum_to(matmul(transpose(p, -2, -1), g), v.shape())};
}

// The kernels' q, k, v and mask arguments over the problem's broadcast batch.
kernels::AttentionArgs operands(const kernels::AttentionProblem& p, const Tensor& q, const Tensor& k, const Tensor& v,
                                const Tensor& mask) {
  const Shape& b = p.batch;
  return {.q = ops::arg(q, with_matrix(b, p.queries, p.head_dim)), .k = ops::arg(k, with_matrix(b, p.keys, p.head_dim)),
          .v = ops::arg(v, with_matrix(b, p.keys, p.value_dim)),
          .mask = mask.defined() ? ops::arg(mask, with_matrix(b, p.queries, p.keys)) : kernels::StridedArg{}};
}

// The VJP: the fused backward kernel, or the composed rule when the backward must itself be differentiated:
// recorded (create_graph) or carrying tangents (forward-over-reverse, e.g. a Hessian-vector product).
TensorList attention_vjp(const kernels::AttentionProblem& problem, const AttentionOptions& options, const Tensor& g,
                         const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& lse, const Tensor& out) {
  if (ops::needs_grad({g, q, k, v}) || ops::needs_tangent({g, q, k, v})) return composed_vjp(g, q, k, v, options);
  const Shape& batch = problem.batch;
  const int64_t L = problem.queries, S = problem.keys, E = problem.head_dim, Ev = problem.value_dim;
  Tensor dq = Tensor::empty(with_matrix(batch, L, E), q.dtype(), q.device());
  Tensor dk = Tensor::empty(with_matrix(batch, S, E), q.dtype(), q.device());
  Tensor dv = Tensor::empty(with_matrix(batch, S, Ev), q.dtype(), q.device());
  kernels::AttentionArgs args = operands(problem, q, k, v, options.attn_mask);
  args.out = ops::arg(out);
  args.lse = ops::arg(lse);
  args.grad_out = ops::arg(g, out.shape());
  args.grad_q = ops::arg(dq);
  args.grad_k = ops::arg(dk);
  args.grad_v = ops::arg(dv);
  kernels::attention_backward(problem, args);
  NoGradGuard no_grad;
  return {sum_to(dq, q.shape()), sum_to(dk, k.shape()), sum_to(dv, v.shape())};
}

Tensor fused_attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionOptions& options) {
  const char* op = "tg::scaled_dot_product_attention";
  const int64_t L = q.size(-2), S = k.size(-2), E = q.size(-1), Ev = v.size(-1);
  const Shape batch = broadcast_shapes(broadcast_shapes(batch_of(q), batch_of(k), op), batch_of(v), op);
  Tensor mask = options.attn_mask;
  if (mask.defined()) {
    TG_CHECK(is_broadcastable_to(mask.shape(), with_matrix(batch, L, S)), op, ": attn_mask ", mask.shape(),
             " does not broadcast to the scores ", with_matrix(batch, L, S), " ([..., L, S])");
    if (mask.dtype() != DType::Bool && mask.dtype() != q.dtype()) mask = ops::cast_raw(mask, q.dtype());
  }
  const kernels::AttentionProblem problem{.batch = batch, .queries = L, .keys = S, .head_dim = E, .value_dim = Ev,
                                          .scale = scale_of(q, options), .causal = options.is_causal};
  const DType lse_dtype = is_half(q.dtype()) ? DType::Float32 : q.dtype();
  Tensor out = Tensor::empty(with_matrix(batch, L, Ev), q.dtype(), q.device());
  Shape lse_shape = batch;
  lse_shape.push_back(L);
  Tensor lse = Tensor::empty(lse_shape, lse_dtype, q.device());
  kernels::AttentionArgs args = operands(problem, q, k, v, mask);
  args.out = ops::arg(out);
  args.lse = ops::arg(lse);
  kernels::attention_forward(problem, args);

  if (ops::needs_tangent({q, k, v})) {
    ops::push_tangent({q, k, v}, out, [&](const TensorList& t) {
      const double scale = problem.scale;
      const Tensor p = weights(op, q, k, options, default_generator());
      Tensor ds = ops::sum_defined({t[0].defined() ? matmul(t[0], transpose(k, -2, -1)) : Tensor(),
                                    t[1].defined() ? matmul(q, transpose(t[1], -2, -1)) : Tensor()});
      Tensor dp;
      if (ds.defined()) {
        ds = ds * scale;
        dp = p * (ds - sum(p * ds, {-1}, /*keepdim=*/true));
      }
      return ops::sum_defined({dp.defined() ? matmul(dp, v) : Tensor(), t[2].defined() ? matmul(p, t[2]) : Tensor()});
    });
  }
  if (ops::needs_grad({q, k, v})) {
    AttentionOptions saved_options = options;
    saved_options.attn_mask = Tensor();  // saved (version-checked) below instead
    TensorList save{q, k, v, lse};
    if (mask.defined()) save.push_back(mask);
    ops::record(
        "scaled_dot_product_attention", {q, k, v}, out,
        [problem, saved_options, has_mask = mask.defined()](const Tensor& g, const TensorList& saved) -> TensorList {
          AttentionOptions opts = saved_options;
          if (has_mask) opts.attn_mask = saved[4];
          return attention_vjp(problem, opts, g, saved[0], saved[1], saved[2], saved[3], saved.back());
        },
        {save, /*output=*/true});
  }
  return out;
}

}  // namespace

Tensor attention_weights(const Tensor& q, const Tensor& k, const AttentionOptions& options, Generator& gen) {
  TG_PROFILE_OP("attention_weights", q, k);
  const char* op = "tg::attention_weights";
  check_qkv(op, q, k, k, options);
  return weights(op, q, k, options, gen);
}

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const AttentionOptions& options, Generator& gen) {
  TG_PROFILE_OP("scaled_dot_product_attention", q, k, v);
  const char* op = "tg::scaled_dot_product_attention";
  check_qkv(op, q, k, v, options);
  if (fused_applies(q, options)) return fused_attention(q, k, v, options);
  return matmul(weights(op, q, k, options, gen), v);
}

}  // namespace tg
