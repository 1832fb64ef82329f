#pragma once
// Checks analytic gradients against central finite differences. Public API: users check their own ops.
#include <functional>
#include <string>

#include <tensorgrad/core/tensor.h>

namespace tg {

using DifferentiableFn = std::function<Tensor(const TensorList&)>;

struct GradcheckOptions {
  double eps = 1e-6;   // finite-difference step
  double atol = 1e-5;
  double rtol = 1e-3;
};

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0;  // largest |analytic - numeric| over all Jacobian entries
  std::string message;       // empty when ok; otherwise names the input, the entry and both values
  explicit operator bool() const { return ok; }
};

// Compares the full Jacobian of fn at `inputs` computed by backward (one VJP per output element) with
// central differences. Inputs that require grad are perturbed; they should be float64.
GradcheckResult gradcheck(const DifferentiableFn& fn, const TensorList& inputs, GradcheckOptions options = {});

// Second order: gradcheck of x -> VJP(fn, x, u) for a fixed random u, the backward pass recorded with
// create_graph. Passes only when every VJP used is itself differentiable.
GradcheckResult gradgradcheck(const DifferentiableFn& fn, const TensorList& inputs, GradcheckOptions options = {});

// Numeric Jacobian d fn(inputs)/d inputs[which], shape [fn numel, input numel], float64.
Tensor numeric_jacobian(const DifferentiableFn& fn, const TensorList& inputs, size_t which, double eps = 1e-6);

}  // namespace tg
