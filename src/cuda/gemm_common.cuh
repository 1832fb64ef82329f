#pragma once
// What every GEMM kernel of the backend shares: the batch offset of one matrix and the epilogue (bias per
// column, then the activation) applied as C is stored.
#include <cmath>

#include "device_index.cuh"

namespace tg::cuda::detail {

__device__ inline int64_t batch_offset(int64_t z, const Geometry& batch, const int64_t* strides) {
  return batch.ndim == 0 ? 0 : offset_of(z, batch, strides);
}

// activation: 0 none, 1 ReLU, 2 GELU (the erf form, as the CPU's epilogue).
template <class T>
__device__ inline T activate(T v, int activation) {
  if (activation == 1) return v < T(0) ? T(0) : v;
  if (activation == 2) return T(0.5) * v * (T(1) + erf(v * T(0.70710678118654752440)));
  return v;
}

}  // namespace tg::cuda::detail
