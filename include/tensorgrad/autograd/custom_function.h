#pragma once
// A differentiable function whose backward the user writes (torch.autograd.Function's idea): the forward runs
// outside autograd, and one node takes its place in the graph, with the user's backward as its VJP. What the
// forward keeps for backward goes through the node's saved tensors, so an in-place write to one of them
// before backward is caught as for any built-in op. The Python bindings' tensorgrad.autograd.Function is
// this.
#include <functional>
#include <string>

#include <tensorgrad/core/tensor.h>

namespace tg {

struct CustomForwardResult {
  Tensor output;
  TensorList saved;  // handed back to backward, version-checked
};

// inputs -> output and the tensors backward needs.
using CustomForwardFn = std::function<CustomForwardResult(const TensorList& inputs)>;
// (gradient of the output, the saved tensors) -> one gradient per input (undefined: zero). Runs under the
// backward pass's grad mode, so a backward written with tensor ops is differentiable again (create_graph).
using CustomBackwardFn = std::function<TensorList(const Tensor& grad_output, const TensorList& saved)>;

// Runs `forward` on `inputs` and, when grad mode is on and an input requires grad, makes its output the
// output of a node named `name` whose VJP is `backward`. Throws tg::Error naming `name` when the output is
// undefined, or is not floating while a gradient is needed; the engine checks backward's gradient count and
// shapes against the inputs.
Tensor custom_function(const std::string& name, const TensorList& inputs, const CustomForwardFn& forward,
                       CustomBackwardFn backward);

}  // namespace tg
