// scaled_dot_product_attention composed of differentiable ops: the reference formulation, with gradients of
// every order and forward mode from the ops it is made of.
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
  return matmul(weights(op, q, k, options, gen), v);
}

}  // namespace tg
