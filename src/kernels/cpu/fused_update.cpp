// The optimizer updates (kernels::sgd_update / adam_update) as one vectorised, threaded pass per parameter:
// the composed form made 10-14 passes over each buffer (each in-place op computes out of place, then copies),
// which was a quarter of an MLP training step on one thread. ref/optimizer.cpp is the oracle.
#include "fused_update.h"

#include <algorithm>
#include <cmath>

#include <tensorgrad/base/error.h>

#include "parallel.h"

namespace tg::kernels::cpu {

namespace {

constexpr int64_t kGrain = int64_t{1} << 15;  // elements per thread at least

// Runs body(begin, end) over [0, n) in contiguous chunks, one per thread.
template <class F>
void split(int64_t n, F&& body) {
  parallel_for(n, threads_for(n, kGrain), [&](int64_t lo, int64_t hi, int) { body(lo, hi); });
}

// The options are template parameters so each loop body has no branch and vectorises.
template <class T, bool L2, bool Decoupled, bool AmsGrad>
void adam_loop(int64_t lo, int64_t hi, const AdamCoefficients& c, T* __restrict p, const T* __restrict g,
               T* __restrict m, T* __restrict v, T* __restrict vmax) {
  const T step = static_cast<T>(c.lr_over_bias_correction1), b1 = static_cast<T>(c.one_minus_beta1),
          b2 = static_cast<T>(c.one_minus_beta2), bc2 = static_cast<T>(c.bias_correction2_sqrt),
          eps = static_cast<T>(c.eps), wd = static_cast<T>(c.weight_decay),
          decay = static_cast<T>(c.decoupled_decay);
  for (int64_t i = lo; i < hi; ++i) {
    T pi = p[i];
    T gi = g[i];
    if constexpr (L2) gi += wd * pi;
    if constexpr (Decoupled) pi *= decay;
    const T mi = m[i] + b1 * (gi - m[i]);
    const T vi = v[i] + b2 * (gi * gi - v[i]);
    m[i] = mi;
    v[i] = vi;
    T second = vi;
    if constexpr (AmsGrad) {
      second = std::max(vmax[i], vi);
      vmax[i] = second;
    }
    p[i] = pi - step * (mi / (std::sqrt(second) / bc2 + eps));
  }
}

template <class T>
void adam_typed(int64_t n, const AdamCoefficients& c, T* p, const T* g, T* m, T* v, T* vmax) {
  const bool l2 = !c.decoupled && c.weight_decay != 0.0, decoupled = c.decoupled && c.weight_decay != 0.0;
  split(n, [&](int64_t lo, int64_t hi) {
    if (vmax != nullptr) {
      if (l2) adam_loop<T, true, false, true>(lo, hi, c, p, g, m, v, vmax);
      else if (decoupled) adam_loop<T, false, true, true>(lo, hi, c, p, g, m, v, vmax);
      else adam_loop<T, false, false, true>(lo, hi, c, p, g, m, v, vmax);
    } else {
      if (l2) adam_loop<T, true, false, false>(lo, hi, c, p, g, m, v, vmax);
      else if (decoupled) adam_loop<T, false, true, false>(lo, hi, c, p, g, m, v, vmax);
      else adam_loop<T, false, false, false>(lo, hi, c, p, g, m, v, vmax);
    }
  });
}

template <class T, bool Decay, bool Momentum, bool Nesterov>
void sgd_loop(int64_t lo, int64_t hi, const SgdCoefficients& c, T* __restrict p, const T* __restrict g,
              T* __restrict buf) {
  const T lr = static_cast<T>(c.lr), mom = static_cast<T>(c.momentum), damp = static_cast<T>(1.0 - c.dampening),
          wd = static_cast<T>(c.weight_decay);
  for (int64_t i = lo; i < hi; ++i) {
    T d = g[i];
    if constexpr (Decay) d += wd * p[i];
    if constexpr (Momentum) {
      const T b = mom * buf[i] + damp * d;
      buf[i] = b;
      d = Nesterov ? d + mom * b : b;
    }
    p[i] -= lr * d;
  }
}

template <class T>
void sgd_typed(int64_t n, const SgdCoefficients& c, T* p, const T* g, T* buf) {
  const bool decay = c.weight_decay != 0.0;
  split(n, [&](int64_t lo, int64_t hi) {
    if (buf == nullptr) {
      if (decay) sgd_loop<T, true, false, false>(lo, hi, c, p, g, buf);
      else sgd_loop<T, false, false, false>(lo, hi, c, p, g, buf);
    } else if (c.nesterov) {
      if (decay) sgd_loop<T, true, true, true>(lo, hi, c, p, g, buf);
      else sgd_loop<T, false, true, true>(lo, hi, c, p, g, buf);
    } else {
      if (decay) sgd_loop<T, true, true, false>(lo, hi, c, p, g, buf);
      else sgd_loop<T, false, true, false>(lo, hi, c, p, g, buf);
    }
  });
}

}  // namespace

void adam_update(int64_t n, const AdamCoefficients& c, const StridedArg& param, const StridedArg& grad,
                 const StridedArg& exp_avg, const StridedArg& exp_avg_sq, const StridedArg& max_exp_avg_sq) {
  visit_floating(param.dtype, "tg::adam_update_", [&]<class T>(TypeTag<T>) {
    adam_typed(n, c, static_cast<T*>(param.data), static_cast<const T*>(grad.data), static_cast<T*>(exp_avg.data),
               static_cast<T*>(exp_avg_sq.data), static_cast<T*>(max_exp_avg_sq.data));
  });
}

void sgd_update(int64_t n, const SgdCoefficients& c, const StridedArg& param, const StridedArg& grad,
                const StridedArg& momentum_buffer) {
  visit_floating(param.dtype, "tg::sgd_update_", [&]<class T>(TypeTag<T>) {
    sgd_typed(n, c, static_cast<T*>(param.data), static_cast<const T*>(grad.data),
              static_cast<T*>(momentum_buffer.data));
  });
}

}  // namespace tg::kernels::cpu
