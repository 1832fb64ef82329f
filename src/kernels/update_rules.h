#pragma once
// One element of each optimizer update: the one statement of the rules (torch.optim's formulas, in its order
// of operations) that the reference kernels (ref/optimizer.cpp) apply. Plain C++17 with no tensorgrad
// includes, so nvcc can compile it for the device: the CUDA backend's kernels (cuda/optimizer.cu) still restate
// it, as the version that ran on the H200; their move onto this header (branch wip/cuda-unvalidated) waits for
// a GPU run. The CPU's vectorised loops (cpu/fused_update.cpp) restate it with compile-time options and are
// tested against the reference.
#include <cmath>

#if defined(__CUDACC__)
#define TG_HOST_DEVICE __host__ __device__
#else
#define TG_HOST_DEVICE
#endif

namespace tg::kernels::rules {

// C: any struct with SgdCoefficients' fields (lr, momentum, dampening, weight_decay, nesterov).
template <class T, class C>
TG_HOST_DEVICE inline void sgd_element(const C& c, T& p, T g, T* buf) {
  T d = g;
  if (c.weight_decay != 0.0) d += static_cast<T>(c.weight_decay) * p;
  if (buf != nullptr) {
    const T mom = static_cast<T>(c.momentum);
    const T b = mom * *buf + static_cast<T>(1.0 - c.dampening) * d;
    *buf = b;
    d = c.nesterov ? d + mom * b : b;
  }
  p -= static_cast<T>(c.lr) * d;
}

// C: any struct with AdamCoefficients' fields. vmax: the AMSGrad maximum, or null.
template <class T, class C>
TG_HOST_DEVICE inline void adam_element(const C& c, T& p, T g, T& m, T& v, T* vmax) {
  using std::sqrt;
  T pi = p;
  if (!c.decoupled && c.weight_decay != 0.0) g += static_cast<T>(c.weight_decay) * pi;
  if (c.decoupled && c.weight_decay != 0.0) pi *= static_cast<T>(c.decoupled_decay);
  const T mi = m + static_cast<T>(c.one_minus_beta1) * (g - m);
  const T vi = v + static_cast<T>(c.one_minus_beta2) * (g * g - v);
  m = mi;
  v = vi;
  T second = vi;
  if (vmax != nullptr) {
    second = *vmax < vi ? vi : *vmax;  // std::max's choice, also for a NaN
    *vmax = second;
  }
  p = pi - static_cast<T>(c.lr_over_bias_correction1) *
               (mi / (sqrt(second) / static_cast<T>(c.bias_correction2_sqrt) + static_cast<T>(c.eps)));
}

}  // namespace tg::kernels::rules
