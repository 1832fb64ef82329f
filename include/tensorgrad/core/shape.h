#pragma once
// Shapes and strides (in elements), and the broadcasting rules, computed once here for every op.
#include <cstdint>
#include <string>
#include <vector>

namespace tg {

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;

int64_t numel_of(const Shape& shape);
Strides contiguous_strides(const Shape& shape);
std::string shape_str(const Shape& shape);

// Wraps a possibly negative axis into [0, ndim); throws naming `op` when out of range.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);

// NumPy broadcasting of two shapes; throws naming `op` when they are incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// Strides that read a tensor of `shape`/`strides` as if it had been expanded to `target`
// (broadcast dimensions get stride 0). `target` must be a broadcast of `shape`.
Strides broadcast_strides(const Shape& shape, const Strides& strides, const Shape& target);

// True when `shape` can be broadcast to `target`.
bool is_broadcastable_to(const Shape& shape, const Shape& target);

}  // namespace tg
