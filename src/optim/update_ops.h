#pragma once
// In-place update helpers for the optimizers whose rule is written with tensor ops (RMSprop). Every call runs
// under the optimizer's NoGradGuard, so nothing is recorded. SGD and Adam/AdamW have update ops of their own
// (tensorgrad/ops/optimizer_update.h).
#include <tensorgrad/core/tensor.h>
#include <tensorgrad/ops/elementwise.h>

namespace tg::optim::detail {

// self = self + weight * (end - self)   (torch's lerp_ with a scalar weight; 4 passes)
inline void lerp_(Tensor& self, const Tensor& end, double weight) { self.add_(sub(end, self), weight); }

// self = scale * self + other   (torch's mul_(scale).add_(other); 3 passes)
inline void scale_add_(Tensor& self, double scale, const Tensor& other) { self.copy_(add(mul(self, scale), other)); }

}  // namespace tg::optim::detail
