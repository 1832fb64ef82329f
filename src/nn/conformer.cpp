#include <tensorgrad/nn/conformer.h>

#include <tensorgrad/base/error.h>
#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/view.h>

namespace tg::nn {

ConformerFeedForward::ConformerFeedForward(int64_t d_model, int64_t ffn_dim, double p, DType dtype, Generator& gen)
    : Module("ConformerFeedForward") {
  layer_norm = register_module("layer_norm", std::make_shared<LayerNorm>(Shape{d_model}, LayerNormOptions{.dtype = dtype}));
  linear1 = register_module("linear1", std::make_shared<Linear>(d_model, ffn_dim, LinearOptions{.dtype = dtype}, gen));
  dropout1 = register_module("dropout1", std::make_shared<Dropout>(p, gen));
  linear2 = register_module("linear2", std::make_shared<Linear>(ffn_dim, d_model, LinearOptions{.dtype = dtype}, gen));
  dropout2 = register_module("dropout2", std::make_shared<Dropout>(p, gen));
}

Tensor ConformerFeedForward::forward(const Tensor& x) {
  return dropout2->forward(linear2->forward(dropout1->forward(silu(linear1->forward(layer_norm->forward(x))))));
}

ConformerConvModule::ConformerConvModule(int64_t d_model, int64_t kernel_size, double p, DType dtype, Generator& gen)
    : Module("ConformerConvModule") {
  TG_CHECK(kernel_size > 0 && kernel_size % 2 == 1, "nn::ConformerConvModule: depthwise_kernel_size must be odd, got ",
           kernel_size);
  layer_norm = register_module("layer_norm", std::make_shared<LayerNorm>(Shape{d_model}, LayerNormOptions{.dtype = dtype}));
  pointwise_conv1 = register_module("pointwise_conv1",
                                    std::make_shared<Conv1d>(d_model, 2 * d_model, 1, ConvOptions{.dtype = dtype}, gen));
  depthwise_conv = register_module(
      "depthwise_conv",
      std::make_shared<Conv1d>(d_model, d_model, kernel_size,
                               ConvOptions{.padding = (kernel_size - 1) / 2, .groups = d_model, .dtype = dtype}, gen));
  batch_norm = register_module("batch_norm", std::make_shared<BatchNorm1d>(d_model, BatchNormOptions{.dtype = dtype}));
  pointwise_conv2 = register_module("pointwise_conv2",
                                    std::make_shared<Conv1d>(d_model, d_model, 1, ConvOptions{.dtype = dtype}, gen));
  dropout = register_module("dropout", std::make_shared<Dropout>(p, gen));
}

Tensor ConformerConvModule::forward(const Tensor& x, const Tensor& key_padding_mask) {
  Tensor h = transpose(layer_norm->forward(x), 1, 2);  // [N, D, T]
  h = pointwise_conv1->forward(h);                      // [N, 2D, T]
  const int64_t d = h.size(1) / 2;
  h = narrow(h, 1, 0, d) * sigmoid(narrow(h, 1, d, d));  // GLU over the channels
  if (key_padding_mask.defined()) h = where(unsqueeze(key_padding_mask, 1), Scalar(0.0), h);
  h = silu(batch_norm->forward(depthwise_conv->forward(h)));
  return transpose(dropout->forward(pointwise_conv2->forward(h)), 1, 2);
}

ConformerBlock::ConformerBlock(int64_t d_model, int64_t num_heads, ConformerBlockOptions options, Generator& gen)
    : Module("ConformerBlock"), options_(options) {
  const DType dt = options.dtype;
  ffn1 = register_module("ffn1", std::make_shared<ConformerFeedForward>(d_model, options.ffn_dim, options.dropout, dt, gen));
  self_attn_layer_norm =
      register_module("self_attn_layer_norm", std::make_shared<LayerNorm>(Shape{d_model}, LayerNormOptions{.dtype = dt}));
  if (options.relative_positions) {
    rel_self_attn = register_module("self_attn", std::make_shared<RelPositionMultiHeadAttention>(
                                                     d_model, num_heads,
                                                     RelPositionMultiHeadAttentionOptions{options.attention_dropout.value_or(options.dropout), dt}, gen));
  } else {
    self_attn = register_module(
        "self_attn", std::make_shared<MultiheadAttention>(
                         d_model, num_heads,
                         MultiheadAttentionOptions{.dropout = options.attention_dropout.value_or(options.dropout),
                                                   .batch_first = true, .dtype = dt},
                         gen));
  }
  self_attn_dropout = register_module("self_attn_dropout", std::make_shared<Dropout>(options.dropout, gen));
  conv_module = register_module("conv_module", std::make_shared<ConformerConvModule>(
                                                   d_model, options.depthwise_kernel_size, options.dropout, dt, gen));
  ffn2 = register_module("ffn2", std::make_shared<ConformerFeedForward>(d_model, options.ffn_dim, options.dropout, dt, gen));
  final_layer_norm =
      register_module("final_layer_norm", std::make_shared<LayerNorm>(Shape{d_model}, LayerNormOptions{.dtype = dt}));
}

Tensor ConformerBlock::forward(const Tensor& x, const Tensor& key_padding_mask) {
  TG_CHECK(x.dim() == 3, "nn::ConformerBlock: input must be [N, T, D], got ", x.shape());
  TG_CHECK(!key_padding_mask.defined() || (key_padding_mask.dtype() == DType::Bool && key_padding_mask.dim() == 2 &&
                                           key_padding_mask.size(0) == x.size(0) && key_padding_mask.size(1) == x.size(1)),
           "nn::ConformerBlock: key_padding_mask must be bool [N, T] = [", x.size(0), ", ", x.size(1), "]");
  Tensor h = x + ffn1->forward(x) * 0.5;
  const Tensor a = self_attn_layer_norm->forward(h);
  const Tensor attended =
      rel_self_attn ? rel_self_attn->forward(a, relative_positional_encoding(a.size(1), a.size(2), a.dtype()),
                                             key_padding_mask)
                    : self_attn->forward(a, a, a, key_padding_mask, /*need_weights=*/false).output;
  h = h + self_attn_dropout->forward(attended);
  h = h + conv_module->forward(h, key_padding_mask);
  h = h + ffn2->forward(h) * 0.5;
  return final_layer_norm->forward(h);
}

std::string ConformerBlock::extra_repr() const {
  return detail::concat("ffn_dim=", options_.ffn_dim, ", depthwise_kernel_size=", options_.depthwise_kernel_size,
                        ", dropout=", options_.dropout);
}

}  // namespace tg::nn
