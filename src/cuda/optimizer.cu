// The fused optimizer updates (kernels.h; kernels/ref/optimizer.cpp states each rule once, in torch.optim's
// order of operations, and this follows it), one thread per element of a contiguous parameter. The device's
// fused multiply-adds may round the last bit differently from the CPU.
#include <cmath>

#include "device_index.cuh"

namespace tg::cuda::detail {

namespace {

template <class T>
__global__ void sgd_kernel(int64_t n, const __grid_constant__ SgdArgs c, T* p, const T* g, T* buf) {
  const T lr = static_cast<T>(c.lr), mom = static_cast<T>(c.momentum), damp = static_cast<T>(1.0 - c.dampening),
          wd = static_cast<T>(c.weight_decay);
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
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
__global__ void adam_kernel(int64_t n, const __grid_constant__ AdamArgs c, T* p, const T* g, T* m, T* v, T* vmax) {
  const T step = static_cast<T>(c.lr_over_bias_correction1), b1 = static_cast<T>(c.one_minus_beta1),
          b2 = static_cast<T>(c.one_minus_beta2), bc2 = static_cast<T>(c.bias_correction2_sqrt),
          eps = static_cast<T>(c.eps), wd = static_cast<T>(c.weight_decay), decay = static_cast<T>(c.decoupled_decay);
  const bool l2 = !c.decoupled && c.weight_decay != 0.0, decoupled = c.decoupled && c.weight_decay != 0.0;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
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
      second = vmax[i] > vi ? vmax[i] : vi;
      vmax[i] = second;
    }
    p[i] = pi - step * (mi / (sqrt(second) / bc2 + eps));
  }
}

}  // namespace

void launch_sgd(int dtype, int64_t n, const SgdArgs& c, void* param, const void* grad, void* momentum_buffer) {
  if (n == 0) return;
  if (dtype == kFloat32)
    sgd_kernel<float><<<blocks_for(n), kThreads>>>(n, c, static_cast<float*>(param), static_cast<const float*>(grad),
                                                   static_cast<float*>(momentum_buffer));
  else if (dtype == kFloat64)
    sgd_kernel<double><<<blocks_for(n), kThreads>>>(n, c, static_cast<double*>(param), static_cast<const double*>(grad),
                                                    static_cast<double*>(momentum_buffer));
  else
    throw std::runtime_error("tg::cuda: sgd_update takes float32 or float64");
  check_launch("sgd_update");
}

void launch_adam(int dtype, int64_t n, const AdamArgs& c, void* param, const void* grad, void* exp_avg,
                 void* exp_avg_sq, void* max_exp_avg_sq) {
  if (n == 0) return;
  if (dtype == kFloat32)
    adam_kernel<float><<<blocks_for(n), kThreads>>>(n, c, static_cast<float*>(param), static_cast<const float*>(grad),
                                                    static_cast<float*>(exp_avg), static_cast<float*>(exp_avg_sq),
                                                    static_cast<float*>(max_exp_avg_sq));
  else if (dtype == kFloat64)
    adam_kernel<double><<<blocks_for(n), kThreads>>>(
        n, c, static_cast<double*>(param), static_cast<const double*>(grad), static_cast<double*>(exp_avg),
        static_cast<double*>(exp_avg_sq), static_cast<double*>(max_exp_avg_sq));
  else
    throw std::runtime_error("tg::cuda: adam_update takes float32 or float64");
  check_launch("adam_update");
}

}  // namespace tg::cuda::detail
