// Hutchinson's trace estimator and Lanczos eigenvalues, on matrices whose trace and spectrum are known.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include <tensorgrad/tensorgrad.h>

namespace tg {
namespace {

// A = Q diag(eigenvalues) Q^T with Q a product of three random Householder reflections (orthogonal).
std::vector<double> with_spectrum(const std::vector<double>& eigenvalues, std::mt19937& rng) {
  const size_t n = eigenvalues.size();
  std::vector<double> q(n * n, 0.0);
  for (size_t i = 0; i < n; ++i) q[i * n + i] = 1;
  std::normal_distribution<double> normal;
  for (int r = 0; r < 3; ++r) {
    std::vector<double> u(n);
    double norm = 0;
    for (auto& e : u) {
      e = normal(rng);
      norm += e * e;
    }
    norm = std::sqrt(norm);
    for (auto& e : u) e /= norm;
    // Q <- Q (I - 2 u u^T)
    for (size_t i = 0; i < n; ++i) {
      double qu = 0;
      for (size_t k = 0; k < n; ++k) qu += q[i * n + k] * u[k];
      for (size_t j = 0; j < n; ++j) q[i * n + j] -= 2 * qu * u[j];
    }
  }
  std::vector<double> a(n * n, 0.0);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j)
      for (size_t k = 0; k < n; ++k) a[i * n + j] += q[i * n + k] * eigenvalues[k] * q[j * n + k];
  return a;
}

LinearOperator times(const Tensor& a) {
  return [a](const Tensor& v) { return matmul(a, v); };
}

TEST(Hutchinson, RademacherIsExactOnDiagonalHessians) {
  // f = sum c_i x_i^2 / 2 has H = diag(c): v^T H v = sum c_i for every +-1 probe, so the standard error is 0.
  const Tensor c = from_vector(std::vector<double>{1, -2, 3.5, 0.25});
  Generator gen(1);
  const TraceEstimate r = hessian_trace([&c](const Tensor& x) { return sum(c * x * x) * 0.5; },
                                        from_vector(std::vector<double>{0.3, -1, 2, 0.7}), 8, gen);
  EXPECT_NEAR(r.estimate, 2.75, 1e-12);
  EXPECT_NEAR(r.standard_error, 0.0, 1e-12);
  EXPECT_EQ(r.samples, 8);
}

TEST(Hutchinson, QuadraticFormConvergesAtInverseSqrtRate) {
  std::mt19937 rng(2);
  std::vector<double> eig;
  for (int i = 0; i < 24; ++i) eig.push_back(0.5 + 0.25 * i);
  double trace = 0;
  for (double e : eig) trace += e;
  const Tensor a = from_vector(with_spectrum(eig, rng), {24, 24});
  for (Probe probe : {Probe::Rademacher, Probe::Gaussian}) {
    SCOPED_TRACE(probe == Probe::Rademacher ? "Rademacher" : "Gaussian");
    // RMS error over repeated estimates at m and 16 m probes: the ratio is sqrt(16) = 4 for a 1/sqrt(m) rate.
    Generator gen(probe == Probe::Rademacher ? 10 : 20);
    auto rms_error = [&](int64_t m, double* mean_se) {
      double sq = 0, se = 0;
      const int repeats = 40;
      for (int r = 0; r < repeats; ++r) {
        const TraceEstimate t = hutchinson_trace(times(a), {24}, DType::Float64, m, gen, probe);
        sq += (t.estimate - trace) * (t.estimate - trace);
        se += t.standard_error;
      }
      *mean_se = se / repeats;
      return std::sqrt(sq / repeats);
    };
    double se_small = 0, se_large = 0;
    const double err_small = rms_error(8, &se_small), err_large = rms_error(128, &se_large);
    EXPECT_GT(err_small / err_large, 2.5);
    EXPECT_LT(err_small / err_large, 6.5);
    EXPECT_NEAR(se_small / se_large, 4.0, 1.0) << "reported standard errors shrink as 1/sqrt(m)";
    // The standard error describes the actual error.
    EXPECT_NEAR(err_large / se_large, 1.0, 0.5);
  }
}

TEST(Lanczos, TridiagonalEigenvaluesOfKnownMatrix) {
  // The path graph's Laplacian-like matrix 2 on the diagonal, -1 beside it: eigenvalues 2 - 2 cos(k pi / (n+1)).
  const int n = 9;
  const std::vector<double> d(n, 2.0), e(n - 1, -1.0);
  const std::vector<double> got = tridiagonal_eigenvalues(d, e);
  for (int k = 1; k <= n; ++k) EXPECT_NEAR(got[static_cast<size_t>(k - 1)], 2 - 2 * std::cos(k * M_PI / (n + 1)), 1e-12);
}

TEST(Lanczos, TopEigenvaluesOfMatrixWithKnownSpectrum) {
  std::mt19937 rng(3);
  std::vector<double> eig = {10, 7, 5.5};
  std::uniform_real_distribution<double> bulk(-1, 1);
  for (int i = 0; i < 57; ++i) eig.push_back(bulk(rng));
  const Tensor a = from_vector(with_spectrum(eig, rng), {60, 60});
  Generator gen(4);
  const std::vector<double> top = lanczos_top_eigenvalues(times(a), {60}, DType::Float64, 3, gen, 30);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_NEAR(top[0], 10, 1e-8);
  EXPECT_NEAR(top[1], 7, 1e-8);
  EXPECT_NEAR(top[2], 5.5, 1e-8);
  // With as many steps as dimensions the whole spectrum is recovered.
  std::vector<double> sorted = eig;
  std::sort(sorted.rbegin(), sorted.rend());
  const std::vector<double> all = lanczos_top_eigenvalues(times(a), {60}, DType::Float64, 60, gen, 60);
  ASSERT_EQ(all.size(), 60u);
  for (size_t i = 0; i < 60; ++i) EXPECT_NEAR(all[i], sorted[i], 1e-9) << i;
}

TEST(Lanczos, HessianTopEigenvaluesByHvp) {
  // f(x) = x^T A x / 2 has Hessian A whatever x.
  std::mt19937 rng(5);
  std::vector<double> eig = {4, 3, -2, 1, 0.5, 0.25, 0.1, -0.3};
  const Tensor a = from_vector(with_spectrum(eig, rng), {8, 8});
  Generator gen(6);
  const std::vector<double> top = hessian_top_eigenvalues(
      [&a](const Tensor& x) { return sum(x * matmul(a, x)) * 0.5; }, from_vector(std::vector<double>(8, 0.3)), 2, gen);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_NEAR(top[0], 4, 1e-9);
  EXPECT_NEAR(top[1], 3, 1e-9);
}

}  // namespace
}  // namespace tg
