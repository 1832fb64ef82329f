// Finite-difference helpers, zero-order gradient estimators and ZOSGD, against closed forms.
#include <gtest/gtest.h>

#include <cmath>

#include <tensorgrad/tensorgrad.h>

namespace tg {
namespace {

std::vector<double> values_of(const Tensor& t) { return t.to(DType::Float64).contiguous().to_vector<double>(); }

// f(x) = sum(x^3) / 3 + x0 x1: grad = x^2 + (x1, x0, 0, ...).
Tensor cubic(const Tensor& x) { return sum(pow(x, 3)) / 3.0 + select(x, 0, 0) * select(x, 0, 1); }
std::vector<double> cubic_grad(const std::vector<double>& x) {
  std::vector<double> g;
  for (double e : x) g.push_back(e * e);
  g[0] += x[1];
  g[1] += x[0];
  return g;
}

TEST(FiniteDiff, StepFollowsMagnitudeAndDtype) {
  EXPECT_DOUBLE_EQ(fd_step(0.0, DType::Float64, FdScheme::Central), std::cbrt(std::numeric_limits<double>::epsilon()));
  EXPECT_DOUBLE_EQ(fd_step(100.0, DType::Float64, FdScheme::Central),
                   100 * std::cbrt(std::numeric_limits<double>::epsilon()));
  EXPECT_NEAR(fd_step(-2.0, DType::Float32, FdScheme::Forward),
              2 * std::sqrt(static_cast<double>(std::numeric_limits<float>::epsilon())), 1e-12);
}

TEST(FiniteDiff, CentralIsSecondOrderAccurateForwardFirstOrder) {
  const std::vector<double> xv = {0.7, -1.2, 2.5, 3.0};
  const Tensor x = from_vector(xv);
  const auto want = cubic_grad(xv);
  const auto central = values_of(fd_gradient(cubic, x, FdScheme::Central));
  const auto forward = values_of(fd_gradient(cubic, x, FdScheme::Forward));
  for (size_t i = 0; i < xv.size(); ++i) {
    EXPECT_NEAR(central[i], want[i], 1e-8 * (1 + std::abs(want[i])));
    EXPECT_NEAR(forward[i], want[i], 1e-6 * (1 + std::abs(want[i])) * std::max(1.0, std::abs(xv[i])));
  }
  // float32: the dtype's step keeps the error near eps^(2/3) ~ 2e-5 of the function's scale.
  const auto f32 = values_of(fd_gradient(cubic, x.to(DType::Float32), FdScheme::Central));
  for (size_t i = 0; i < xv.size(); ++i) EXPECT_NEAR(f32[i], want[i], 2e-3 * (1 + std::abs(want[i])));
}

TEST(FiniteDiff, JvpMatchesForwardMode) {
  const Tensor x = from_vector(std::vector<double>{0.3, -0.8, 1.1});
  const Tensor v = from_vector(std::vector<double>{1, 2, -0.5});
  const TensorFn f = [](const Tensor& t) { return exp(t) * sin(t); };
  const auto fd = values_of(fd_jvp(f, x, v));
  const auto ad = values_of(jvp(f, x, v).second);
  for (size_t i = 0; i < ad.size(); ++i) EXPECT_NEAR(fd[i], ad[i], 1e-9);
}

TEST(ZeroOrder, CoordinateEstimatorIsCentralDifferences) {
  const std::vector<double> xv = {0.5, -1, 1.5};
  Generator gen(1);
  ZoOptions o;
  o.estimator = ZoEstimator::Coordinate;
  o.smoothing = 1e-4;
  const auto g = values_of(zo_gradient(cubic, from_vector(xv), o, gen));
  const auto want = cubic_grad(xv);
  for (size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], want[i], 1e-7);
  EXPECT_EQ(zo_evaluations(o, 3), 6);
}

TEST(ZeroOrder, RandomDirectionEstimatorsAreUnbiased) {
  // For a quadratic the two-point difference is exact along u, so the estimate is u u^T grad: its mean over
  // many directions approaches grad at the Monte Carlo rate.
  const std::vector<double> xv = {0.5, -1, 1.5, 2};
  const Tensor x = from_vector(xv);
  const TensorFn quad = [](const Tensor& t) { return sum(t * t) + select(t, 0, 0) * select(t, 0, 3); };
  const std::vector<double> want = {2 * 0.5 + 2, -2, 3, 4 + 0.5};
  for (ZoEstimator e : {ZoEstimator::Gaussian, ZoEstimator::Sphere}) {
    SCOPED_TRACE(e == ZoEstimator::Gaussian ? "Gaussian" : "Sphere");
    Generator gen(2);
    ZoOptions o;
    o.estimator = e;
    o.directions = 4000;
    o.smoothing = 1e-3;
    const auto g = values_of(zo_gradient(quad, x, o, gen));
    double norm = 0;
    for (double w : want) norm += w * w;
    for (size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], want[i], 0.12 * std::sqrt(norm)) << i;
  }
}

TEST(ZOSGD, DescendsAQuadratic) {
  Tensor w = from_vector(std::vector<double>{3, -2, 1});
  optim::ZOSGDOptions o;
  o.lr = 0.05;
  o.zo.directions = 4;
  o.seed = 3;
  optim::ZOSGD opt({w}, o);
  auto loss = [&w]() { return sum((w - 1.0) * (w - 1.0)); };
  const double start = loss().item();
  for (int i = 0; i < 200; ++i) opt.step(loss);
  EXPECT_LT(loss().item(), 1e-3 * start);
  EXPECT_EQ(opt.evaluations(), 200 * 8);
  EXPECT_EQ(opt.name(), "ZOSGD");
}

}  // namespace
}  // namespace tg
