#pragma once
// Reductions over any set of axes (an empty list means all axes), with keepdim.
#include <optional>
#include <vector>

#include <tensorgrad/core/tensor.h>

namespace tg {

using Dims = std::vector<int64_t>;

Tensor sum(const Tensor& x, const Dims& dims = {}, bool keepdim = false);  // bool/int64 sum to int64
Tensor mean(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor prod(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor max(const Tensor& x, const Dims& dims = {}, bool keepdim = false);  // gradient split evenly among ties
Tensor min(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
// Index of the first maximum along `dim`, or in the flattened tensor when dim is absent.
Tensor argmax(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
Tensor argmin(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
// correction = 1 is the unbiased (Bessel) estimate, 0 the population variance.
Tensor var(const Tensor& x, const Dims& dims = {}, int64_t correction = 1, bool keepdim = false);
Tensor std(const Tensor& x, const Dims& dims = {}, int64_t correction = 1, bool keepdim = false);
Tensor logsumexp(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
// Sums x down to `shape` (which x's shape must broadcast from): the inverse of broadcasting.
Tensor sum_to(const Tensor& x, const Shape& shape);

}  // namespace tg
