#pragma once
// MultiheadAttention with torch.nn.MultiheadAttention's parameters, names and layout (in_proj_weight [3E, E],
// in_proj_bias [3E], out_proj.weight [E, E], out_proj.bias [E]), so a state dict moves between the two.
#include <memory>

#include <tensorgrad/core/random.h>
#include <tensorgrad/nn/linear.h>
#include <tensorgrad/nn/module.h>

namespace tg::nn {

struct MultiheadAttentionOptions {
  bool bias = true;
  double dropout = 0.0;      // on the attention weights, in training mode
  bool batch_first = false;  // inputs [N, L, E] instead of torch's default [L, N, E]
  DType dtype = DType::Float32;
};

class MultiheadAttention : public Module {
 public:
  MultiheadAttention(int64_t embed_dim, int64_t num_heads, MultiheadAttentionOptions options = {},
                     Generator& gen = default_generator());

  struct Output {
    Tensor output;   // [L, N, E] ([N, L, E] with batch_first)
    Tensor weights;  // [N, L, S] averaged over heads, or [N, H, L, S]; undefined unless need_weights
  };
  // As torch: key_padding_mask [N, S] (bool: true = ignore that key; float: added), attn_mask [L, S] or
  // [N * H, L, S] (bool: true = not allowed; float: added). A query that may attend to no key gives zeros
  // (torch gives NaN).
  Output forward(const Tensor& query, const Tensor& key, const Tensor& value, const Tensor& key_padding_mask = {},
                 bool need_weights = true, const Tensor& attn_mask = {}, bool average_attn_weights = true);
  // Self-attention of x, without weights.
  Tensor forward(const Tensor& x) override;
  // {query, key, value, key_padding_mask (optional), attn_mask (optional)} -> {output, weights} (weights
  // averaged over heads, as need_weights = true).
  TensorList forward_many(const TensorList& in) override {
    check_input_count(in, 3, 5);
    Output o = forward(in[0], in[1], in[2], input_at(in, 3), true, input_at(in, 4));
    return {o.output, o.weights};
  }
  std::string extra_repr() const override;

  Tensor in_proj_weight, in_proj_bias;
  std::shared_ptr<Linear> out_proj;

 private:
  int64_t embed_dim_, num_heads_;
  MultiheadAttentionOptions options_;
  Generator* gen_;  // the attention dropout's masks (the constructor's generator)
};

}  // namespace tg::nn
