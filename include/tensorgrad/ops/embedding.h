#pragma once
// Embedding lookup (torch.nn.functional.embedding, with the table first).
#include <tensorgrad/core/tensor.h>

namespace tg {

// weight [V, D], indices int64 of any shape with values in [0, V) -> indices.shape + [D]. The gradient is
// scatter-added into the rows of weight (repeated indices accumulate). An out-of-range index throws naming
// its value, V and its position in indices.
Tensor embedding(const Tensor& weight, const Tensor& indices);

}  // namespace tg
