// The optimizer updates as plain element loops over contiguous buffers: the one statement of each update
// rule (torch.optim's formulas, in the same order of operations), which the CPU's fused, threaded,
// vectorised kernels (cpu/fused_update.cpp) must reproduce.
#include <algorithm>
#include <cmath>

#include "ref_kernels.h"

namespace tg::kernels::ref {

namespace {

template <class T>
void sgd_typed(int64_t n, const SgdCoefficients& c, const StridedArg& param, const StridedArg& grad,
               const StridedArg& buffer) {
  T* p = static_cast<T*>(param.data);
  const T* g = static_cast<const T*>(grad.data);
  T* buf = static_cast<T*>(buffer.data);
  const T lr = static_cast<T>(c.lr), mom = static_cast<T>(c.momentum), damp = static_cast<T>(1.0 - c.dampening),
          wd = static_cast<T>(c.weight_decay);
  for (int64_t i = 0; i < n; ++i) {
    T d = g[i];
    if (c.weight_decay != 0.0) d += wd * p[i];
    if (buf != nullptr) {
      const T b = mom * buf[i] + damp * d;
      buf[i] = b;
      d = c.nesterov ? d + mom * b : b;
    }
    p[i] -= lr * d;
  }
}

template <class T>
void adam_typed(int64_t n, const AdamCoefficients& c, const StridedArg& param, const StridedArg& grad,
                const StridedArg& exp_avg, const StridedArg& exp_avg_sq, const StridedArg& max_exp_avg_sq) {
  T* p = static_cast<T*>(param.data);
  const T* g = static_cast<const T*>(grad.data);
  T* m = static_cast<T*>(exp_avg.data);
  T* v = static_cast<T*>(exp_avg_sq.data);
  T* vmax = static_cast<T*>(max_exp_avg_sq.data);
  const T step = static_cast<T>(c.lr_over_bias_correction1), b1 = static_cast<T>(c.one_minus_beta1),
          b2 = static_cast<T>(c.one_minus_beta2), bc2 = static_cast<T>(c.bias_correction2_sqrt),
          eps = static_cast<T>(c.eps), wd = static_cast<T>(c.weight_decay),
          decay = static_cast<T>(c.decoupled_decay);
  const bool l2 = !c.decoupled && c.weight_decay != 0.0, decoupled = c.decoupled && c.weight_decay != 0.0;
  for (int64_t i = 0; i < n; ++i) {
    T pi = p[i];
    T gi = g[i];
    if (l2) gi += wd * pi;
    if (decoupled) pi *= decay;
    const T mi = m[i] + b1 * (gi - m[i]);
    const T vi = v[i] + b2 * (gi * gi - v[i]);
    m[i] = mi;
    v[i] = vi;
    T second = vi;
    if (vmax != nullptr) {
      second = std::max(vmax[i], vi);
      vmax[i] = second;
    }
    p[i] = pi - step * (mi / (std::sqrt(second) / bc2 + eps));
  }
}

}  // namespace

void register_optimizer(KernelTables& t) {
  t.sgd_update.add(DeviceType::CPU, DType::Float32, &sgd_typed<float>);
  t.sgd_update.add(DeviceType::CPU, DType::Float64, &sgd_typed<double>);
  t.adam_update.add(DeviceType::CPU, DType::Float32, &adam_typed<float>);
  t.adam_update.add(DeviceType::CPU, DType::Float64, &adam_typed<double>);
}

}  // namespace tg::kernels::ref
