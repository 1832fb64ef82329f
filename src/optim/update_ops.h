#pragma once
// Fused in-place updates the ops layer does not have yet, composed from the ops it has. Every call runs
// under the optimizer's NoGradGuard, so nothing is recorded. Each in-place op of tg_ops computes its value
// out of place and then writes it into the storage; the pass counts below include that write. Replacing
// these by fused kernels later changes nothing above this file.
#include <tensorgrad/core/tensor.h>
#include <tensorgrad/ops/elementwise.h>

namespace tg::optim::detail {

// self = self + weight * (end - self)   (torch's lerp_ with a scalar weight; 4 passes)
inline void lerp_(Tensor& self, const Tensor& end, double weight) { self.add_(sub(end, self), weight); }

// self = scale * self + other   (torch's mul_(scale).add_(other); 3 passes)
inline void scale_add_(Tensor& self, double scale, const Tensor& other) { self.copy_(add(mul(self, scale), other)); }

}  // namespace tg::optim::detail
