// Hessian-vector products by double backward (grad with create_graph, then grad of <grad, v>), checked
// against closed forms derived by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "support/oracle.h"

namespace tgtest {
namespace {

// f(x) = sum tanh(x)^3. With t = tanh x and t' = 1 - t^2:
//   f'(x)  = 3 t^2 t' = 3 t^2 (1 - t^2) = 3t^2 - 3t^4
//   f''(x) = (6t - 12t^3) t' = 6 t (1 - 2t^2)(1 - t^2)
// The Hessian is diagonal, so Hv = f''(x) * v elementwise.
double d1(double x) {
  const double t = std::tanh(x);
  return 3 * t * t * (1 - t * t);
}
double d2(double x) {
  const double t = std::tanh(x);
  return 6 * t * (1 - 2 * t * t) * (1 - t * t);
}

RefArg expected(const Shape& shape, const std::vector<double>& x, const std::vector<double>& v, bool second) {
  RefArg out{shape, {}};
  for (size_t i = 0; i < x.size(); ++i) out.v.push_back(second ? d2(x[i]) * v[i] : d1(x[i]));
  return out;
}

constexpr Tolerance kTol{1e-9, 1e-12};

TEST(OpHvp, TanhCubedViaGrad) {
  std::mt19937 rng(7);
  for (Layout layout : {Layout::Contiguous, Layout::Transposed}) {
    for (int form = 0; form < 2; ++form) {
      SCOPED_TRACE(std::string(layout_name(layout)) + (form == 0 ? " pow(t, 3)" : " t * t * t"));
      const Shape shape = {2, 4};
      const std::vector<double> xv = uniform(rng, 8, -1.5, 1.5), vv = uniform(rng, 8, -1, 1);
      Tensor x = make_tensor(shape, xv, DType::Float64, layout);
      x.requires_grad_(true);
      const Tensor v = make_tensor(shape, vv, DType::Float64, layout);
      const Tensor t = tg::tanh(x);
      const Tensor f = tg::sum(form == 0 ? tg::pow(t, 3) : t * t * t);
      const Tensor g = tg::grad({f}, {x}, {}, tg::GradOptions{.create_graph = true})[0];
      ASSERT_TRUE(g.defined());
      EXPECT_TRUE(g.requires_grad()) << "create_graph must record the backward pass";
      std::string diff = compare(to_ref(g), expected(shape, xv, vv, false), kTol);
      EXPECT_TRUE(diff.empty()) << "gradient: " << diff;
      const Tensor hv = tg::grad({tg::sum(g * v)}, {x})[0];
      ASSERT_TRUE(hv.defined());
      diff = compare(to_ref(hv), expected(shape, xv, vv, true), kTol);
      EXPECT_TRUE(diff.empty()) << "Hessian-vector product: " << diff;
    }
  }
}

TEST(OpHvp, TanhCubedViaBackward) {
  std::mt19937 rng(11);
  const std::vector<double> xv = uniform(rng, 6, -1.5, 1.5), vv = uniform(rng, 6, -1, 1);
  Tensor x = make_tensor({6}, xv, DType::Float64);
  x.requires_grad_(true);
  const Tensor v = make_tensor({6}, vv, DType::Float64);
  tg::sum(tg::pow(tg::tanh(x), 3)).backward({}, /*retain_graph=*/false, /*create_graph=*/true);
  const Tensor g = x.grad();
  ASSERT_TRUE(g.defined());
  EXPECT_TRUE(compare(to_ref(g), expected({6}, xv, vv, false), kTol).empty());
  x.zero_grad();
  tg::sum(g * v).backward();
  ASSERT_TRUE(x.grad().defined());
  const std::string diff = compare(to_ref(x.grad()), expected({6}, xv, vv, true), kTol);
  EXPECT_TRUE(diff.empty()) << diff;
}

// f(x) = (sum x^2)^2: grad = 4 |x|^2 x, Hv = 8 (x.v) x + 4 |x|^2 v. A dense Hessian, where the two paths
// through x must be accumulated.
TEST(OpHvp, SquaredNormDenseHessian) {
  std::mt19937 rng(13);
  const std::vector<double> xv = uniform(rng, 5, -1, 1), vv = uniform(rng, 5, -1, 1);
  Tensor x = make_tensor({5}, xv, DType::Float64);
  x.requires_grad_(true);
  const Tensor v = make_tensor({5}, vv, DType::Float64);
  const Tensor n2 = tg::sum(tg::square(x));
  const Tensor f = n2 * n2;
  const Tensor g = tg::grad({f}, {x}, {}, tg::GradOptions{.create_graph = true})[0];
  const Tensor hv = tg::grad({tg::sum(g * v)}, {x})[0];
  double xx = 0, xv_dot = 0;
  for (size_t i = 0; i < xv.size(); ++i) {
    xx += xv[i] * xv[i];
    xv_dot += xv[i] * vv[i];
  }
  RefArg want_g{{5}, {}}, want_hv{{5}, {}};
  for (size_t i = 0; i < xv.size(); ++i) {
    want_g.v.push_back(4 * xx * xv[i]);
    want_hv.v.push_back(8 * xv_dot * xv[i] + 4 * xx * vv[i]);
  }
  EXPECT_TRUE(compare(to_ref(g), want_g, kTol).empty()) << compare(to_ref(g), want_g, kTol);
  EXPECT_TRUE(compare(to_ref(hv), want_hv, kTol).empty()) << compare(to_ref(hv), want_hv, kTol);
}

// f(x) = sum tanh(A x): H = A^T diag(tanh''(Ax)) A with tanh''(z) = -2 tanh z (1 - tanh^2 z), so
// Hv = A^T (tanh''(Ax) * (A v)): exercises matmul's double backward.
TEST(OpHvp, MatmulTanhHessian) {
  std::mt19937 rng(17);
  const int64_t m = 3, n = 4;
  const std::vector<double> av = uniform(rng, m * n, -1, 1), xv = uniform(rng, n, -1, 1), vv = uniform(rng, n, -1, 1);
  const Tensor a = make_tensor({m, n}, av, DType::Float64);
  Tensor x = make_tensor({n}, xv, DType::Float64);
  x.requires_grad_(true);
  const Tensor v = make_tensor({n}, vv, DType::Float64);
  const Tensor g = tg::grad({tg::sum(tg::tanh(tg::matmul(a, x)))}, {x}, {}, tg::GradOptions{.create_graph = true})[0];
  const Tensor hv = tg::grad({tg::sum(g * v)}, {x})[0];
  RefArg want_g{{n}, std::vector<double>(n, 0.0)}, want_hv{{n}, std::vector<double>(n, 0.0)};
  for (int64_t i = 0; i < m; ++i) {
    double z = 0, av_i = 0;
    for (int64_t j = 0; j < n; ++j) {
      z += av[i * n + j] * xv[j];
      av_i += av[i * n + j] * vv[j];
    }
    const double t = std::tanh(z), t1 = 1 - t * t, t2 = -2 * t * t1;
    for (int64_t j = 0; j < n; ++j) {
      want_g.v[j] += av[i * n + j] * t1;
      want_hv.v[j] += av[i * n + j] * t2 * av_i;
    }
  }
  EXPECT_TRUE(compare(to_ref(g), want_g, kTol).empty()) << compare(to_ref(g), want_g, kTol);
  EXPECT_TRUE(compare(to_ref(hv), want_hv, kTol).empty()) << compare(to_ref(hv), want_hv, kTol);
}

}  // namespace
}  // namespace tgtest
