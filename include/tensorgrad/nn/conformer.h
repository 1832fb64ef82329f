#pragma once
// The Conformer block (Gulati et al. 2020) as torchaudio.models.Conformer's ConformerLayer builds it, with
// absolute positions (the attention is plain multi-head self-attention): half-step feed-forward,
// self-attention, convolution module (pointwise conv, GLU, depthwise conv, BatchNorm, SiLU, pointwise conv),
// half-step feed-forward, final LayerNorm, each block with a residual connection.
#include <memory>
#include <optional>

#include <tensorgrad/nn/attention.h>
#include <tensorgrad/nn/conv.h>
#include <tensorgrad/nn/dropout.h>
#include <tensorgrad/nn/linear.h>
#include <tensorgrad/nn/normalization.h>
#include <tensorgrad/nn/rel_attention.h>

namespace tg::nn {

struct ConformerBlockOptions {
  int64_t ffn_dim = 576;
  int64_t depthwise_kernel_size = 31;  // odd: the depthwise conv keeps the length ("same" padding)
  double dropout = 0.1;
  // On the attention weights; unset: `dropout` (torchaudio's ConformerLayer). 0 keeps the attention on its
  // fused kernel in training too (dropout takes the composed path, which holds the [T, T] weights).
  std::optional<double> attention_dropout = std::nullopt;
  DType dtype = DType::Float32;
  // Self-attention with relative positions (RelPositionMultiHeadAttention, NeMo's rel_pos) instead of plain
  // multi-head attention (torchaudio's); the block makes the encodings for its length itself.
  bool relative_positions = false;
};

// x + 0.5 * (LayerNorm -> Linear -> SiLU -> Dropout -> Linear -> Dropout)(x)
class ConformerFeedForward : public Module {
 public:
  ConformerFeedForward(int64_t d_model, int64_t ffn_dim, double dropout, DType dtype, Generator& gen);
  Tensor forward(const Tensor& x) override;  // the block alone, [N, T, D] -> [N, T, D] (no residual)
  std::shared_ptr<LayerNorm> layer_norm;
  std::shared_ptr<Linear> linear1, linear2;
  std::shared_ptr<Dropout> dropout1, dropout2;
};

// LayerNorm -> pointwise Conv1d (D -> 2D) -> GLU -> depthwise Conv1d -> BatchNorm1d -> SiLU -> pointwise
// Conv1d -> Dropout, over [N, T, D]. Padded frames (key_padding_mask true) are zeroed before the depthwise
// conv, so they never reach a real frame through its window.
class ConformerConvModule : public Module {
 public:
  ConformerConvModule(int64_t d_model, int64_t kernel_size, double dropout, DType dtype, Generator& gen);
  Tensor forward(const Tensor& x, const Tensor& key_padding_mask);
  Tensor forward(const Tensor& x) override { return forward(x, {}); }
  // {x, key_padding_mask (optional)} -> {output}.
  TensorList forward_many(const TensorList& in) override {
    check_input_count(in, 1, 2);
    return {forward(in[0], input_at(in, 1))};
  }
  std::shared_ptr<LayerNorm> layer_norm;
  std::shared_ptr<Conv1d> pointwise_conv1, depthwise_conv, pointwise_conv2;
  std::shared_ptr<BatchNorm1d> batch_norm;
  std::shared_ptr<Dropout> dropout;
};

class ConformerBlock : public Module {
 public:
  ConformerBlock(int64_t d_model, int64_t num_heads, ConformerBlockOptions options = {},
                 Generator& gen = default_generator());
  // x [N, T, D]; key_padding_mask [N, T] bool (true: a padded frame) or undefined.
  Tensor forward(const Tensor& x, const Tensor& key_padding_mask);
  Tensor forward(const Tensor& x) override { return forward(x, {}); }
  // {x, key_padding_mask (optional)} -> {output}.
  TensorList forward_many(const TensorList& in) override {
    check_input_count(in, 1, 2);
    return {forward(in[0], input_at(in, 1))};
  }
  std::string extra_repr() const override;

  std::shared_ptr<ConformerFeedForward> ffn1, ffn2;
  std::shared_ptr<LayerNorm> self_attn_layer_norm, final_layer_norm;
  std::shared_ptr<MultiheadAttention> self_attn;                // absolute positions (the default), or
  std::shared_ptr<RelPositionMultiHeadAttention> rel_self_attn;  // relative ones; registered as "self_attn"
  std::shared_ptr<Dropout> self_attn_dropout;
  std::shared_ptr<ConformerConvModule> conv_module;

 private:
  ConformerBlockOptions options_;
};

}  // namespace tg::nn
