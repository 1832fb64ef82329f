#include <tensorgrad/nn/transformer.h>

#include <tensorgrad/base/error.h>
#include <tensorgrad/ops/elementwise.h>

namespace tg::nn {

TransformerEncoderLayer::TransformerEncoderLayer(int64_t d_model, int64_t nhead, TransformerEncoderLayerOptions options,
                                                 Generator& gen)
    : Module("TransformerEncoderLayer"), options_(options) {
  TG_CHECK(options.dim_feedforward > 0, "nn::TransformerEncoderLayer: dim_feedforward must be positive, got ",
           options.dim_feedforward);
  // Registered in torch's order, so named_parameters() lists them as torch does.
  self_attn = register_module(
      "self_attn", std::make_shared<MultiheadAttention>(
                       d_model, nhead,
                       MultiheadAttentionOptions{.dropout = options.dropout, .batch_first = options.batch_first,
                                                 .dtype = options.dtype},
                       gen));
  linear1 = register_module("linear1", std::make_shared<Linear>(d_model, options.dim_feedforward,
                                                                LinearOptions{.dtype = options.dtype}, gen));
  dropout = register_module("dropout", std::make_shared<Dropout>(options.dropout, gen));
  linear2 = register_module("linear2", std::make_shared<Linear>(options.dim_feedforward, d_model,
                                                                LinearOptions{.dtype = options.dtype}, gen));
  const LayerNormOptions norm{.eps = options.layer_norm_eps, .dtype = options.dtype};
  norm1 = register_module("norm1", std::make_shared<LayerNorm>(Shape{d_model}, norm));
  norm2 = register_module("norm2", std::make_shared<LayerNorm>(Shape{d_model}, norm));
  dropout1 = register_module("dropout1", std::make_shared<Dropout>(options.dropout, gen));
  dropout2 = register_module("dropout2", std::make_shared<Dropout>(options.dropout, gen));
}

Tensor TransformerEncoderLayer::forward(const Tensor& src, const Tensor& src_mask, const Tensor& src_key_padding_mask) {
  auto attention_block = [&](const Tensor& x) {
    return dropout1->forward(self_attn->forward(x, x, x, src_key_padding_mask, /*need_weights=*/false, src_mask).output);
  };
  auto feed_forward = [&](const Tensor& x) {
    const Tensor h = linear1->forward(x);
    return dropout2->forward(linear2->forward(dropout->forward(options_.gelu ? gelu(h) : relu(h))));
  };
  if (options_.norm_first) {
    const Tensor x = src + attention_block(norm1->forward(src));
    return x + feed_forward(norm2->forward(x));
  }
  const Tensor x = norm1->forward(src + attention_block(src));
  return norm2->forward(x + feed_forward(x));
}

std::string TransformerEncoderLayer::extra_repr() const {
  return detail::concat("dim_feedforward=", options_.dim_feedforward, ", dropout=", options_.dropout,
                        ", activation=", options_.gelu ? "gelu" : "relu", ", norm_first=",
                        options_.norm_first ? "true" : "false");
}

}  // namespace tg::nn
