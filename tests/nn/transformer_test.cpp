// nn::TransformerEncoderLayer: torch's parameter names in torch's order, post-norm and pre-norm wiring
// checked against the formula composed from the layer's own sub-modules (eval mode: no dropout), masks
// passed through to the attention, gradients reaching every parameter.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <tensorgrad/tensorgrad.h>

namespace {

using tg::DType;
using tg::Tensor;
using tg::nn::TransformerEncoderLayer;

TEST(NnTransformerEncoderLayer, TorchNamesInTorchOrder) {
  TransformerEncoderLayer layer(8, 2, {.dim_feedforward = 16});
  std::vector<std::string> names;
  for (const auto& [name, t] : layer.named_parameters()) names.push_back(name);
  const std::vector<std::string> torch = {"self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
                                          "self_attn.out_proj.bias",  "linear1.weight",         "linear1.bias",
                                          "linear2.weight",           "linear2.bias",           "norm1.weight",
                                          "norm1.bias",               "norm2.weight",           "norm2.bias"};
  EXPECT_EQ(names, torch);
}

void expect_close(const Tensor& a, const Tensor& b) {
  const auto x = a.contiguous().to_vector<double>(), y = b.contiguous().to_vector<double>();
  ASSERT_EQ(x.size(), y.size());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], y[i], 1e-12) << i;
}

TEST(NnTransformerEncoderLayer, PostNormAndPreNormWiring) {
  tg::Generator gen(3);
  const Tensor src = tg::randn({5, 2, 8}, DType::Float64, gen);  // [S, N, E]
  const Tensor padding = tg::from_vector<bool>({0, 0, 0, 0, 0, 0, 0, 0, 1, 1}, {2, 5});
  for (bool norm_first : {false, true}) {
    tg::Generator init(4);
    TransformerEncoderLayer layer(8, 2, {.dim_feedforward = 12, .norm_first = norm_first, .dtype = DType::Float64}, init);
    layer.eval();
    auto attn = [&](const Tensor& x) { return layer.self_attn->forward(x, x, x, padding, false).output; };
    auto ff = [&](const Tensor& x) { return layer.linear2->forward(tg::relu(layer.linear1->forward(x))); };
    Tensor want;
    if (norm_first) {
      const Tensor x = src + attn(layer.norm1->forward(src));
      want = x + ff(layer.norm2->forward(x));
    } else {
      const Tensor x = layer.norm1->forward(src + attn(src));
      want = layer.norm2->forward(x + ff(x));
    }
    expect_close(layer.forward(src, {}, padding), want);
  }
}

TEST(NnTransformerEncoderLayer, GradientsReachEveryParameter) {
  tg::Generator gen(5);
  TransformerEncoderLayer layer(4, 2, {.dim_feedforward = 8, .dropout = 0.0, .batch_first = true}, gen);
  const Tensor x = tg::randn({2, 3, 4}, DType::Float32, gen);
  tg::sum(tg::square(layer.forward(x))).backward();
  for (const auto& [name, p] : layer.named_parameters()) {
    ASSERT_TRUE(p.grad().defined()) << name;
    EXPECT_GT(tg::sum(tg::abs(p.grad())).item(), 0.0) << name;
  }
}

}  // namespace
