#pragma once
// Optimizer updates as one pass over each parameter's contiguous buffers, instead of a chain of
// elementwise ops that reads and writes every buffer several times. The element formulas are torch.optim's
// (foreach / fused off); coefficients are computed once, in double, by the caller.
#include <cstdint>

#include <tensorgrad/core/dtype.h>

namespace tg::kernels {

struct AdamCoefficients {
  double lr_over_bias_correction1 = 0;  // lr / (1 - beta1^t)
  double one_minus_beta1 = 0, one_minus_beta2 = 0;
  double bias_correction2_sqrt = 1;  // sqrt(1 - beta2^t)
  double eps = 0;
  double weight_decay = 0;  // L2 (added to the gradient) unless `decoupled`
  double decoupled_decay = 1;  // AdamW: the parameter is first multiplied by this (1 - lr * weight_decay)
  bool decoupled = false;
};
// g = grad (+ weight_decay * p); m += (1 - b1)(g - m); v += (1 - b2)(g^2 - v); vmax = max(vmax, v) when given;
// p -= lr / bc1 * m / (sqrt(vmax or v) / sqrt(bc2) + eps). All n elements contiguous, of `dtype`
// (float32 or float64); max_exp_avg_sq may be null.
void adam_update(DType dtype, int64_t n, const AdamCoefficients& c, void* param, const void* grad, void* exp_avg,
                 void* exp_avg_sq, void* max_exp_avg_sq);

struct SgdCoefficients {
  double lr = 0, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;
};
// d = grad (+ weight_decay * p); with momentum: buf = momentum * buf + (1 - dampening) d,
// d = nesterov ? d + momentum * buf : buf; then p -= lr * d. buf may be null when momentum is 0.
void sgd_update(DType dtype, int64_t n, const SgdCoefficients& c, void* param, const void* grad, void* buf);

}  // namespace tg::kernels
