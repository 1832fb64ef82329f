#pragma once
// The Conformer encoder of a CTC speech recogniser (NeMo's ConformerEncoder with "striding" subsampling and
// absolute positions): Conv2dSubsampling (4x in time) -> dropout -> ConformerBlock x num_layers. Lengths in,
// lengths out: a padded frame never changes a real frame's output, so a sequence in a padded batch gets in eval
// mode what it gets alone.
#include <memory>
#include <vector>

#include <tensorgrad/nn/conformer.h>

namespace tg::nn {

// Features [N, T, F] -> [N, T', d_model] with T' = the length after two 3x3 convolutions of stride 2 and
// padding 1 (each maps L to (L - 1) / 2 + 1, rounding down), each followed by ReLU; the channels and the
// remaining feature bins are flattened into one Linear (NeMo's ConvSubsampling, "striding").
class Conv2dSubsampling : public Module {
 public:
  Conv2dSubsampling(int64_t feat_in, int64_t d_model, int64_t channels, DType dtype = DType::Float32,
                    Generator& gen = default_generator());
  struct Output {
    Tensor output;   // [N, T', d_model]
    Tensor lengths;  // int64 [N]: each sample's frames after subsampling
  };
  // features [N, T, F]; lengths int64 [N] (frames of each sample; undefined: all T). Frames past a sample's
  // length are treated as zeros at every stage, as they would be at the end of the sample alone.
  Output forward(const Tensor& features, const Tensor& lengths);
  Tensor forward(const Tensor& features) override { return forward(features, {}).output; }
  // {features, lengths (optional)} -> {output, lengths}.
  TensorList forward_many(const TensorList& in) override {
    check_input_count(in, 1, 2);
    Output o = forward(in[0], input_at(in, 1));
    return {o.output, o.lengths};
  }
  std::string extra_repr() const override;
  // The subsampled length of `length` input frames.
  static int64_t output_length(int64_t length);

  std::shared_ptr<Conv2d> conv1, conv2;
  std::shared_ptr<Linear> out;

 private:
  int64_t feat_in_, channels_;
};

struct ConformerEncoderOptions {
  int64_t feat_in = 80;        // feature bins (e.g. log-mel)
  int64_t d_model = 144;
  int64_t num_layers = 16;
  int64_t num_heads = 4;
  int64_t ffn_dim = 576;       // NeMo: d_model * 4
  int64_t subsampling_channels = 144;
  int64_t depthwise_kernel_size = 31;
  double dropout = 0.1;
  std::optional<double> attention_dropout = std::nullopt;  // ConformerBlockOptions::attention_dropout
  DType dtype = DType::Float32;
  bool relative_positions = false;  // the blocks' self-attention (ConformerBlockOptions::relative_positions)
};

class ConformerEncoder : public Module {
 public:
  explicit ConformerEncoder(ConformerEncoderOptions options, Generator& gen = default_generator());
  // features [N, T, F], lengths int64 [N] -> [N, T', d_model] and the subsampled lengths.
  Conv2dSubsampling::Output forward(const Tensor& features, const Tensor& lengths);
  Tensor forward(const Tensor& features) override { return forward(features, {}).output; }
  // {features, lengths (optional)} -> {output, lengths}.
  TensorList forward_many(const TensorList& in) override {
    check_input_count(in, 1, 2);
    Conv2dSubsampling::Output o = forward(in[0], input_at(in, 1));
    return {o.output, o.lengths};
  }
  std::string extra_repr() const override;

  std::shared_ptr<Conv2dSubsampling> pre_encode;
  std::shared_ptr<Dropout> pre_dropout;
  std::vector<std::shared_ptr<ConformerBlock>> layers;

 private:
  ConformerEncoderOptions options_;
};

// The key padding mask of lengths: bool [N, T], true at t >= lengths[n].
Tensor padding_mask(const Tensor& lengths, int64_t time);

}  // namespace tg::nn
