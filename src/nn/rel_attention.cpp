// Relative-position multi-head self-attention (see rel_attention.h).
#include <tensorgrad/nn/rel_attention.h>

#include <cmath>

#include <tensorgrad/nn/init.h>
#include <tensorgrad/ops/attention.h>
#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/linalg.h>
#include <tensorgrad/ops/masking.h>
#include <tensorgrad/ops/movement.h>
#include <tensorgrad/ops/view.h>

namespace tg::nn {

Tensor relative_positional_encoding(int64_t time, int64_t d_model, DType dtype) {
  TG_CHECK(time >= 1 && d_model >= 2 && d_model % 2 == 0, "nn::relative_positional_encoding: need time >= 1 and an "
           "even d_model >= 2, got time ", time, ", d_model ", d_model);
  // positions [2T - 1, 1]: T - 1 down to -(T - 1); frequencies [1, D / 2].
  const Tensor positions = unsqueeze(arange(static_cast<double>(time - 1), static_cast<double>(-time), -1.0,
                                            DType::Float64),
                                     1);
  const Tensor freq = unsqueeze(exp(arange(0.0, static_cast<double>(d_model), 2.0, DType::Float64) *
                                    (-std::log(10000.0) / static_cast<double>(d_model))),
                                0);
  const Tensor angle = positions * freq;  // [2T - 1, D / 2]
  // Interleave: [..., D / 2, 2] (sin, cos) -> [..., D].
  const Tensor pe = reshape(stack({sin(angle), cos(angle)}, 2), {1, 2 * time - 1, d_model});
  return pe.to(dtype);
}

RelPositionMultiHeadAttention::RelPositionMultiHeadAttention(int64_t d_model, int64_t num_heads,
                                                             RelPositionMultiHeadAttentionOptions options,
                                                             Generator& gen)
    : Module("RelPositionMultiHeadAttention"), d_model_(d_model), num_heads_(num_heads), options_(options), gen_(&gen) {
  TG_CHECK(num_heads > 0 && d_model > 0 && d_model % num_heads == 0, "nn::RelPositionMultiHeadAttention: d_model ",
           d_model, " must split into ", num_heads, " heads");
  const LinearOptions with_bias{true, options.dtype};
  linear_q = register_module("linear_q", std::make_shared<Linear>(d_model, d_model, with_bias, gen));
  linear_k = register_module("linear_k", std::make_shared<Linear>(d_model, d_model, with_bias, gen));
  linear_v = register_module("linear_v", std::make_shared<Linear>(d_model, d_model, with_bias, gen));
  linear_out = register_module("linear_out", std::make_shared<Linear>(d_model, d_model, with_bias, gen));
  linear_pos = register_module("linear_pos", std::make_shared<Linear>(d_model, d_model, LinearOptions{false, options.dtype}, gen));
  // Zeros, as NeMo initialises them.
  const int64_t dk = d_model / num_heads;
  pos_bias_u = register_parameter("pos_bias_u", zeros({num_heads, dk}, options.dtype));
  pos_bias_v = register_parameter("pos_bias_v", zeros({num_heads, dk}, options.dtype));
}

Tensor RelPositionMultiHeadAttention::forward(const Tensor& x, const Tensor& pos_emb, const Tensor& key_padding_mask) {
  const char* op = "nn::RelPositionMultiHeadAttention";
  TG_CHECK(x.dim() == 3 && x.size(2) == d_model_, op, ": x must be [N, T, ", d_model_, "], got ", x.shape());
  const int64_t n = x.size(0), t = x.size(1), h = num_heads_, dk = d_model_ / num_heads_;
  TG_CHECK(pos_emb.dim() == 3 && pos_emb.size(0) == 1 && pos_emb.size(1) == 2 * t - 1 && pos_emb.size(2) == d_model_,
           op, ": pos_emb must be [1, 2T - 1, D] = [1, ", 2 * t - 1, ", ", d_model_, "], got ", pos_emb.shape());
  TG_CHECK(!key_padding_mask.defined() ||
               (key_padding_mask.dtype() == DType::Bool && key_padding_mask.shape() == Shape{n, t}),
           op, ": key_padding_mask must be bool [N, T] = [", n, ", ", t, "]");
  auto heads = [&](const Tensor& y, int64_t rows) {  // [B, R, D] -> [B, H, R, dk]
    return transpose(reshape(y, {y.size(0), rows, h, dk}), 1, 2);
  };
  const Tensor q = heads(linear_q->forward(x), t), k = heads(linear_k->forward(x), t), v = heads(linear_v->forward(x), t);
  const Tensor p = heads(linear_pos->forward(pos_emb), 2 * t - 1);   // [1, H, 2T - 1, dk]
  const Tensor u = reshape(pos_bias_u, {1, h, 1, dk}), w = reshape(pos_bias_v, {1, h, 1, dk});
  // Position scores for every relative position, then shifted: bd[i, j] = all[i, (T - 1) - i + j], the entry of
  // relative position i - j.
  const Tensor all = matmul(q + w, transpose(p, 2, 3));  // [N, H, T, 2T - 1]
  const Tensor i = unsqueeze(arange(t, x.device()), 1), j = unsqueeze(arange(t, x.device()), 0);
  const Tensor index = expand(reshape((j - i) + (t - 1), {1, 1, t, t}), {n, h, t, t});
  const double scale = 1.0 / std::sqrt(static_cast<double>(dk));
  Tensor bias = gather(all, 3, index) * scale;  // an additive score
  if (key_padding_mask.defined())
    bias = masked_fill(bias, reshape(key_padding_mask, {n, 1, 1, t}), -INFINITY);
  AttentionOptions attention;
  attention.attn_mask = bias;
  attention.scale = scale;
  attention.dropout_p = is_training() ? options_.dropout : 0.0;
  const Tensor y = scaled_dot_product_attention(q + u, k, v, attention, *gen_);  // [N, H, T, dk]
  return linear_out->forward(reshape(transpose(y, 1, 2), {n, t, d_model_}));
}

Tensor RelPositionMultiHeadAttention::forward(const Tensor& x) {
  TG_CHECK(x.dim() == 3, "nn::RelPositionMultiHeadAttention: x must be [N, T, D], got ", x.shape());
  return forward(x, relative_positional_encoding(x.size(1), d_model_, x.dtype()), {});
}

std::string RelPositionMultiHeadAttention::extra_repr() const {
  return detail::concat("d_model=", d_model_, ", num_heads=", num_heads_, ", dropout=", options_.dropout);
}

}  // namespace tg::nn
