#pragma once
// Normalisation layers as functions (torch.nn.functional.layer_norm / batch_norm). The VJPs are written with
// tensor ops, so grad-of-grad works.
#include <optional>

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

// x is [N, C, *]; its C channels fall into num_groups groups of C / num_groups, each normalised per sample over
// its channels and every other dim (biased variance), then weight and bias ([C], optional) applied per channel
// (torch.nn.functional.group_norm). Built on layer_norm's node.
Tensor group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight = {}, const Tensor& bias = {},
                  double eps = 1e-5);

// x / sqrt(mean(x^2) + eps) * weight over the trailing normalized_shape dims (torch.nn.functional.rms_norm);
// eps defaults to the machine epsilon of x's dtype, as torch's eps=None. Composed from differentiable ops.
Tensor rms_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = {},
                std::optional<double> eps = std::nullopt);

}  // namespace tg
