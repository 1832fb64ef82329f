// The functional API against closed forms: jvp, vjp, grad, value_and_grad, jacrev, jacfwd, hessian, and hvp in
// both modes (forward-over-reverse and reverse-over-reverse), on sum(tanh(x)^3) and a logistic regression loss.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include <tensorgrad/tensorgrad.h>

namespace tg {
namespace {

std::vector<double> values_of(const Tensor& t) { return t.to(DType::Float64).contiguous().to_vector<double>(); }

void expect_close(const Tensor& got, const std::vector<double>& want, double tol, const std::string& what) {
  ASSERT_TRUE(got.defined()) << what;
  const std::vector<double> g = values_of(got);
  ASSERT_EQ(g.size(), want.size()) << what;
  for (size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], want[i], tol * (1 + std::abs(want[i]))) << what << " [" << i << "]";
}

std::vector<double> draw(std::mt19937& rng, size_t n, double lo, double hi) {
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(n);
  for (auto& e : v) e = u(rng);
  return v;
}

// f(x) = sum tanh(x)^3: f' = 3t^2(1 - t^2), f'' = 6t(1 - 2t^2)(1 - t^2), t = tanh x; the Hessian is diagonal.
Tensor tanh_cubed(const Tensor& x) { return sum(pow(tanh(x), 3)); }
double tc_d1(double x) {
  const double t = std::tanh(x);
  return 3 * t * t * (1 - t * t);
}
double tc_d2(double x) {
  const double t = std::tanh(x);
  return 6 * t * (1 - 2 * t * t) * (1 - t * t);
}

// Logistic regression: L(w) = mean_i [softplus(z_i) - y_i z_i], z = X w. grad = X^T (s - y) / n and
// H = X^T diag(s (1 - s)) X / n with s = sigmoid(z).
struct Logistic {
  int64_t n = 7, d = 4;
  std::vector<double> x, y;
  explicit Logistic(std::mt19937& rng) : x(draw(rng, 28, -1.5, 1.5)) {
    for (int64_t i = 0; i < n; ++i) y.push_back(i % 3 == 0 ? 1.0 : 0.0);
  }
  Tensor loss(const Tensor& w) const {
    const Tensor X = from_vector(x, {n, d});
    return binary_cross_entropy_with_logits(matmul(X, w), from_vector(y, {n}));
  }
  std::vector<double> s(const std::vector<double>& w) const {
    std::vector<double> out;
    for (int64_t i = 0; i < n; ++i) {
      double z = 0;
      for (int64_t j = 0; j < d; ++j) z += x[static_cast<size_t>(i * d + j)] * w[static_cast<size_t>(j)];
      out.push_back(1 / (1 + std::exp(-z)));
    }
    return out;
  }
  std::vector<double> grad(const std::vector<double>& w) const {
    const auto sv = s(w);
    std::vector<double> g(static_cast<size_t>(d), 0.0);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < d; ++j)
        g[static_cast<size_t>(j)] += x[static_cast<size_t>(i * d + j)] * (sv[static_cast<size_t>(i)] - y[static_cast<size_t>(i)]) / static_cast<double>(n);
    return g;
  }
  std::vector<double> hessian(const std::vector<double>& w) const {
    const auto sv = s(w);
    std::vector<double> h(static_cast<size_t>(d * d), 0.0);
    for (int64_t i = 0; i < n; ++i) {
      const double c = sv[static_cast<size_t>(i)] * (1 - sv[static_cast<size_t>(i)]) / static_cast<double>(n);
      for (int64_t a = 0; a < d; ++a)
        for (int64_t b = 0; b < d; ++b)
          h[static_cast<size_t>(a * d + b)] += c * x[static_cast<size_t>(i * d + a)] * x[static_cast<size_t>(i * d + b)];
    }
    return h;
  }
};

std::vector<double> matvec(const std::vector<double>& m, const std::vector<double>& v) {
  std::vector<double> out(v.size(), 0.0);
  for (size_t i = 0; i < v.size(); ++i)
    for (size_t j = 0; j < v.size(); ++j) out[i] += m[i * v.size() + j] * v[j];
  return out;
}

