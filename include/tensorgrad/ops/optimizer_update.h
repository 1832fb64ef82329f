#pragma once
// The optimizers' update rules as in-place ops (ggml's OPT_STEP ops): each writes the parameter and its
// state buffers through one kernel (kernels::sgd_update / adam_update, a reference loop and a fused CPU pass),
// bumps their version counters as every in-place op does, and is never recorded by autograd. The optimizers in
// tg_optim compute the step's coefficients and call these; this is the one statement of each rule.
#include <tensorgrad/core/tensor.h>
#include <tensorgrad/kernels/kernels.h>

namespace tg {

using kernels::AdamCoefficients;
using kernels::SgdCoefficients;

// param -= lr * d with d = grad (+ weight_decay * param) and, when momentum_buffer is defined,
// buf = momentum * buf + (1 - dampening) d, d = nesterov ? d + momentum * buf : buf.
// All tensors: one floating dtype, one device, param's shape; grad is only read. Throws tg::Error naming the
// tensor that does not fit, before anything is written.
void sgd_update_(Tensor& param, const Tensor& grad, Tensor& momentum_buffer, const SgdCoefficients& c);
// Adam / AdamW (c.decoupled) with optional AMSGrad (max_exp_avg_sq defined); see kernels::adam_update.
void adam_update_(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq, Tensor& max_exp_avg_sq,
                  const AdamCoefficients& c);

}  // namespace tg
