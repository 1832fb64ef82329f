// Module::forward_many: modules held by the base class take several inputs and give several outputs (x with
// its masks), the same values as their typed forwards; single-tensor modules keep one input; a wrong input
// count is an error naming the module. (The encoder's, with lengths: conformer_encoder_test.cpp.)
#include <memory>

#include <gtest/gtest.h>

#include <tensorgrad/tensorgrad.h>

#include "../support/expect_error.h"

namespace {

using tg::DType;
using tg::Tensor;
using tg::TensorList;
namespace nn = tg::nn;

void expect_same(const Tensor& a, const Tensor& b) {
  ASSERT_EQ(a.shape(), b.shape());
  EXPECT_EQ(tg::max(tg::abs(a.to(DType::Float64) - b.to(DType::Float64))).item(), 0.0);
}

TEST(NnForwardMany, AttentionReturnsOutputAndWeights) {
  tg::Generator gen(4);
  auto mha = std::make_shared<nn::MultiheadAttention>(8, 2, nn::MultiheadAttentionOptions{.dtype = DType::Float64}, gen);
  std::shared_ptr<nn::Module> base = mha;
  const Tensor q = tg::randn({5, 2, 8}, DType::Float64, gen), kv = tg::randn({6, 2, 8}, DType::Float64, gen);
  const Tensor padding = tg::from_vector<bool>({0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0}, {2, 6});
  const TensorList out = base->forward_many({q, kv, kv, padding});
  ASSERT_EQ(out.size(), 2u);
  const auto typed = mha->forward(q, kv, kv, padding);
  expect_same(out[0], typed.output);
  expect_same(out[1], typed.weights);
  EXPECT_TG_ERROR(base->forward_many({q, kv}), "MultiheadAttention", "expected 3 to 5 inputs, got 2");
}

TEST(NnForwardMany, SingleTensorModulesTakeOneInput) {
  tg::Generator gen(5);
  std::shared_ptr<nn::Module> linear = std::make_shared<nn::Linear>(3, 2, nn::LinearOptions{}, gen);
  const Tensor x = tg::randn({4, 3}, DType::Float32, gen);
  const TensorList out = (*linear)(TensorList{x});
  ASSERT_EQ(out.size(), 1u);
  expect_same(out[0], linear->forward(x));
  EXPECT_TG_ERROR(linear->forward_many({x, x}), "Linear", "expected 1 inputs, got 2");
  EXPECT_TG_ERROR(linear->forward_many({}), "Linear", "got 0");
}

}  // namespace
