#pragma once
// What every op file shares: building kernel arguments from tensors, and recording a node for backward.
#include <functional>
#include <initializer_list>

#include <tensorgrad/core/graph.h>
#include <tensorgrad/kernels/kernels.h>

namespace tg::ops {

inline kernels::StridedArg arg(const Tensor& t) { return {t.data_ptr(), t.strides(), t.dtype(), t.device().type}; }
// arg(t), or an absent operand (null data) for an undefined t: a kernel's optional operand.
inline kernels::StridedArg arg_or_none(const Tensor& t) { return t.defined() ? arg(t) : kernels::StridedArg{}; }
// `t` read as if broadcast to `shape`.
inline kernels::StridedArg arg(const Tensor& t, const Shape& shape) {
  return {t.data_ptr(), broadcast_strides(t.shape(), t.strides(), shape), t.dtype(), t.device().type};
}

// Throws tg::Error naming `op` and the devices when the defined tensors are not all on one device.
void check_same_device(const char* op, std::initializer_list<Tensor> tensors);
inline void check_same_device(const char* op, const Tensor& a, const Tensor& b) {
  if (a.device() != b.device()) [[unlikely]] check_same_device(op, {a, b});
}

// The flat (row-major) position of the first element of the int64 tensor `index` outside [low, high), or -1
// when all are inside. Runs as ops on the index's device; only the answer comes to the host.
int64_t first_out_of_range(const Tensor& index, int64_t low, int64_t high);

// True when the op must record a node: grad mode is on and some input requires grad.
bool needs_grad(std::initializer_list<Tensor> inputs);
bool needs_grad(const TensorList& inputs);
// The same for a binary op's two operands, without copying them into a list (a tiny op's hot path).
inline bool needs_grad(const Tensor& a, const Tensor& b) {
  if (!GradMode::enabled()) return false;
  return (a.defined() && a.requires_grad()) || (b.defined() && b.requires_grad());
}

struct SaveList {
  TensorList inputs;     // saved as given (with their own history)
  bool output = false;   // also save the op's output, last in the list
};

// Makes `out` the output of a new node `name` whose VJP is `vjp`. Call only when needs_grad(inputs).
// The VJP gets the saved tensors in SaveList order (inputs..., then output).
void record(const char* name, const TensorList& inputs, const Tensor& out, VjpFn vjp, SaveList save = {});

// ---- forward mode ----
// True when the op must push a tangent: tangent mode is on and some input carries one. One pointer check per
// input, so ops stay cheap when no tangent is around.
bool needs_tangent(std::initializer_list<Tensor> inputs);
bool needs_tangent(const TensorList& inputs);
inline bool has_tangent(const Tensor& t) {
  return t.defined() && t.impl().autograd != nullptr && t.impl().autograd->tangent.defined();
}
inline bool needs_tangent(const Tensor& a, const Tensor& b) {
  return TangentMode::enabled() && (has_tangent(a) || has_tangent(b));
}

// An op's JVP rule: the input tangents (one per input, undefined where the input carries none, which means
// zero) -> the output's tangent (undefined for zero). Written with tensor ops, so the tangent can itself be
// differentiated in reverse mode. It may return the tangent in a shape that broadcasts to the output's, or in
// another floating dtype: push_tangent expands and casts it.
using JvpFn = std::function<Tensor(const TensorList& tangents)>;

// Gives `out` the tangent `jvp` computes from the inputs' tangents, with tangent mode off inside the rule.
// Call when needs_tangent(inputs), before record(): a node that saves its output saves the tangent with it.
void push_tangent(const TensorList& inputs, const Tensor& out, const JvpFn& jvp);

// Sum of the defined terms (undefined = zero); undefined when every term is.
Tensor sum_defined(std::initializer_list<Tensor> terms);

// Marks a view's output, so in-place writes into it can be refused (see inplace.cpp).
void mark_view(const Tensor& out);

// A copy of `x` converted to `dtype`, outside autograd (ops cast operands with it and record the
// original input, so the engine casts gradients back).
Tensor cast_raw(const Tensor& x, DType dtype);

}  // namespace tg::ops
