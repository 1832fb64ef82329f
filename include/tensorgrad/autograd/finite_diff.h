#pragma once
// Finite differences: derivatives from function values alone, with the step chosen from |x| and the dtype's
// machine epsilon (h = eps^(1/2) max(1, |x|) forward, eps^(1/3) max(1, |x|) central: the steps that balance
// truncation and rounding error). Used to check analytic derivatives and by zero-order methods.
#include <tensorgrad/autograd/functional.h>

namespace tg {

enum class FdScheme {
  Forward,  // (f(x + h) - f(x)) / h: error O(h), n + 1 evaluations for a gradient
  Central,  // (f(x + h) - f(x - h)) / 2h: error O(h^2), 2n evaluations
};

// The step for one coordinate of value `x` in `dtype`.
double fd_step(double x, DType dtype, FdScheme scheme);

// Gradient of scalar f at x, one coordinate at a time (evaluated in x's dtype, returned in it).
Tensor fd_gradient(const TensorFn& f, const Tensor& x, FdScheme scheme = FdScheme::Central);

// Directional derivative J v of f at x along v (f may return any shape): the step is relative to |x| and |v|.
Tensor fd_jvp(const TensorFn& f, const Tensor& x, const Tensor& v, FdScheme scheme = FdScheme::Central);

}  // namespace tg
