#pragma once
// The functional API in the spirit of JAX: transformations evaluated at a point. Reverse mode goes through
// the engine (tg::grad with create_graph where an outer transformation needs it); forward mode pushes tangents
// through each op's JVP rule (see Tensor::tangent). Functions take and return tensors; a scalar function
// returns a one-element tensor.
#include <functional>
#include <utility>

#include <tensorgrad/autograd/gradcheck.h>
#include <tensorgrad/core/tensor.h>

namespace tg {

using TensorFn = std::function<Tensor(const Tensor&)>;

// ---- forward mode ----
// (f(x), J v) in one forward pass. The primals are detached copies, so no graph is kept unless f itself
// closes over tensors that require grad. Nested forward mode (a jvp inside f) is not supported.
std::pair<Tensor, Tensor> jvp(const TensorFn& f, const Tensor& x, const Tensor& v);
// Several inputs: (f(x), sum_i J_i v_i).
std::pair<Tensor, Tensor> jvp(const DifferentiableFn& f, const TensorList& primals, const TensorList& tangents);

// ---- reverse mode ----
// f(x) and its pullback u -> J^T u (u shaped like f(x)); the pullback may be called any number of times.
struct VjpResult {
  Tensor value;
  std::function<Tensor(const Tensor& u)> pullback;
};
VjpResult vjp(const TensorFn& f, const Tensor& x);

// Gradient of a scalar f at x. Differentiable when x requires grad and grad mode is on (then the backward pass
// is recorded), and it carries x's tangent through, so grad composes with jvp, grad and hvp.
Tensor grad(const TensorFn& f, const Tensor& x);
std::pair<Tensor, Tensor> value_and_grad(const TensorFn& f, const Tensor& x);

// ---- Jacobians and Hessians: shape f(x).shape ++ x.shape ----
Tensor jacrev(const TensorFn& f, const Tensor& x);  // one VJP per output element
Tensor jacfwd(const TensorFn& f, const Tensor& x);  // one JVP per input element
Tensor hessian(const TensorFn& f, const Tensor& x);  // jacfwd of grad (forward-over-reverse)

// ---- Hessian-vector products of a scalar f ----
enum class HvpMode {
  ForwardOverReverse,  // the JVP of x -> grad f(x) along v: one forward and one backward pass, both dual
  ReverseOverReverse,  // grad of <grad f(x), v>: a recorded backward pass, then a second one
};
Tensor hvp(const TensorFn& f, const Tensor& x, const Tensor& v, HvpMode mode = HvpMode::ForwardOverReverse);

}  // namespace tg
