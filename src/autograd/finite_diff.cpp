#include <tensorgrad/autograd/finite_diff.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include <tensorgrad/core/graph.h>
#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/reduce.h>
#include <tensorgrad/ops/view.h>

namespace tg {

namespace {

double machine_epsilon(DType dtype) {
  TG_CHECK(is_floating(dtype), "tg::fd_step: finite differences need a floating dtype, got ", dtype_name(dtype));
  return dtype == DType::Float32 ? std::numeric_limits<float>::epsilon() : std::numeric_limits<double>::epsilon();
}

double scalar_of(const Tensor& y, const char* op) {
  TG_CHECK(y.defined() && y.numel() == 1, op, ": f must return a one-element tensor, got shape ",
           y.defined() ? y.shape() : Shape{});
  return y.item();
}

}  // namespace

double fd_step(double x, DType dtype, FdScheme scheme) {
  const double eps = machine_epsilon(dtype);
  const double base = scheme == FdScheme::Central ? std::cbrt(eps) : std::sqrt(eps);
  return base * std::max(1.0, std::abs(x));
}

Tensor fd_gradient(const TensorFn& f, const Tensor& x, FdScheme scheme) {
  NoGradGuard no_grad;
  const Tensor x0 = x.detach().contiguous().clone();
  const std::vector<double> values = to(x0, DType::Float64).to_vector<double>();
  std::vector<double> grad(values.size());
  const double f0 = scheme == FdScheme::Forward ? scalar_of(f(x0), "tg::fd_gradient") : 0.0;
  Tensor probe = to(x0, DType::Float64);
  for (size_t i = 0; i < values.size(); ++i) {
    // The step actually taken is (x + h) - x after rounding to x's dtype, which keeps the quotient honest.
    const double h = fd_step(values[i], x.dtype(), scheme);
    auto at = [&](double delta) {
      probe.data<double>()[i] = values[i] + delta;
      const Tensor p = to(probe, x.dtype());
      const double taken = to(p, DType::Float64).to_vector<double>()[i] - values[i];
      const double fx = scalar_of(f(reshape(p, x.shape())), "tg::fd_gradient");
      probe.data<double>()[i] = values[i];
      return std::pair<double, double>{fx, taken};
    };
    if (scheme == FdScheme::Forward) {
      const auto [fp, hp] = at(h);
      grad[i] = (fp - f0) / hp;
    } else {
      const auto [fp, hp] = at(h);
      const auto [fm, hm] = at(-h);
      grad[i] = (fp - fm) / (hp - hm);
    }
  }
  return reshape(to(from_vector(grad), x.dtype()), x.shape());
}

Tensor fd_jvp(const TensorFn& f, const Tensor& x, const Tensor& v, FdScheme scheme) {
  TG_CHECK(v.defined() && v.shape() == x.shape(), "tg::fd_jvp: direction of shape ", v.defined() ? v.shape() : Shape{},
           " for a point of shape ", x.shape());
  NoGradGuard no_grad;
  const Tensor xd = x.detach(), vd = to(v.detach(), x.dtype());
  const double x_scale = x.numel() ? max(abs(to(xd, DType::Float64))).item() : 0.0;
  const double v_scale = v.numel() ? max(abs(to(vd, DType::Float64))).item() : 0.0;
  if (v_scale == 0) return zeros_like(f(xd));
  const double h = fd_step(x_scale, x.dtype(), scheme) / v_scale;
  if (scheme == FdScheme::Forward) return (f(xd + vd * h) - f(xd)) / h;
  return (f(xd + vd * h) - f(xd - vd * h)) / (2 * h);
}

}  // namespace tg
