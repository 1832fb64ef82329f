#pragma once
// TransformerEncoderLayer as torch.nn.TransformerEncoderLayer: self-attention and a feed-forward block, each
// with a residual connection and LayerNorm, before (norm_first) or after the block. Parameter names follow
// torch (self_attn.*, linear1.*, linear2.*, norm1.*, norm2.*), so a state dict moves between the two.
#include <memory>

#include <tensorgrad/nn/attention.h>
#include <tensorgrad/nn/dropout.h>
#include <tensorgrad/nn/linear.h>
#include <tensorgrad/nn/normalization.h>

namespace tg::nn {

struct TransformerEncoderLayerOptions {
  int64_t dim_feedforward = 2048;
  double dropout = 0.1;
  bool gelu = false;  // the feed-forward activation: ReLU (torch's default) or exact GELU
  double layer_norm_eps = 1e-5;
  bool batch_first = false;
  bool norm_first = false;  // pre-norm: x + block(norm(x)); post-norm (default): norm(x + block(x))
  DType dtype = DType::Float32;
};

class TransformerEncoderLayer : public Module {
 public:
  TransformerEncoderLayer(int64_t d_model, int64_t nhead, TransformerEncoderLayerOptions options = {},
                          Generator& gen = default_generator());
  // src [S, N, E] ([N, S, E] with batch_first); masks as nn::MultiheadAttention's.
  Tensor forward(const Tensor& src, const Tensor& src_mask, const Tensor& src_key_padding_mask);
  Tensor forward(const Tensor& src) override { return forward(src, {}, {}); }
  // {src, src_mask (optional), src_key_padding_mask (optional)} -> {output}.
  TensorList forward_many(const TensorList& in) override {
    check_input_count(in, 1, 3);
    return {forward(in[0], input_at(in, 1), input_at(in, 2))};
  }
  std::string extra_repr() const override;

  std::shared_ptr<MultiheadAttention> self_attn;
  std::shared_ptr<Linear> linear1, linear2;
  std::shared_ptr<LayerNorm> norm1, norm2;
  std::shared_ptr<Dropout> dropout, dropout1, dropout2;

 private:
  TransformerEncoderLayerOptions options_;
};

}  // namespace tg::nn
