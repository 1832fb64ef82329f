#pragma once
// Sorting along a dim (torch.sort / argsort / topk). The order comes from the sort kernel (stable; NaN above every
// number); the values are gathered from the input by those indices, so they are differentiable (the gradient
// scatters back to the chosen positions).
#include <tensorgrad/core/tensor.h>

namespace tg {

struct SortResult {
  Tensor values;   // the input's dtype
  Tensor indices;  // int64: positions along dim in the input
};

// Every element of each row along dim, ascending (or descending).
SortResult sort(const Tensor& x, int64_t dim = -1, bool descending = false);
Tensor argsort(const Tensor& x, int64_t dim = -1, bool descending = false);
// The k largest (or smallest) along dim, in order (largest first, or smallest first).
SortResult topk(const Tensor& x, int64_t k, int64_t dim = -1, bool largest = true);

}  // namespace tg
