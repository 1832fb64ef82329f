#pragma once
// Normalisation layers as functions (torch.nn.functional.layer_norm / batch_norm). The VJPs are written with
// tensor ops, so grad-of-grad works.
#include <tensorgrad/core/tensor.h>

namespace tg {

// Normalises over the trailing dims given by normalized_shape (which must equal x's last dims) with the biased
// variance: (x - mean) / sqrt(var + eps) * weight + bias. weight and bias (optional: pass {}) have
// normalized_shape.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = {}, const Tensor& bias = {},
                  double eps = 1e-5);

// x is [N, C] or [N, C, *]; statistics are per channel C over every other dim. weight, bias, running_mean and
// running_var are [C] (each optional: pass {}).
// training: normalises with the batch statistics (biased variance) and, when running stats are given, updates
// them in place without recording: running = (1 - momentum) * running + momentum * batch, the variance being
// the unbiased batch variance (as PyTorch). Needs more than one value per channel.
// eval (training = false): normalises with running_mean / running_var, which must then be given.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight = {},
                  const Tensor& bias = {}, bool training = false, double momentum = 0.1, double eps = 1e-5);

}  // namespace tg
