#pragma once
#include <tensorgrad/core/tensor.h>

namespace tg {

// Numerically stable: the row maximum is subtracted before exponentiating.
Tensor softmax(const Tensor& x, int64_t dim = -1);
Tensor log_softmax(const Tensor& x, int64_t dim = -1);

}  // namespace tg
