// The recogniser (model.h).
#include "model.h"

#include <tensorgrad/tensorgrad.h>

#include "vocabulary.h"

namespace tg::asr {

std::map<std::string, std::string> ModelConfig::to_metadata() const {
  return {{"model.d_model", std::to_string(d_model)}, {"model.layers", std::to_string(layers)},
          {"model.heads", std::to_string(heads)},     {"model.ffn_dim", std::to_string(ffn_dim)},
          {"model.kernel", std::to_string(kernel)},   {"model.subsampling_channels", std::to_string(subsampling_channels)},
          {"model.dropout", std::to_string(dropout)}, {"model.attention_dropout", std::to_string(attention_dropout)}};
}

ModelConfig ModelConfig::from_metadata(const std::map<std::string, std::string>& m) {
  auto get = [&](const std::string& key) {
    const auto it = m.find("model." + key);
    TG_CHECK(it != m.end(), "tg_asr: the checkpoint has no model.", key, " (not a tg_asr checkpoint?)");
    return it->second;
  };
  ModelConfig c;
  c.d_model = std::stoll(get("d_model"));
  c.layers = std::stoll(get("layers"));
  c.heads = std::stoll(get("heads"));
  c.ffn_dim = std::stoll(get("ffn_dim"));
  c.kernel = std::stoll(get("kernel"));
  c.subsampling_channels = std::stoll(get("subsampling_channels"));
  c.dropout = std::stod(get("dropout"));
  c.attention_dropout = std::stod(get("attention_dropout"));
  return c;
}

ConformerCtc::ConformerCtc(const ModelConfig& c, Generator& gen) : Module("ConformerCtc") {
  nn::ConformerEncoderOptions o;
  o.feat_in = 80;
  o.d_model = c.d_model;
  o.num_layers = c.layers;
  o.num_heads = c.heads;
  o.ffn_dim = c.ffn_dim;
  o.subsampling_channels = c.subsampling_channels;
  o.depthwise_kernel_size = c.kernel;
  o.dropout = c.dropout;
  o.attention_dropout = c.attention_dropout;
  encoder = register_module("encoder", std::make_shared<nn::ConformerEncoder>(o, gen));
  head = register_module("head", std::make_shared<nn::Linear>(c.d_model, kClasses, nn::LinearOptions{}, gen));
}

ConformerCtc::Output ConformerCtc::forward(const Tensor& features, const Tensor& lengths) {
  const auto enc = encoder->forward(features, lengths);
  return {log_softmax(head->forward(enc.output), -1), enc.lengths};
}

}  // namespace tg::asr
