#pragma once
// The matmul epilogue's per-element activations, shared by the reference fused matmul and the GEMM so both
// compute exactly what the unary relu / gelu kernels compute.
#include <cmath>

#include <tensorgrad/kernels/kernels.h>

namespace tg::kernels {

template <class T>
inline T relu_value(T x) {
  return x < T(0) ? T(0) : x;
}

template <class T>
inline T gelu_value(T x) {
  constexpr T kInvSqrt2 = T(0.70710678118654752440);
  return T(0.5) * x * (T(1) + std::erf(x * kInvSqrt2));
}

// Adds bias (bias[j * stride] to row-major row i's element j) and applies the activation, over a rows x cols
// block of C with row stride rs and column stride cs, whose first column is column j0 of the full C.
template <class T>
void apply_epilogue(const MatmulEpilogue& e, T* c, int64_t rows, int64_t cols, int64_t rs, int64_t cs, int64_t j0) {
  const T* bias = static_cast<const T*>(e.bias);
  for (int64_t i = 0; i < rows; ++i) {
    T* row = c + i * rs;
    if (bias != nullptr)
      for (int64_t j = 0; j < cols; ++j) row[j * cs] += bias[(j0 + j) * e.bias_stride];
    if (e.activation == Activation::Relu)
      for (int64_t j = 0; j < cols; ++j) row[j * cs] = relu_value(row[j * cs]);
    else if (e.activation == Activation::Gelu)
      for (int64_t j = 0; j < cols; ++j) row[j * cs] = gelu_value(row[j * cs]);
  }
}

}  // namespace tg::kernels
