// tg::sgd_update_ / adam_update_: the optimizers' rules as in-place ops. They bump versions (so a backward
// that saved the parameter notices), refuse tensors that do not fit before writing anything, and give a
// strided operand the same result as a contiguous one.
#include <gtest/gtest.h>

#include <tensorgrad/tensorgrad.h>

#include "../support/expect_error.h"

namespace {

using tg::DType;
using tg::Tensor;

TEST(OpsOptimizerUpdate, SgdMatchesTheFormulaAndBumpsVersions) {
  tg::NoGradGuard no_grad;
  Tensor p = tg::from_vector<double>({1, 2, 3});
  const Tensor g = tg::from_vector<double>({0.5, -1, 2});
  Tensor buf = tg::from_vector<double>({1, 1, 1});
  const uint64_t pv = p.version(), bv = buf.version();
  tg::sgd_update_(p, g, buf, {.lr = 0.1, .momentum = 0.9, .dampening = 0.0, .weight_decay = 0.01, .nesterov = true});
  // d = g + 0.01 p; buf = 0.9 buf + d; d = d + 0.9 buf; p -= 0.1 d
  for (int i = 0; i < 3; ++i) {
    const double p0 = i + 1.0, g0 = std::vector<double>{0.5, -1, 2}[static_cast<size_t>(i)];
    const double d = g0 + 0.01 * p0, b = 0.9 * 1.0 + d, step = d + 0.9 * b;
    EXPECT_DOUBLE_EQ(p.to_vector<double>()[static_cast<size_t>(i)], p0 - 0.1 * step);
    EXPECT_DOUBLE_EQ(buf.to_vector<double>()[static_cast<size_t>(i)], b);
  }
  EXPECT_GT(p.version(), pv);
  EXPECT_GT(buf.version(), bv);
}

TEST(OpsOptimizerUpdate, AStridedParameterGetsTheSameUpdate) {
  tg::NoGradGuard no_grad;
  tg::Generator gen(1);
  const Tensor base = tg::randn({4, 3}, DType::Float32, gen), g = tg::randn({3, 4}, DType::Float32, gen);
  Tensor contiguous = base.t().contiguous();
  Tensor storage = base.clone();
  Tensor strided = storage.t();  // a transposed view: not contiguous
  ASSERT_FALSE(strided.is_contiguous());
  Tensor m1 = tg::zeros({3, 4}), v1 = tg::zeros({3, 4}), m2 = tg::zeros({3, 4}), v2 = tg::zeros({3, 4}), none;
  const tg::AdamCoefficients c{.lr_over_bias_correction1 = 0.1, .one_minus_beta1 = 0.1, .one_minus_beta2 = 0.001,
                               .bias_correction2_sqrt = 0.0316, .eps = 1e-8};
  tg::adam_update_(contiguous, g, m1, v1, none, c);
  tg::adam_update_(strided, g, m2, v2, none, c);
  EXPECT_EQ(strided.contiguous().to_vector<float>(), contiguous.to_vector<float>());
  EXPECT_EQ(storage.t().contiguous().to_vector<float>(), contiguous.to_vector<float>());  // written back
  EXPECT_EQ(m1.to_vector<float>(), m2.to_vector<float>());
}

TEST(OpsOptimizerUpdate, MisfitsAreErrorsBeforeAnyWrite) {
  tg::NoGradGuard no_grad;
  Tensor p = tg::ones({3});
  Tensor buf = tg::zeros({3});
  Tensor none;
  const std::vector<float> before = p.to_vector<float>();
  EXPECT_TG_ERROR(tg::sgd_update_(p, tg::ones({4}), buf, {.lr = 1, .momentum = 0.5}), "tg::sgd_update_",
                  "grad has shape [4]", "[3]");
  EXPECT_TG_ERROR(tg::sgd_update_(p, tg::ones({3}, DType::Float64), buf, {.lr = 1}), "tg::sgd_update_", "float64",
                  "float32");
  EXPECT_TG_ERROR(tg::sgd_update_(p, tg::ones({3}), none, {.lr = 1, .momentum = 0.9}), "needs a momentum buffer");
  Tensor ints = tg::ones({3}, DType::Int64);
  EXPECT_TG_ERROR(tg::sgd_update_(ints, ints, none, {.lr = 1}), "floating dtype", "int64");
  EXPECT_EQ(p.to_vector<float>(), before);
}

TEST(OpsOptimizerUpdate, AParameterThatRequiresGradNeedsNoGradGuard) {
  Tensor p = tg::ones({2}).requires_grad_();
  Tensor none;
  EXPECT_TG_ERROR(tg::sgd_update_(p, tg::ones({2}), none, {.lr = 1}), "tg::sgd_update_", "NoGradGuard");
}

}  // namespace
