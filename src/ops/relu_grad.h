#pragma once
// relu's gradient as one recorded op: relu_grad(g, x) = g where x > 0, else 0 (the 0 at x = 0 is
// PyTorch's choice). Differentiable in g (its VJP and JVP are relu_grad again); x only selects.
#include <tensorgrad/core/tensor.h>

namespace tg::ops {

Tensor relu_grad(const Tensor& grad, const Tensor& input);

}  // namespace tg::ops
