#pragma once
// Selecting and bounding values: masked_fill, tril / triu, clamp, any / all. Composed from where, comparisons and
// reductions, so every differentiable one has its VJP, JVP and higher derivatives from those.
#include <optional>

#include <tensorgrad/core/tensor.h>
#include <tensorgrad/ops/reduce.h>

namespace tg {

// x with `value` where `mask` (bool, broadcastable to x) is true; x's dtype and shape.
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);
// The lower (tril) / upper (triu) triangle of the last two dims, the rest zero: element (i, j) is kept when
// j - i <= diagonal (tril) or j - i >= diagonal (triu).
Tensor tril(const Tensor& x, int64_t diagonal = 0);
Tensor triu(const Tensor& x, int64_t diagonal = 0);
// min(max(x, min), max) with either bound optional (at least one given); min > max gives max, as torch.
// The gradient passes where min <= x <= max.
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max);
// Tensor bounds (either may be undefined), broadcast with x; the result has the promoted dtype.
Tensor clamp(const Tensor& x, const Tensor& min, const Tensor& max);
// Whether any / every element over `dims` (all dims when empty) is nonzero; bool, not differentiable.
Tensor any(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor all(const Tensor& x, const Dims& dims = {}, bool keepdim = false);

}  // namespace tg
