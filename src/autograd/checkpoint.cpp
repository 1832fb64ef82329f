// Gradient checkpointing and the saved-tensor report.
#include <tensorgrad/autograd/checkpoint.h>

#include <iomanip>
#include <sstream>
#include <unordered_set>

#include <tensorgrad/autograd/engine.h>
#include <tensorgrad/core/graph.h>

namespace tg {

Tensor checkpoint(const DifferentiableFn& fn, const TensorList& inputs, const TensorList& params) {
  Tensor out;
  {
    NoGradGuard no_grad;
    out = fn(inputs);
  }
  TG_CHECK(out.defined(), "tg::checkpoint: fn returned an undefined tensor");
  TensorList edges = inputs;
  edges.insert(edges.end(), params.begin(), params.end());
  bool wants_grad = false;
  if (GradMode::enabled())
    for (const auto& t : edges) wants_grad |= t.defined() && t.requires_grad();
  if (!wants_grad) return out;
  TG_CHECK(is_floating(out.dtype()), "tg::checkpoint: cannot record gradients for an output of dtype ",
           dtype_name(out.dtype()));

  const size_t n_inputs = inputs.size();
  const TensorList kept_params = params;
  auto node = std::make_shared<FunctionNode>(
      "checkpoint", [fn, n_inputs, kept_params](const Tensor& g, const TensorList& saved) -> TensorList {
        // Recompute from detached copies of the inputs, so the recomputed graph ends at them and at the
        // parameters, then differentiate it for the gradient that reached the checkpoint's output. When the
        // backward pass is itself recorded (create_graph), recompute from the inputs themselves instead, so
        // the gradients stay functions of them.
        const bool create_graph = GradMode::enabled();
        TensorList copies, wrt;
        std::vector<size_t> slot;  // which returned gradient each wrt entry is
        for (size_t i = 0; i < n_inputs; ++i) {
          Tensor c = saved[i].defined() && !create_graph ? saved[i].detach() : saved[i];
          if (c.defined() && saved[i].requires_grad()) {
            if (!create_graph) c.requires_grad_(true);
            wrt.push_back(c);
            slot.push_back(i);
          }
          copies.push_back(c);
        }
        for (size_t k = 0; k < kept_params.size(); ++k)
          if (kept_params[k].defined() && kept_params[k].requires_grad()) {
            wrt.push_back(kept_params[k]);
            slot.push_back(n_inputs + k);
          }
        Tensor y;
        {
          GradModeGuard grad_on(true);
          y = fn(copies);
        }
        TensorList grads(n_inputs + kept_params.size());
        if (wrt.empty() || !y.requires_grad()) return grads;
        GradOptions options;
        options.create_graph = create_graph;
        options.allow_unused = true;
        const TensorList got = grad({y}, wrt, {g}, options);
        for (size_t k = 0; k < got.size(); ++k) grads[slot[k]] = got[k];
        return grads;
      });
  for (const auto& t : edges) node->add_next_edge(gradient_edge(t), InputMeta{t.shape(), t.dtype()});
  for (const auto& t : inputs) node->save(t);
  auto& meta = out.impl().autograd_meta();
  meta.requires_grad = true;
  meta.grad_fn = node;
  meta.output_nr = 0;
  return out;
}

SavedReport saved_tensors(const TensorList& outputs) {
  SavedReport report;
  std::unordered_set<const Node*> seen;
  std::unordered_set<const Storage*> storages;
  std::vector<std::shared_ptr<Node>> stack;
  for (const auto& o : outputs)
    if (o.defined() && o.grad_fn() && seen.insert(o.grad_fn().get()).second) stack.push_back(o.grad_fn());
  while (!stack.empty()) {
    const std::shared_ptr<Node> node = stack.back();
    stack.pop_back();
    for (const auto& s : node->saved()) {
      if (!s.defined()) continue;
      const Tensor& t = s.data();
      const int64_t bytes = t.numel() * static_cast<int64_t>(itemsize(t.dtype()));
      report.entries.push_back({node->name(), t.shape(), t.dtype(), bytes});
      if (storages.insert(t.storage().get()).second) report.total_bytes += static_cast<int64_t>(t.storage()->nbytes());
    }
    for (const auto& e : node->next_edges())
      if (e.valid() && seen.insert(e.node.get()).second) stack.push_back(e.node);
  }
  return report;
}

std::string SavedReport::table() const {
  std::ostringstream os;
  os << std::left << std::setw(20) << "op" << std::setw(24) << "shape" << std::setw(10) << "dtype" << "bytes\n";
  for (const auto& e : entries) {
    os << std::setw(20) << e.op << std::setw(24) << shape_str(e.shape) << std::setw(10) << dtype_name(e.dtype) << e.bytes
       << "\n";
  }
  os << "total (distinct storages): " << total_bytes << " bytes\n";
  return os.str();
}

}  // namespace tg