TEST(Functional, JvpOfElementwiseMatchesClosedForm) {
  std::mt19937 rng(1);
  const auto xv = draw(rng, 6, -2, 2), vv = draw(rng, 6, -1, 1);
  const Tensor x = from_vector(xv, {2, 3}), v = from_vector(vv, {2, 3});
  const auto [y, jv] = jvp([](const Tensor& t) { return sin(t) * t; }, x, v);
  std::vector<double> want_y, want_jv;
  for (size_t i = 0; i < xv.size(); ++i) {
    want_y.push_back(std::sin(xv[i]) * xv[i]);
    want_jv.push_back((std::cos(xv[i]) * xv[i] + std::sin(xv[i])) * vv[i]);
  }
  expect_close(y, want_y, 1e-14, "value");
  expect_close(jv, want_jv, 1e-14, "J v");
  EXPECT_FALSE(y.requires_grad());
  EXPECT_FALSE(x.tangent().defined()) << "jvp must not attach tangents to the caller's tensors";
}

TEST(Functional, JvpKeepsNoGraphAndSumsOverInputs) {
  Tensor a = from_vector(std::vector<double>{1, 2, 3}).requires_grad_();
  const Tensor b = from_vector(std::vector<double>{-1, 0.5, 2});
  const auto [y, jv] = jvp([](const TensorList& xs) { return xs[0] * xs[1] + exp(xs[1]); }, {a, b},
                           {from_vector(std::vector<double>{1, 0, 0}), from_vector(std::vector<double>{0, 1, 1})});
  EXPECT_FALSE(y.requires_grad()) << "the primals are detached copies";
  EXPECT_FALSE(jv.requires_grad());
  // d(a b + e^b) = b da + (a + e^b) db
  expect_close(jv, {-1, 2 + std::exp(0.5), 3 + std::exp(2.0)}, 1e-14, "J v");
}

TEST(Functional, JvpOfConstantFunctionIsZero) {
  const Tensor x = from_vector(std::vector<double>{1, 2});
  const Tensor c = from_vector(std::vector<double>{5, 6});
  const auto [y, jv] = jvp([&c](const Tensor&) { return c * 2.0; }, x, x);
  expect_close(y, {10, 12}, 0, "value");
  expect_close(jv, {0, 0}, 0, "J v");
}

TEST(Functional, GradAndValueAndGradOfLogisticLoss) {
  std::mt19937 rng(2);
  const Logistic lr(rng);
  const auto wv = draw(rng, 4, -1, 1);
  const Tensor w = from_vector(wv);
  const auto [value, g] = value_and_grad([&lr](const Tensor& t) { return lr.loss(t); }, w);
  expect_close(g, lr.grad(wv), 1e-12, "gradient");
  expect_close(grad([&lr](const Tensor& t) { return lr.loss(t); }, w), lr.grad(wv), 1e-12, "grad");
  EXPECT_EQ(value.numel(), 1);
  EXPECT_FALSE(w.requires_grad()) << "grad must not change its argument";
}

TEST(Functional, VjpPullbackIsReusable) {
  const Tensor x = from_vector(std::vector<double>{0.5, -1, 2});
  const VjpResult r = vjp([](const Tensor& t) { return t * t * t; }, x);
  expect_close(r.value, {0.125, -1, 8}, 1e-15, "value");
  expect_close(r.pullback(from_vector(std::vector<double>{1, 1, 1})), {0.75, 3, 12}, 1e-15, "pullback 1");
  expect_close(r.pullback(from_vector(std::vector<double>{2, 0, -1})), {1.5, 0, -12}, 1e-15, "pullback 2");
}

TEST(Functional, JacrevAndJacfwdAgreeWithClosedForm) {
  std::mt19937 rng(3);
  const auto av = draw(rng, 12, -1, 1), xv = draw(rng, 4, -1, 1);
  const Tensor A = from_vector(av, {3, 4});
  const TensorFn f = [&A](const Tensor& x) { return matmul(A, tanh(x)); };  // J = A diag(1 - tanh^2)
  std::vector<double> want;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) {
      const double t = std::tanh(xv[static_cast<size_t>(j)]);
      want.push_back(av[static_cast<size_t>(i * 4 + j)] * (1 - t * t));
    }
  const Tensor x = from_vector(xv);
  const Tensor jr = jacrev(f, x), jf = jacfwd(f, x);
  EXPECT_EQ(jr.shape(), (Shape{3, 4}));
  EXPECT_EQ(jf.shape(), (Shape{3, 4}));
  expect_close(jr, want, 1e-14, "jacrev");
  expect_close(jf, want, 1e-14, "jacfwd");
}

