#pragma once
// Reordering and tiling values: flip, repeat, cumsum. Composed from differentiable ops (index_select, expand and
// reshape, matmul), so their gradients and forward-mode rules come from those.
#include <vector>

#include <tensorgrad/core/tensor.h>

namespace tg {

// x with the order of each dim in `dims` reversed (a copy).
Tensor flip(const Tensor& x, const std::vector<int64_t>& dims);
// x tiled `repeats[d]` times along each dim (torch's Tensor.repeat): repeats may be longer than x's rank, which
// then gains leading dims.
Tensor repeat(const Tensor& x, const std::vector<int64_t>& repeats);
// Running sums along dim: out[..., i, ...] = sum of x[..., :i+1, ...]. Float inputs (an int64 or bool input is
// summed in float64 and returned as int64). Computed in blocks of 256 as triangular matrix products, with the
// block totals' running sums added, so it is O(n) work per row and rides on the GEMM.
Tensor cumsum(const Tensor& x, int64_t dim);

}  // namespace tg
