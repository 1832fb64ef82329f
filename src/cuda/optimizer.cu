// The fused optimizer updates (kernels.h), one thread per element of a contiguous parameter, each element by
// the one statement of its rule that the reference kernels apply too (kernels/update_rules.h). The device's
// fused multiply-adds may round the last bit differently from the CPU.
#include "../kernels/update_rules.h"
#include "device_index.cuh"

namespace tg::cuda::detail {

namespace rules = kernels::rules;

namespace {

template <class T>
__global__ void sgd_kernel(int64_t n, const __grid_constant__ SgdArgs c, T* p, const T* g, T* buf) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    rules::sgd_element(c, p[i], g[i], buf != nullptr ? buf + i : nullptr);
}

template <class T>
__global__ void adam_kernel(int64_t n, const __grid_constant__ AdamArgs c, T* p, const T* g, T* m, T* v, T* vmax) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    rules::adam_element(c, p[i], g[i], m[i], v[i], vmax != nullptr ? vmax + i : nullptr);
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
