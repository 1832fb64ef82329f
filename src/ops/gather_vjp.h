#pragma once
// gather's VJP, shared by every op whose values are a gather (tg::gather, max pooling): the gradient g added at
// `index` along `dim` into fresh zeros of `shape`, recorded as scatter_add, whose own VJP is gather again.
#include <tensorgrad/core/tensor.h>

namespace tg::ops {

Tensor gather_vjp(const Shape& shape, int64_t dim, const Tensor& index, const Tensor& g);

}  // namespace tg::ops
