#pragma once
#include <tensorgrad/core/tensor.h>

namespace tg {

// NumPy matmul: 1-D operands are promoted to a row (left) or column (right) and the added dimension is
// removed afterwards; dimensions before the last two are batch dimensions and broadcast.
Tensor matmul(const Tensor& a, const Tensor& b);

}  // namespace tg
