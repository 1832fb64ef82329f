#pragma once
// Views share storage with their input (reshape only copies when no strides can describe the result);
// copies: contiguous (when needed), clone, to.
#include <vector>

#include <tensorgrad/core/tensor.h>

namespace tg {

Tensor reshape(const Tensor& x, Shape shape);  // one dimension may be -1
Tensor view(const Tensor& x, Shape shape);     // like reshape, but throws instead of copying
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);
Tensor expand(const Tensor& x, const Shape& shape);  // -1 keeps a dimension
Tensor expand_as(const Tensor& x, const Tensor& other);
// Python slice semantics: negative start/end count from the end, out-of-range bounds clamp; step > 0.
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);  // bounds must be in range
Tensor select(const Tensor& x, int64_t dim, int64_t index);                  // drops `dim`
Tensor squeeze(const Tensor& x);                                             // all size-1 dims
Tensor squeeze(const Tensor& x, int64_t dim);                                // no-op unless size 1
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor flatten(const Tensor& x, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor contiguous(const Tensor& x);
Tensor clone(const Tensor& x);
Tensor to(const Tensor& x, DType dtype);
// A copy of x on `device` (x itself when it is there already), as torch's .to(device): the gradient goes back
// to x's device, and so does the tangent's image.
Tensor to(const Tensor& x, Device device);

}  // namespace tg
