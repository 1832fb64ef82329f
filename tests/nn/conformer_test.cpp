// nn::ConformerBlock: its wiring against the formula composed from its sub-modules, padded frames never
// changing a real frame's output (the block on a padded batch equals the block on each sequence alone, in eval
// mode), gradients reaching every parameter, and the input errors.
#include <vector>

#include <gtest/gtest.h>

#include <tensorgrad/tensorgrad.h>

#include "../support/expect_error.h"

namespace {

using tg::DType;
using tg::Tensor;
using tg::nn::ConformerBlock;

void expect_close(const Tensor& a, const Tensor& b, double tol) {
  const auto x = a.contiguous().to_vector<double>(), y = b.contiguous().to_vector<double>();
  ASSERT_EQ(x.size(), y.size());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], y[i], tol) << i;
}

TEST(NnConformerBlock, WiringMatchesTheFormula) {
  tg::Generator gen(1);
  ConformerBlock block(8, 2, {.ffn_dim = 16, .depthwise_kernel_size = 3, .dtype = DType::Float64}, gen);
  block.eval();
  const Tensor x = tg::randn({2, 5, 8}, DType::Float64, gen);
  auto ffn = [](tg::nn::ConformerFeedForward& f, const Tensor& v) {
    return f.linear2->forward(tg::silu(f.linear1->forward(f.layer_norm->forward(v))));
  };
  Tensor h = x + ffn(*block.ffn1, x) * 0.5;
  const Tensor a = block.self_attn_layer_norm->forward(h);
  h = h + block.self_attn->forward(a, a, a, {}, false).output;
  auto& cm = *block.conv_module;
  Tensor c = cm.pointwise_conv1->forward(tg::transpose(cm.layer_norm->forward(h), 1, 2));
  c = tg::narrow(c, 1, 0, 8) * tg::sigmoid(tg::narrow(c, 1, 8, 8));
  c = cm.pointwise_conv2->forward(tg::silu(cm.batch_norm->forward(cm.depthwise_conv->forward(c))));
  h = h + tg::transpose(c, 1, 2);
  h = h + ffn(*block.ffn2, h) * 0.5;
  expect_close(block.forward(x), block.final_layer_norm->forward(h), 1e-12);
}

TEST(NnConformerBlock, PaddedFramesNeverChangeRealOnes) {
  tg::Generator gen(2);
  ConformerBlock block(8, 2, {.ffn_dim = 16, .depthwise_kernel_size = 5, .dtype = DType::Float64}, gen);
  block.eval();
  const int64_t T = 7;
  const std::vector<int64_t> lengths = {7, 4};
  const Tensor x = tg::randn({2, T, 8}, DType::Float64, gen);
  std::vector<bool> pad;
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t t = 0; t < T; ++t) pad.push_back(t >= lengths[static_cast<size_t>(n)]);
  const Tensor out = block.forward(x, tg::from_vector<bool>(pad, {2, T}));
  for (int64_t n = 0; n < 2; ++n) {
    const int64_t len = lengths[static_cast<size_t>(n)];
    const Tensor alone = block.forward(tg::narrow(tg::narrow(x, 0, n, 1), 1, 0, len));
    expect_close(tg::narrow(tg::narrow(out, 0, n, 1), 1, 0, len), alone, 1e-12);
  }
}

TEST(NnConformerBlock, GradientsReachEveryParameter) {
  tg::Generator gen(3);
  ConformerBlock block(4, 2, {.ffn_dim = 8, .depthwise_kernel_size = 3, .dropout = 0.0}, gen);
  const Tensor x = tg::randn({2, 6, 4}, DType::Float32, gen);
  tg::sum(tg::square(block.forward(x))).backward();
  int checked = 0;
  for (const auto& [name, p] : block.named_parameters()) {
    ASSERT_TRUE(p.grad().defined()) << name;
    EXPECT_GT(tg::sum(tg::abs(p.grad())).item(), 0.0) << name;
    ++checked;
  }
  EXPECT_EQ(checked, 30);  // 2 ffn x 6, attention 4 + its norm 2, conv module 5 x 2, final norm 2
}

TEST(NnConformerBlock, Errors) {
  EXPECT_TG_ERROR(ConformerBlock(8, 2, {.depthwise_kernel_size = 4}), "must be odd");
  ConformerBlock block(4, 2, {.ffn_dim = 8, .depthwise_kernel_size = 3});
  EXPECT_TG_ERROR(block.forward(tg::randn({2, 5})), "input must be [N, T, D]");
  EXPECT_TG_ERROR(block.forward(tg::randn({2, 5, 4}), tg::zeros({2, 4}, DType::Bool)), "key_padding_mask must be bool [N, T]");
}

}  // namespace
