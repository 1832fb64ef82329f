#pragma once
// In-place update helpers for the optimizers. Every call runs under the optimizer's NoGradGuard, so nothing is
// recorded. The fused kernels (include/tensorgrad/kernels/fused_update.h) do a whole update in one pass when
// every buffer is a contiguous CPU tensor of the parameter's floating dtype, as parameters, their gradients
// and the state made by zeros_like / clone are; anything else (a strided view, another device) takes the
// composed ops below, which give the same values up to rounding.
#include <initializer_list>

#include <tensorgrad/core/tensor.h>
#include <tensorgrad/ops/elementwise.h>

namespace tg::optim::detail {

// self = self + weight * (end - self)   (torch's lerp_ with a scalar weight; 4 passes)
inline void lerp_(Tensor& self, const Tensor& end, double weight) { self.add_(sub(end, self), weight); }

// self = scale * self + other   (torch's mul_(scale).add_(other); 3 passes)
inline void scale_add_(Tensor& self, double scale, const Tensor& other) { self.copy_(add(mul(self, scale), other)); }

// Whether the fused kernels can update `param` with these buffers (null or undefined ones are absent).
inline bool fusable(const Tensor& param, std::initializer_list<const Tensor*> buffers) {
  auto plain = [&](const Tensor& t) {
    return t.device().type == DeviceType::CPU && t.dtype() == param.dtype() && t.is_contiguous() &&
           t.numel() == param.numel();
  };
  if (!is_floating(param.dtype()) || !plain(param)) return false;
  for (const Tensor* t : buffers)
    if (t != nullptr && t->defined() && !plain(*t)) return false;
  return true;
}

// The fused kernels write storages directly: bump their version counters as the in-place ops would, so a
// tensor saved for a backward that is still pending is reported as modified.
inline void mark_written(std::initializer_list<const Tensor*> written) {
  for (const Tensor* t : written)
    if (t != nullptr && t->defined()) t->storage()->bump_version();
}

}  // namespace tg::optim::detail
