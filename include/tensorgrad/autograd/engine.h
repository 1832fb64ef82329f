#pragma once
// The reverse-mode engine: an iterative (never recursive) walk of the graph in reverse topological order.
// Gradients are summed back to each input's shape (un-broadcast) and cast to its dtype here, centrally.
#include <tensorgrad/core/graph.h>

namespace tg {

// Accumulates d(outputs)/d(leaf) into every reachable leaf's .grad(). `grad_outputs` may be empty when every
// output has one element (the gradient is then 1). With create_graph the backward pass is itself recorded,
// so the gradients can be differentiated again (create_graph implies retain_graph).
void backward(const TensorList& outputs, const TensorList& grad_outputs = {}, bool retain_graph = false,
              bool create_graph = false);

struct GradOptions {
  bool retain_graph = false;  // forced on by create_graph
  bool create_graph = false;
  bool allow_unused = false;  // an input the outputs do not depend on yields an undefined tensor instead of an error
};

// Gradients of `outputs` w.r.t. `inputs`, returned without touching any .grad() (torch.autograd.grad).
TensorList grad(const TensorList& outputs, const TensorList& inputs, const TensorList& grad_outputs = {},
                GradOptions options = {});

}  // namespace tg
