#include <tensorgrad/autograd/zero_order.h>

#include <cmath>

#include <tensorgrad/core/graph.h>
#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/reduce.h>
#include <tensorgrad/ops/view.h>

namespace tg {

namespace {

double value_of(const TensorFn& f, const Tensor& x) {
  const Tensor y = f(x);
  TG_CHECK(y.defined() && y.numel() == 1, "tg::zo_gradient: f must return a one-element tensor, got shape ",
           y.defined() ? y.shape() : Shape{});
  return y.item();
}

}  // namespace

int64_t zo_evaluations(const ZoOptions& options, int64_t dimension) {
  return options.estimator == ZoEstimator::Coordinate ? 2 * dimension : 2 * options.directions;
}

Tensor zo_gradient(const TensorFn& f, const Tensor& x, const ZoOptions& options, Generator& gen) {
  TG_CHECK(is_floating(x.dtype()), "tg::zo_gradient: x must be floating, got ", dtype_name(x.dtype()));
  TG_CHECK(options.smoothing > 0, "tg::zo_gradient: smoothing must be positive, got ", options.smoothing);
  TG_CHECK(options.directions >= 1, "tg::zo_gradient: directions must be at least 1, got ", options.directions);
  NoGradGuard no_grad;
  const Tensor x0 = x.detach();
  const double mu = options.smoothing;
  const int64_t d = x.numel();
  if (options.estimator == ZoEstimator::Coordinate) {
    Tensor g = zeros({d}, DType::Float64);
    Tensor e = zeros({d}, x.dtype());
    for (int64_t i = 0; i < d; ++i) {
      e.fill_(0.0);
      select(e, 0, i).fill_(mu);
      const Tensor step = reshape(e, x.shape());
      g.data<double>()[i] = (value_of(f, x0 + step) - value_of(f, x0 - step)) / (2 * mu);
    }
    return reshape(to(g, x.dtype()), x.shape());
  }
  Tensor g = zeros(x.shape(), x.dtype());
  for (int64_t k = 0; k < options.directions; ++k) {
    Tensor u = randn(x.shape(), x.dtype(), gen);
    // Uniform on the sphere: a normalised Gaussian; E[d u u^T] = I keeps the estimate unbiased.
    if (options.estimator == ZoEstimator::Sphere) u = u / sqrt(sum(u * u)) * std::sqrt(static_cast<double>(d));
    const double slope = (value_of(f, x0 + u * mu) - value_of(f, x0 - u * mu)) / (2 * mu);
    g = g + u * slope;
  }
  return g / static_cast<double>(options.directions);
}

}  // namespace tg
