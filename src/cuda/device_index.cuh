#pragma once
// Device-side helpers every kernel file shares: strided offsets from a linear index, launch sizes, error
// checks.
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "launch.h"

namespace tg::cuda::detail {

// The element offset of linear (row-major) index i in an operand over geometry g. Below 2^31 elements the
// divisions are 32-bit ones, several times cheaper than 64-bit ones (a branch every thread of a launch takes
// the same way).
__device__ inline int64_t offset_of(int64_t i, const Geometry& g, const int64_t* strides) {
  int64_t off = 0;
  if (g.numel <= 0x7fffffff) {
    uint32_t j = static_cast<uint32_t>(i);
    for (int d = g.ndim - 1; d >= 0; --d) {
      const uint32_t size = static_cast<uint32_t>(g.sizes[d]);
      off += static_cast<int64_t>(j % size) * strides[d];
      j /= size;
    }
    return off;
  }
  for (int d = g.ndim - 1; d >= 0; --d) {
    const int64_t size = g.sizes[d];
    off += (i % size) * strides[d];
    i /= size;
  }
  return off;
}

constexpr int kThreads = 256;

inline unsigned blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(b < 65535 * 32 ? (b > 0 ? b : 1) : 65535 * 32);
}

inline void check_launch(const char* what) {
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) throw std::runtime_error(std::string("tg::cuda: ") + what + ": " + cudaGetErrorString(e));
}

// Calls f(T{}) with T the C++ type of a dtype code.
template <class F>
void visit_code(int dtype, F&& f) {
  switch (dtype) {
    case kBool: f(bool{}); return;
    case kInt64: f(int64_t{}); return;
    case kFloat32: f(float{}); return;
    case kFloat64: f(double{}); return;
  }
  throw std::runtime_error("tg::cuda: dtype code " + std::to_string(dtype) + " has no CUDA kernel");
}

}  // namespace tg::cuda::detail
