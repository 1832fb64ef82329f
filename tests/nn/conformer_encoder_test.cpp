// Conv2dSubsampling and ConformerEncoder: output shapes and lengths, padded batches giving each sequence what it
// gets alone, gradients reaching every parameter, and argument errors.
#include <memory>

#include <gtest/gtest.h>

#include <tensorgrad/tensorgrad.h>

#include "support/expect_error.h"
#include "support/oracle.h"

namespace {

using tg::DType;
using tg::Tensor;

tg::nn::ConformerEncoderOptions small_encoder() {
  tg::nn::ConformerEncoderOptions o;
  o.feat_in = 12;
  o.d_model = 16;
  o.num_layers = 2;
  o.num_heads = 2;
  o.ffn_dim = 32;
  o.subsampling_channels = 4;
  o.depthwise_kernel_size = 5;
  o.dropout = 0.0;
  o.dtype = DType::Float64;
  return o;
}

TEST(Conv2dSubsampling, LengthsAndShapes) {
  using S = tg::nn::Conv2dSubsampling;
  EXPECT_EQ(S::output_length(1), 1);
  EXPECT_EQ(S::output_length(2), 1);
  EXPECT_EQ(S::output_length(3), 2);
  EXPECT_EQ(S::output_length(100), 50);
  EXPECT_EQ(S::output_length(S::output_length(101)), 26);
  tg::Generator gen(1);
  S sub(12, 16, 4, DType::Float64, gen);
  const auto r = sub.forward(tg::randn({3, 23, 12}, DType::Float64, gen), tg::from_vector<int64_t>({23, 9, 1}));
  EXPECT_EQ(r.output.shape(), (tg::Shape{3, 6, 16}));
  EXPECT_EQ(r.lengths.to_vector<int64_t>(), (std::vector<int64_t>{6, 3, 1}));
  EXPECT_EQ(sub.named_parameters().size(), 6u);  // conv1, conv2, out: weight and bias each
  EXPECT_TG_ERROR(sub.forward(tg::randn({3, 23, 11}, DType::Float64, gen), {}), "[N, T, 12]");
  EXPECT_TG_ERROR(sub.forward(tg::randn({3, 23, 12}, DType::Float64, gen), tg::from_vector<int64_t>({23, 24, 1})),
                  "lengths must lie in [0, 23]");
}

// In eval mode, a sequence padded into a batch (with garbage in its padded frames) gets, on its real frames,
// what it gets alone.
class ConformerEncoderPositions : public ::testing::TestWithParam<bool> {};

TEST_P(ConformerEncoderPositions, PaddedBatchMatchesEachSequenceAlone) {
  tg::Generator gen(2);
  tg::nn::ConformerEncoderOptions options = small_encoder();
  options.relative_positions = GetParam();
  tg::nn::ConformerEncoder encoder(options, gen);
  encoder.eval();
  const std::vector<int64_t> lengths = {29, 17, 8};
  const int64_t time = 29;
  Tensor batch = tg::randn({3, time, 12}, DType::Float64, gen) * 1e3;  // padded frames hold large garbage
  std::vector<Tensor> alone;
  for (size_t n = 0; n < lengths.size(); ++n) {
    const Tensor x = tg::randn({1, lengths[n], 12}, DType::Float64, gen);
    tg::narrow(tg::narrow(batch, 0, static_cast<int64_t>(n), 1), 1, 0, lengths[n]).copy_(x);
    alone.push_back(x);
  }
  const auto out = encoder.forward(batch, tg::from_vector<int64_t>(lengths));
  ASSERT_EQ(out.output.dim(), 3);
  EXPECT_EQ(out.output.size(1), tg::nn::Conv2dSubsampling::output_length(tg::nn::Conv2dSubsampling::output_length(time)));
  for (size_t n = 0; n < lengths.size(); ++n) {
    const auto single = encoder.forward(alone[n], tg::from_vector<int64_t>({lengths[n]}));
    const int64_t frames = single.output.size(1);
    EXPECT_EQ(out.lengths.to_vector<int64_t>()[n], frames);
    const Tensor mine = tg::narrow(tg::narrow(out.output, 0, static_cast<int64_t>(n), 1), 1, 0, frames);
    const std::string diff = tgtest::compare(tgtest::to_ref(mine), tgtest::to_ref(single.output), {1e-11, 1e-11});
    EXPECT_TRUE(diff.empty()) << "sample " << n << ": " << diff;
  }
}

INSTANTIATE_TEST_SUITE_P(Nn, ConformerEncoderPositions, ::testing::Bool(),
                         [](const auto& p) { return p.param ? std::string("relative") : std::string("absolute"); });

TEST(ConformerEncoder, TrainsEveryParameterAndNamesThemLikeNeMo) {
  tg::Generator gen(3);
  tg::nn::ConformerEncoderOptions options = small_encoder();
  options.relative_positions = true;
  tg::nn::ConformerEncoder encoder(options, gen);
  const auto out = encoder.forward(tg::randn({2, 16, 12}, DType::Float64, gen), tg::from_vector<int64_t>({16, 11}));
  tg::sum(out.output * out.output).backward();
  int64_t count = 0;
  bool saw_layer_name = false, saw_pos_bias = false;
  for (const auto& [name, p] : encoder.named_parameters()) {
    ++count;
    saw_layer_name |= name.rfind("layers.1.conv_module.depthwise_conv.weight", 0) == 0;
    saw_pos_bias |= name == "layers.0.self_attn.pos_bias_u";
    ASSERT_TRUE(p.grad().defined()) << name;
    EXPECT_GT(tg::sum(tg::abs(p.grad())).item(), 0.0) << name;
  }
  EXPECT_TRUE(saw_layer_name);
  EXPECT_TRUE(saw_pos_bias);
  EXPECT_GT(count, 40);
}

void expect_same_values(const Tensor& a, const Tensor& b) {
  ASSERT_EQ(a.shape(), b.shape());
  EXPECT_EQ(tg::max(tg::abs(a.to(DType::Float64) - b.to(DType::Float64))).item(), 0.0);
}

// Module::forward_many on the encoder: {features, lengths} -> {output, lengths}, the typed forward's values.
TEST(ConformerEncoder, ForwardManyTakesAndReturnsLengths) {
  tg::Generator gen(3);
  auto encoder = std::make_shared<tg::nn::ConformerEncoder>(small_encoder(), gen);
  encoder->eval();
  std::shared_ptr<tg::nn::Module> base = encoder;
  const Tensor x = tg::randn({2, 21, 12}, DType::Float64, gen);
  const Tensor lengths = tg::from_vector<int64_t>({21, 13});
  const tg::TensorList out = (*base)({x, lengths});
  ASSERT_EQ(out.size(), 2u);
  const auto typed = encoder->forward(x, lengths);
  expect_same_values(out[0], typed.output);
  expect_same_values(out[1], typed.lengths);
  const tg::TensorList no_lengths = base->forward_many({x});  // optional input left out
  expect_same_values(no_lengths[0], encoder->forward(x));
  EXPECT_TG_ERROR(base->forward_many({x, lengths, x}), "ConformerEncoder", "expected 1 to 2 inputs, got 3");
}

}  // namespace
