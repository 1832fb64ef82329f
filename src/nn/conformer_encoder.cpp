// Conv2dSubsampling and ConformerEncoder (see conformer_encoder.h).
#include <tensorgrad/nn/conformer_encoder.h>

#include <tensorgrad/core/graph.h>
#include <tensorgrad/nn/container.h>

#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/masking.h>
#include <tensorgrad/ops/view.h>

namespace tg::nn {

namespace {

Tensor checked_lengths(const Tensor& lengths, int64_t batch, int64_t time, const char* who) {
  if (!lengths.defined()) return full({batch}, static_cast<double>(time), DType::Int64);
  TG_CHECK(lengths.dtype() == DType::Int64 && lengths.shape() == Shape{batch}, who, ": lengths must be int64 [",
           batch, "], got ", dtype_name(lengths.dtype()), lengths.shape());
  TG_CHECK(all(ge(lengths, 0)).item() != 0 && all(le(lengths, time)).item() != 0, who, ": lengths must lie in [0, ",
           time, "], got ", lengths);
  return lengths;
}

// x [N, C, T, F] with the frames t >= lengths[n] set to zero.
Tensor zero_padded_frames(const Tensor& x, const Tensor& lengths) {
  const Tensor padded = unsqueeze(unsqueeze(padding_mask(lengths, x.size(2)), 1), 3);  // [N, 1, T, 1]
  return masked_fill(x, padded, 0.0);
}

// (L - 1) / 2 + 1 for every length: a 3-wide window of stride 2 with one frame of padding each side.
Tensor halved(const Tensor& lengths) {
  NoGradGuard no_grad;
  return floor((lengths - 1).to(DType::Float64) / 2.0).to(DType::Int64) + 1;
}

}  // namespace

Tensor padding_mask(const Tensor& lengths, int64_t time) {
  TG_CHECK(lengths.defined() && lengths.dtype() == DType::Int64 && lengths.dim() == 1,
           "tg::nn::padding_mask: lengths must be int64 [N]");
  return ge(unsqueeze(arange(time, lengths.device()), 0), unsqueeze(lengths, 1));
}

Conv2dSubsampling::Conv2dSubsampling(int64_t feat_in, int64_t d_model, int64_t channels, DType dtype, Generator& gen)
    : Module("Conv2dSubsampling"), feat_in_(feat_in), channels_(channels) {
  TG_CHECK(feat_in > 0 && d_model > 0 && channels > 0, "nn::Conv2dSubsampling: sizes must be positive, got feat_in=",
           feat_in, " d_model=", d_model, " channels=", channels);
  ConvOptions conv;
  conv.stride = 2;
  conv.padding = 1;
  conv.dtype = dtype;
  conv1 = register_module("conv1", std::make_shared<Conv2d>(1, channels, 3, conv, gen));
  conv2 = register_module("conv2", std::make_shared<Conv2d>(channels, channels, 3, conv, gen));
  const int64_t bins = output_length(output_length(feat_in));
  out = register_module("out", std::make_shared<Linear>(channels * bins, d_model, LinearOptions{true, dtype}, gen));
}

int64_t Conv2dSubsampling::output_length(int64_t length) { return length <= 0 ? 0 : (length - 1) / 2 + 1; }

Conv2dSubsampling::Output Conv2dSubsampling::forward(const Tensor& features, const Tensor& lengths) {
  const char* who = "nn::Conv2dSubsampling";
  TG_CHECK(features.dim() == 3 && features.size(2) == feat_in_, who, ": features must be [N, T, ", feat_in_,
           "], got ", features.shape());
  const int64_t batch = features.size(0), time = features.size(1);
  TG_CHECK(time > 0, who, ": at least one frame is needed, got ", features.shape());
  const Tensor len0 = checked_lengths(lengths, batch, time, who);
  Tensor h = zero_padded_frames(unsqueeze(features, 1), len0);  // [N, 1, T, F]
  const Tensor len1 = halved(len0);
  h = zero_padded_frames(relu(conv1->forward(h)), len1);
  const Tensor len2 = halved(len1);
  h = zero_padded_frames(relu(conv2->forward(h)), len2);  // [N, C, T', F']
  const int64_t frames = h.size(2);
  h = reshape(transpose(h, 1, 2), {batch, frames, -1});  // [N, T', C * F']
  return {out->forward(h), len2};
}

std::string Conv2dSubsampling::extra_repr() const {
  return detail::concat("feat_in=", feat_in_, ", channels=", channels_, ", factor=4");
}

ConformerEncoder::ConformerEncoder(ConformerEncoderOptions options, Generator& gen)
    : Module("ConformerEncoder"), options_(options) {
  TG_CHECK(options.num_layers >= 0, "nn::ConformerEncoder: num_layers must be >= 0, got ", options.num_layers);
  pre_encode = register_module("pre_encode", std::make_shared<Conv2dSubsampling>(
                                                 options.feat_in, options.d_model, options.subsampling_channels,
                                                 options.dtype, gen));
  pre_dropout = register_module("pre_dropout", std::make_shared<Dropout>(options.dropout, gen));
  ConformerBlockOptions block;
  block.ffn_dim = options.ffn_dim;
  block.depthwise_kernel_size = options.depthwise_kernel_size;
  block.dropout = options.dropout;
  block.attention_dropout = options.attention_dropout;
  block.dtype = options.dtype;
  block.relative_positions = options.relative_positions;
  // Held in a Sequential named "layers" for the parameter names (layers.0.ffn1...., as NeMo's); forward calls
  // each block with the padding mask itself.
  auto stack = register_module("layers", std::make_shared<Sequential>());
  for (int64_t i = 0; i < options.num_layers; ++i) {
    layers.push_back(std::make_shared<ConformerBlock>(options.d_model, options.num_heads, block, gen));
    stack->push_back(layers.back());
  }
}

Conv2dSubsampling::Output ConformerEncoder::forward(const Tensor& features, const Tensor& lengths) {
  Conv2dSubsampling::Output r = pre_encode->forward(features, lengths);
  const Tensor mask = padding_mask(r.lengths, r.output.size(1));
  Tensor h = pre_dropout->forward(r.output);
  for (const auto& layer : layers) h = layer->forward(h, mask);
  return {h, r.lengths};
}

std::string ConformerEncoder::extra_repr() const {
  return detail::concat("feat_in=", options_.feat_in, ", d_model=", options_.d_model, ", num_layers=",
                        options_.num_layers, ", num_heads=", options_.num_heads);
}

}  // namespace tg::nn
