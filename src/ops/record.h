#pragma once
// What every op file shares: building kernel arguments from tensors, and recording a node for backward.
#include <initializer_list>

#include <tensorgrad/core/graph.h>
#include <tensorgrad/kernels/kernels.h>

namespace tg::ops {

inline kernels::StridedArg arg(const Tensor& t) { return {t.data_ptr(), t.strides(), t.dtype()}; }
// `t` read as if broadcast to `shape`.
inline kernels::StridedArg arg(const Tensor& t, const Shape& shape) {
  return {t.data_ptr(), broadcast_strides(t.shape(), t.strides(), shape), t.dtype()};
}

// True when the op must record a node: grad mode is on and some input requires grad.
bool needs_grad(std::initializer_list<Tensor> inputs);
bool needs_grad(const TensorList& inputs);

struct SaveList {
  TensorList inputs;     // saved as given (with their own history)
  bool output = false;   // also save the op's output, last in the list
};

// Makes `out` the output of a new node `name` whose VJP is `vjp`. Call only when needs_grad(inputs).
// The VJP gets the saved tensors in SaveList order (inputs..., then output).
void record(const char* name, const TensorList& inputs, const Tensor& out, VjpFn vjp, SaveList save = {});

// Marks a view's output, so in-place writes into it can be refused (see inplace.cpp).
void mark_view(const Tensor& out);

// A copy of `x` converted to `dtype`, outside autograd (ops cast operands with it and record the
// original input, so the engine casts gradients back).
Tensor cast_raw(const Tensor& x, DType dtype);

}  // namespace tg::ops
