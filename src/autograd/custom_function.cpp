// User-written differentiable functions: one FunctionNode per call.
#include <tensorgrad/autograd/custom_function.h>

#include <tensorgrad/base/error.h>
#include <tensorgrad/core/graph.h>

namespace tg {

Tensor custom_function(const std::string& name, const TensorList& inputs, const CustomForwardFn& forward,
                       CustomBackwardFn backward) {
  CustomForwardResult result;
  {
    NoGradGuard no_grad;
    result = forward(inputs);
  }
  TG_CHECK(result.output.defined(), "tg::custom_function '", name, "': forward returned no output tensor");
  bool wants_grad = false;
  if (GradMode::enabled())
    for (const auto& t : inputs) wants_grad |= t.defined() && t.requires_grad();
  if (!wants_grad) return result.output;
  TG_CHECK(is_floating(result.output.dtype()), "tg::custom_function '", name,
           "': cannot record gradients for an output of dtype ", dtype_name(result.output.dtype()));
  // A fresh handle on the output's memory: an output that is one of the inputs (or any tensor the caller holds)
  // must not have its autograd state overwritten.
  Tensor out = result.output.detach();

  auto node = std::make_shared<FunctionNode>(
      name, [backward = std::move(backward)](const Tensor& g, const TensorList& saved) { return backward(g, saved); });
  node->reserve_edges(inputs.size());
  for (const auto& t : inputs) {
    if (t.defined())
      node->add_next_edge(gradient_edge(t), InputMeta{t.shape(), t.dtype()});
    else
      node->add_next_edge(Edge{}, InputMeta{});
  }
  auto& meta = out.impl().autograd_meta();
  meta.requires_grad = true;
  meta.grad_fn = node;
  meta.output_nr = 0;
  // The output itself is saved without its grad_fn (as ops save theirs), or node and output would keep each
  // other alive. Saved after the output has its grad_fn, which it gets back on unpack.
  for (const auto& t : result.saved) {
    const bool is_output = t.defined() && (t.same(result.output) || t.same(out));
    node->save(is_output ? out : t, is_output);
  }
  return out;
}

}  // namespace tg