TEST(Functional, HessianOfLogisticLossAndTanhCubed) {
  std::mt19937 rng(4);
  const Logistic lr(rng);
  const auto wv = draw(rng, 4, -1, 1);
  const Tensor h = hessian([&lr](const Tensor& t) { return lr.loss(t); }, from_vector(wv));
  EXPECT_EQ(h.shape(), (Shape{4, 4}));
  expect_close(h, lr.hessian(wv), 1e-10, "logistic Hessian");

  const auto xv = draw(rng, 5, -1.5, 1.5);
  std::vector<double> want(25, 0.0);
  for (size_t i = 0; i < 5; ++i) want[i * 5 + i] = tc_d2(xv[i]);
  expect_close(hessian(tanh_cubed, from_vector(xv)), want, 1e-10, "tanh^3 Hessian");
}

TEST(Functional, HvpBothWaysAgreeWithClosedFormsAndEachOther) {
  std::mt19937 rng(5);
  const Logistic lr(rng);
  const TensorFn loss = [&lr](const Tensor& t) { return lr.loss(t); };
  for (int trial = 0; trial < 3; ++trial) {
    const auto wv = draw(rng, 4, -1, 1), vv = draw(rng, 4, -1, 1);
    const Tensor w = from_vector(wv), v = from_vector(vv);
    const Tensor fwd = hvp(loss, w, v, HvpMode::ForwardOverReverse);
    const Tensor rev = hvp(loss, w, v, HvpMode::ReverseOverReverse);
    const std::vector<double> want = matvec(lr.hessian(wv), vv);
    expect_close(fwd, want, 1e-10, "logistic forward-over-reverse");
    expect_close(rev, want, 1e-10, "logistic reverse-over-reverse");
    expect_close(fwd, values_of(rev), 1e-10, "logistic: the two modes");
  }
  const auto xv = draw(rng, 8, -1.5, 1.5), vv = draw(rng, 8, -1, 1);
  const Tensor x = from_vector(xv, {2, 4}), v = from_vector(vv, {2, 4});
  std::vector<double> want;
  for (size_t i = 0; i < 8; ++i) want.push_back(tc_d2(xv[i]) * vv[i]);
  const Tensor fwd = hvp(tanh_cubed, x, v, HvpMode::ForwardOverReverse);
  const Tensor rev = hvp(tanh_cubed, x, v, HvpMode::ReverseOverReverse);
  EXPECT_EQ(fwd.shape(), x.shape());
  expect_close(fwd, want, 1e-10, "tanh^3 forward-over-reverse");
  expect_close(rev, want, 1e-10, "tanh^3 reverse-over-reverse");
  expect_close(fwd, values_of(rev), 1e-10, "tanh^3: the two modes");
  std::vector<double> g;
  for (double e : xv) g.push_back(tc_d1(e));
  expect_close(grad(tanh_cubed, x), g, 1e-12, "tanh^3 gradient");
}

TEST(Functional, GradComposesWithItself) {
  // d/dx of (d/dx x^4 = 4 x^3) = 12 x^2, through the recorded inner backward pass.
  Tensor x = from_vector(std::vector<double>{1.5}).requires_grad_();
  const Tensor inner = grad([](const Tensor& t) { return sum(pow(t, 4)); }, x);
  EXPECT_TRUE(inner.requires_grad());
  const Tensor outer = grad([](const Tensor& t) { return sum(grad([](const Tensor& s) { return sum(pow(s, 4)); }, t)); },
                            from_vector(std::vector<double>{1.5}));
  expect_close(inner, {4 * 1.5 * 1.5 * 1.5}, 1e-14, "inner");
  expect_close(outer, {12 * 1.5 * 1.5}, 1e-12, "outer");
}

TEST(Functional, TangentRejectsMismatchedShapes) {
  const Tensor x = from_vector(std::vector<double>{1, 2});
  EXPECT_THROW(jvp([](const Tensor& t) { return t; }, x, from_vector(std::vector<double>{1, 2, 3})), Error);
  EXPECT_THROW(x.set_tangent(from_vector(std::vector<float>{1, 2})), Error);
}

}  // namespace
}  // namespace tg
