// clip_grad_norm / grad_norm against hand-computed norms.
#include <cmath>

#include <gtest/gtest.h>

#include <tensorgrad/tensorgrad.h>

#include "support/expect_error.h"

namespace {

using tg::DType;
using tg::Tensor;
using Vec = std::vector<double>;
using namespace tg::optim;

Vec values(const Tensor& t) { return t.to(DType::Float64).contiguous().to_vector<double>(); }

// Gradients [3, 4] and [[-12]] (norms: L2 13, L1 19, inf 12), plus a parameter without a gradient.
struct Params {
  Tensor a = tg::zeros({2}, DType::Float64).requires_grad_();
  Tensor b = tg::zeros({1, 1}, DType::Float32).requires_grad_();
  Tensor none = tg::zeros({3}).requires_grad_();
  Params() {
    a.set_grad(tg::from_vector(Vec{3.0, 4.0}));
    b.set_grad(tg::from_vector(Vec{-12.0}, {1, 1}).to(DType::Float32));
  }
  std::vector<Tensor> list() const { return {a, none, b}; }
};

TEST(OptimClip, NormsOfAllGradientsTogether) {
  const Params p;
  EXPECT_DOUBLE_EQ(grad_norm(p.list()), 13.0);
  EXPECT_DOUBLE_EQ(grad_norm(p.list(), 1.0), 19.0);
  EXPECT_DOUBLE_EQ(grad_norm(p.list(), kInfNorm), 12.0);
  EXPECT_NEAR(grad_norm(p.list(), 3.0), std::cbrt(27.0 + 64.0 + 1728.0), 1e-12);
  // sqrt(12) of the float32 gradient is taken in float32.
  EXPECT_NEAR(grad_norm(p.list(), 0.5), std::pow(std::sqrt(3.0) + 2.0 + std::sqrt(12.0), 2.0), 1e-5);
  EXPECT_EQ(grad_norm({p.none}), 0.0);
}

TEST(OptimClip, ScalesWhenAboveMaxNorm) {
  const Params p;
  const double total = clip_grad_norm(p.list(), 6.5);
  EXPECT_DOUBLE_EQ(total, 13.0);  // the norm before clipping
  const double coef = 6.5 / (13.0 + 1e-6);
  const Vec a = values(p.a.grad());
  EXPECT_NEAR(a[0], 3.0 * coef, 1e-15);
  EXPECT_NEAR(a[1], 4.0 * coef, 1e-15);
  EXPECT_NEAR(values(p.b.grad())[0], -12.0 * coef, 1e-5);
  EXPECT_EQ(p.b.grad().dtype(), DType::Float32);
  EXPECT_NEAR(grad_norm(p.list()), 6.5, 1e-5);
  EXPECT_FALSE(p.none.grad().defined());
}

TEST(OptimClip, LeavesGradientsBelowMaxNormUntouched) {
  const Params p;
  const Tensor before = p.a.grad();
  EXPECT_DOUBLE_EQ(clip_grad_norm(p.list(), 20.0), 13.0);
  EXPECT_EQ(values(p.a.grad()), (Vec{3.0, 4.0}));
  EXPECT_EQ(values(p.b.grad()), (Vec{-12.0}));
  EXPECT_TRUE(p.a.grad().same(before));  // in place, never rebound
}

TEST(OptimClip, InfNormAndL1) {
  {
    const Params p;
    EXPECT_DOUBLE_EQ(clip_grad_norm(p.list(), 6.0, kInfNorm), 12.0);
    const double coef = 6.0 / (12.0 + 1e-6);
    EXPECT_NEAR(values(p.a.grad())[1], 4.0 * coef, 1e-15);
    EXPECT_NEAR(values(p.b.grad())[0], -6.0, 1e-5);
  }
  {
    const Params p;
    EXPECT_DOUBLE_EQ(clip_grad_norm(p.list(), 1.9, 1.0), 19.0);
    EXPECT_NEAR(values(p.a.grad())[0], 3.0 * 1.9 / (19.0 + 1e-6), 1e-15);
  }
}

TEST(OptimClip, Errors) {
  const Params p;
  EXPECT_TG_ERROR(clip_grad_norm(p.list(), -1.0), "tg::optim::clip_grad_norm", "max_norm", "-1");
  EXPECT_TG_ERROR(clip_grad_norm(p.list(), 1.0, 0.0), "tg::optim::grad_norm", "norm_type", "0");
  EXPECT_TG_ERROR(grad_norm(p.list(), -2.0), "tg::optim::grad_norm", "norm_type", "-2");
  p.a.set_grad(tg::from_vector(Vec{std::numeric_limits<double>::infinity(), 1.0}));
  EXPECT_TG_ERROR(clip_grad_norm(p.list(), 1.0, 2.0, /*error_if_nonfinite=*/true), "tg::optim::clip_grad_norm",
                  "inf");
  EXPECT_EQ(values(p.b.grad()), (Vec{-12.0}));  // untouched when it throws
}

}  // namespace
