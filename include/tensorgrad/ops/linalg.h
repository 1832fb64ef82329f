#pragma once
#include <tensorgrad/core/tensor.h>

namespace tg {

// NumPy matmul: 1-D operands are promoted to a row (left) or column (right) and the added dimension is
// removed afterwards; dimensions before the last two are batch dimensions and broadcast.
Tensor matmul(const Tensor& a, const Tensor& b);

// x [..., in] @ weight[out, in]^T + bias [out] (bias may be undefined), as torch.nn.functional.linear.
// Leading dims are flattened into one matrix product, so the weight gradient is one GEMM, not a batch.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {});

}  // namespace tg
