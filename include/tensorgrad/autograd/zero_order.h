#pragma once
// Zero-order gradient estimators: gradients from function values only, for black-box objectives (or to
// compare with autodiff). All are unbiased for the gradient of a smoothed f and exact in the limit of a
// small smoothing radius for smooth f.
#include <cstdint>

#include <tensorgrad/autograd/functional.h>
#include <tensorgrad/core/random.h>

namespace tg {

enum class ZoEstimator {
  Gaussian,    // g = (1/q) sum_k [f(x + mu u_k) - f(x - mu u_k)] / (2 mu) u_k, u_k ~ N(0, I)
  Sphere,      // the same with u_k uniform on the unit sphere, scaled by the dimension d
  Coordinate,  // central differences along every coordinate: 2d evaluations, deterministic
};

struct ZoOptions {
  ZoEstimator estimator = ZoEstimator::Gaussian;
  int64_t directions = 1;  // q, for the random estimators
  double smoothing = 1e-3;  // mu
};

// The estimate of grad f(x) for scalar f, in x's shape and dtype; random directions come from `gen`.
Tensor zo_gradient(const TensorFn& f, const Tensor& x, const ZoOptions& options, Generator& gen);

// Function evaluations one estimate costs: 2q, or 2d for Coordinate.
int64_t zo_evaluations(const ZoOptions& options, int64_t dimension);

}  // namespace tg
