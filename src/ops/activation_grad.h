#pragma once
// Activation gradients as single recorded ops (implemented in binary.cpp, kernels::BinaryOp):
//   relu_grad(g, x) = g where x > 0, else 0 (the 0 at x = 0 is PyTorch's choice). Differentiable in g (its VJP
//     and JVP are relu_grad again); x only selects.
//   silu_grad(g, x) = g * silu'(x) = g * s (1 + x (1 - s)), s = sigmoid(x): one pass where the composed form
//     takes six. Differentiable in both (the x side through silu'' written with tensor ops), so any order of
//     derivative works; on a device without the fused kernel it is that composed form.
#include <tensorgrad/core/tensor.h>

namespace tg::ops {

Tensor relu_grad(const Tensor& grad, const Tensor& input);
Tensor silu_grad(const Tensor& grad, const Tensor& input);

}  // namespace tg::ops
