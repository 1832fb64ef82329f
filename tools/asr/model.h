#pragma once
// The recogniser: a Conformer encoder (4x convolutional subsampling, then Conformer blocks) and a linear CTC
// head over the alphabet, log-probabilities out.
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <tensorgrad/nn/conformer_encoder.h>
#include <tensorgrad/nn/linear.h>
#include <tensorgrad/nn/module.h>

namespace tg::asr {

struct ModelConfig {
  int64_t d_model = 144;
  int64_t layers = 4;
  int64_t heads = 4;
  int64_t ffn_dim = 576;
  int64_t kernel = 15;
  int64_t subsampling_channels = 144;
  double dropout = 0.1;
  double attention_dropout = 0.0;  // 0: the fused attention kernel in training too
  // As strings (checkpoint metadata) and back.
  std::map<std::string, std::string> to_metadata() const;
  static ModelConfig from_metadata(const std::map<std::string, std::string>& m);
};

class ConformerCtc : public nn::Module {
 public:
  ConformerCtc(const ModelConfig& config, Generator& gen = default_generator());
  struct Output {
    Tensor log_probs;  // [N, T', classes]
    Tensor lengths;    // int64 [N]
  };
  // features [N, T, 80], lengths int64 [N].
  Output forward(const Tensor& features, const Tensor& lengths);
  Tensor forward(const Tensor& features) override { return forward(features, {}).log_probs; }
  TensorList forward_many(const TensorList& in) override {
    check_input_count(in, 1, 2);
    Output o = forward(in[0], input_at(in, 1));
    return {o.log_probs, o.lengths};
  }

  std::shared_ptr<nn::ConformerEncoder> encoder;
  std::shared_ptr<nn::Linear> head;
};

}  // namespace tg::asr
