#pragma once
// Activations composed from differentiable ops (torch.nn.functional's formulas), so their VJPs, JVPs and
// higher derivatives come from the ops they are built of. Each keeps the branch it does not take finite, so a
// gradient through `where` never meets inf * 0.
#include <tensorgrad/core/tensor.h>

namespace tg {

// log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (torch.nn.functional.softplus).
Tensor softplus(const Tensor& x, double beta = 1.0, double threshold = 20.0);
// x for x > 0, negative_slope * x otherwise.
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
// x for x > 0, alpha (exp(x) - 1) otherwise.
Tensor elu(const Tensor& x, double alpha = 1.0);
// The gated linear unit: x split in two halves a, b along `dim` (its size must be even), a * sigmoid(b).
Tensor glu(const Tensor& x, int64_t dim = -1);
// GELU's tanh approximation (gelu(x, approximate="tanh")): 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).
Tensor gelu_tanh(const Tensor& x);

}  // namespace tg
