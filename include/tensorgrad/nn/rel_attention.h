#pragma once
// Multi-head self-attention with relative positions, as Transformer-XL (Dai et al. 2019) and the Conformer paper
// use it and NeMo's RelPositionMultiHeadAttention / ESPnet's rel_pos build it, with NeMo's parameter names:
//   score(i, j) = ((q_i + u) . k_j + (q_i + v) . p_{i-j}) / sqrt(d_k)
// per head, with q, k from linear_q / linear_k, p_r = linear_pos(pe(r)) the projected sinusoidal encoding of the
// relative position r = i - j, and u = pos_bias_u, v = pos_bias_v learned per head. The position term is
// computed for all 2T - 1 relative positions at once and shifted into place (NeMo's rel_shift, done here as a
// gather), then enters the softmax as an additive score, so padding and fully masked rows behave as in
// scaled_dot_product_attention.
#include <memory>

#include <tensorgrad/nn/linear.h>
#include <tensorgrad/nn/module.h>

namespace tg::nn {

// The sinusoidal encodings of the relative positions T - 1, T - 2, ..., -(T - 1): [1, 2T - 1, d_model], with
// pe[r, 2i] = sin(r / 10000^(2i / d_model)) and pe[r, 2i + 1] = cos(...) (NeMo's RelPositionalEncoding).
Tensor relative_positional_encoding(int64_t time, int64_t d_model, DType dtype = DType::Float32);

struct RelPositionMultiHeadAttentionOptions {
  double dropout = 0.0;  // on the attention weights, in training mode
  DType dtype = DType::Float32;
};

class RelPositionMultiHeadAttention : public Module {
 public:
  RelPositionMultiHeadAttention(int64_t d_model, int64_t num_heads, RelPositionMultiHeadAttentionOptions options = {},
                                Generator& gen = default_generator());
  // x [N, T, D]; pos_emb [1, 2T - 1, D] (relative_positional_encoding(T, D)); key_padding_mask [N, T] bool,
  // true on padded frames, or undefined. Returns [N, T, D].
  Tensor forward(const Tensor& x, const Tensor& pos_emb, const Tensor& key_padding_mask);
  Tensor forward(const Tensor& x) override;
  // {x, pos_emb, key_padding_mask (optional)} -> {output}.
  TensorList forward_many(const TensorList& in) override {
    check_input_count(in, 2, 3);
    return {forward(in[0], in[1], input_at(in, 2))};
  }
  std::string extra_repr() const override;

  std::shared_ptr<Linear> linear_q, linear_k, linear_v, linear_out, linear_pos;
  Tensor pos_bias_u, pos_bias_v;  // [H, d_k]

 private:
  int64_t d_model_, num_heads_;
  RelPositionMultiHeadAttentionOptions options_;
  Generator* gen_;  // the attention dropout's masks (the constructor's generator)
};

}  // namespace tg::nn
