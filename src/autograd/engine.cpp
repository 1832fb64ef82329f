// The reverse-mode engine. Nodes run when every gradient they will receive has arrived (dependency counts,
// as PyTorch's engine), taken newest-first for a deterministic order. Everything is loops over explicit
// containers: a chain of 100 000 ops needs no stack depth.
#include <tensorgrad/autograd/engine.h>

#include <queue>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/reduce.h>
#include <tensorgrad/ops/view.h>
#include <tensorgrad/profiler/record.h>

namespace tg {

namespace {

struct NewestFirst {
  bool operator()(const Node* a, const Node* b) const { return a->sequence_nr() < b->sequence_nr(); }
};

// Sums a gradient back to its input's shape and casts it to the input's dtype.
Tensor conform(const Tensor& grad, const InputMeta& meta, const Node& producer, size_t input_index) {
  Tensor g = grad;
  if (g.shape() != meta.shape) {
    TG_CHECK(is_broadcastable_to(meta.shape, g.shape()), "tg::backward: the VJP of ", producer.name(),
             " returned a gradient of shape ", g.shape(), " for its input ", input_index, " of shape ", meta.shape);
    g = sum_to(g, meta.shape);
  }
  if (g.dtype() != meta.dtype) g = to(g, meta.dtype);
  return g;
}

Tensor apply_hooks(const std::vector<GradHook>* hooks, Tensor grad) {
  if (hooks == nullptr) return grad;
  for (const auto& hook : *hooks) {
    Tensor replaced = hook(grad);
    if (replaced.defined()) grad = replaced;
  }
  return grad;
}

// What a node's gradient slot becomes when it has no other owner: the leaf's .grad, stolen when nobody else
// holds the memory, copied otherwise (so an optimizer writing into .grad never writes into another tensor).
Tensor owned_gradient(const Tensor& g, bool create_graph) {
  if (create_graph) return g;
  if (g.is_contiguous() && g.storage().use_count() == 1 && g.impl_ptr().use_count() == 1 && g.numel() > 0)
    return g.detach();
  return clone(g.detach());
}

// Profiler description of a node's run: "<forward op>_backward" (AccumulateGrad keeps its name), with the
// shapes and dtypes of the gradients it receives.
[[maybe_unused]] void describe_node(profiler::EventInfo& info, const Node& node, const TensorList& grads,
                                    const char* suffix) {
  // Streams rather than string concatenation: g++ 12 reports a false -Wrestrict on the inlined appends.
  std::ostringstream name, shapes, dtypes;
  name << node.name() << suffix;
  shapes << '[';
  for (size_t i = 0; i < grads.size(); ++i) {
    const char* separator = i > 0 ? ", " : "";
    shapes << separator << (grads[i].defined() ? shape_str(grads[i].shape()) : "[]");
    dtypes << separator << (grads[i].defined() ? dtype_name(grads[i].dtype()) : "undefined");
  }
  shapes << ']';
  info.name = name.str();
  info.kind = profiler::EventKind::Backward;
  info.input_shapes = shapes.str();
  info.input_dtypes = dtypes.str();
}

void accumulate_into_leaf(AccumulateGrad& sink, Tensor grad, bool create_graph) {
  TG_PROFILE_RANGE([&](profiler::EventInfo& info) { describe_node(info, sink, {grad}, ""); });
  auto leaf_impl = sink.leaf();
  if (!leaf_impl) return;  // the leaf is gone: nobody can read its gradient
  Tensor leaf(leaf_impl);
  if (leaf_impl->autograd) grad = apply_hooks(&leaf_impl->autograd->hooks, grad);
  const Tensor existing = leaf.grad();
  if (!existing.defined()) leaf.impl().autograd_meta().grad = owned_gradient(grad, create_graph);
  else leaf.impl().autograd_meta().grad = create_graph ? add(existing, grad) : add(existing, grad.detach());
  // Copied first: a hook may register further hooks.
  const auto post_hooks = leaf_impl->autograd_meta().post_accumulate_hooks;
  for (const auto& hook : post_hooks) hook(leaf);
}

struct Root {
  Edge edge;
  Tensor grad;
};

class GraphTask {
 public:
  GraphTask(bool keep_graph, bool create_graph) : keep_graph_(keep_graph), create_graph_(create_graph) {}

  // In grad() mode, the slots whose gradients are returned; no .grad is touched and only the nodes on a
  // path to a captured slot run.
  void capture(const Edge& edge) { captures_.push_back(edge); }

  TensorList run(const std::vector<Root>& roots) {
    count_dependencies(roots);
    if (!captures_.empty()) mark_needed(roots);
    for (const auto& root : roots) add_to_buffer(root.edge, root.grad);
    std::priority_queue<Node*, std::vector<Node*>, NewestFirst> ready;
    std::unordered_set<Node*> queued;
    for (const auto& root : roots)
      if (dependencies_[root.edge.node.get()] == 0 && queued.insert(root.edge.node.get()).second)
        ready.push(root.edge.node.get());
    while (!ready.empty()) {
      Node* node = ready.top();
      ready.pop();
      execute(*node, ready);
    }
    TensorList out;
    for (const auto& edge : captures_) out.push_back(captured_[slot_key(edge)]);
    return out;
  }

 private:
  static std::pair<Node*, uint32_t> slot_key(const Edge& e) { return {e.node.get(), e.input_nr}; }
  struct SlotHash {
    size_t operator()(const std::pair<Node*, uint32_t>& k) const {
      return std::hash<Node*>()(k.first) ^ (static_cast<size_t>(k.second) * 0x9E3779B97F4A7C15ull);
    }
  };

  void count_dependencies(const std::vector<Root>& roots) {
    std::vector<Node*> stack;
    for (const auto& root : roots) {
      Node* n = root.edge.node.get();
      if (seen_.insert(n).second) stack.push_back(n);
    }
    while (!stack.empty()) {
      Node* n = stack.back();
      stack.pop_back();
      for (const auto& e : n->next_edges()) {
        if (!e.valid()) continue;
        ++dependencies_[e.node.get()];
        if (seen_.insert(e.node.get()).second) stack.push_back(e.node.get());
      }
    }
  }

  // A node is needed when some captured slot is reachable from it. Settled children-first, over the
  // reverse of a topological order (Kahn's algorithm on the dependency counts).
  void mark_needed(const std::vector<Root>& roots) {
    std::unordered_map<Node*, int64_t> pending = dependencies_;
    std::vector<Node*> order, frontier;
    for (const auto& root : roots)
      if (pending[root.edge.node.get()] == 0) frontier.push_back(root.edge.node.get());
    std::unordered_set<Node*> visited;
    while (!frontier.empty()) {
      Node* n = frontier.back();
      frontier.pop_back();
      if (!visited.insert(n).second) continue;
      order.push_back(n);
      for (const auto& e : n->next_edges())
        if (e.valid() && --pending[e.node.get()] == 0) frontier.push_back(e.node.get());
    }
    for (const auto& e : captures_) needed_.insert(e.node.get());
    for (auto it = order.rbegin(); it != order.rend(); ++it)
      for (const auto& e : (*it)->next_edges())
        if (e.valid() && needed_.count(e.node.get())) {
          needed_.insert(*it);
          break;
        }
  }

  void add_to_buffer(const Edge& edge, const Tensor& grad) {
    auto& slots = buffers_[edge.node.get()];
    if (slots.size() <= edge.input_nr) slots.resize(edge.input_nr + 1);
    Tensor& slot = slots[edge.input_nr];
    if (!grad.defined()) return;
    slot = slot.defined() ? add(slot, grad) : grad;
  }

  void execute(Node& node, std::priority_queue<Node*, std::vector<Node*>, NewestFirst>& ready) {
    TensorList grads = std::move(buffers_[&node]);
    buffers_.erase(&node);
    grads.resize(std::max<size_t>(grads.size(), node.num_outputs()));
    for (uint32_t i = 0; i < grads.size(); ++i)
      if (grads[i].defined()) grads[i] = apply_hooks(node.pre_hooks(i), grads[i]);
    for (uint32_t i = 0; i < grads.size(); ++i)
      if (captured_.count({&node, i}) == 0 && is_captured(&node, i)) captured_[{&node, i}] = grads[i];

    if (auto* sink = dynamic_cast<AccumulateGrad*>(&node)) {
      if (captures_.empty() && grads[0].defined()) accumulate_into_leaf(*sink, std::move(grads[0]), create_graph_);
      return;
    }
    if (!captures_.empty() && !needed_.count(&node)) return;

    bool any = false;
    for (const auto& g : grads) any |= g.defined();
    TensorList input_grads;
    if (any) {
      TG_PROFILE_RANGE([&](profiler::EventInfo& info) { describe_node(info, node, grads, "_backward"); });
      input_grads = node.apply(grads);
    } else {
      input_grads.resize(node.next_edges().size());
    }
    if (!keep_graph_) node.release_saved();

    const auto& edges = node.next_edges();
    for (size_t i = 0; i < edges.size(); ++i) {
      const Edge& e = edges[i];
      if (!e.valid()) continue;
      if (i < input_grads.size() && input_grads[i].defined())
        add_to_buffer(e, conform(input_grads[i], node.input_meta()[i], node, i));
      if (--dependencies_[e.node.get()] == 0) ready.push(e.node.get());
    }
  }

  bool is_captured(Node* n, uint32_t slot) const {
    for (const auto& e : captures_)
      if (e.node.get() == n && e.input_nr == slot) return true;
    return false;
  }

  bool keep_graph_;
  bool create_graph_;
  std::vector<Edge> captures_;
  std::unordered_map<Node*, int64_t> dependencies_;
  std::unordered_set<Node*> seen_;
  std::unordered_set<Node*> needed_;
  std::unordered_map<Node*, TensorList> buffers_;
  std::unordered_map<std::pair<Node*, uint32_t>, Tensor, SlotHash> captured_;
};

std::vector<Root> make_roots(const TensorList& outputs, const TensorList& grad_outputs, const char* op) {
  TG_CHECK(grad_outputs.empty() || grad_outputs.size() == outputs.size(), op, ": got ", grad_outputs.size(),
           " gradients for ", outputs.size(), " outputs");
  std::vector<Root> roots;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    TG_CHECK(out.defined() && out.requires_grad(), op, ": output ", i, " (shape ",
             out.defined() ? out.shape() : Shape{}, ") does not require grad and has no grad_fn");
    Tensor g = grad_outputs.empty() ? Tensor() : grad_outputs[i];
    if (!g.defined()) {
      TG_CHECK(out.numel() == 1, op, ": a gradient can be created implicitly only for one-element outputs; output ",
               i, " has shape ", out.shape(), ", so pass its gradient explicitly");
      g = ones_like(out);
    }
    TG_CHECK(g.shape() == out.shape(), op, ": gradient ", i, " has shape ", g.shape(), " but its output has shape ",
             out.shape());
    roots.push_back({gradient_edge(out), g});
  }
  return roots;
}

}  // namespace

void backward(const TensorList& outputs, const TensorList& grad_outputs, bool retain_graph, bool create_graph) {
  const auto roots = make_roots(outputs, grad_outputs, "tg::backward");
  GradModeGuard mode(create_graph);
  GraphTask(retain_graph || create_graph, create_graph).run(roots);
}

TensorList grad(const TensorList& outputs, const TensorList& inputs, const TensorList& grad_outputs,
                GradOptions options) {
  const auto roots = make_roots(outputs, grad_outputs, "tg::grad");
  GradModeGuard mode(options.create_graph);
  GraphTask task(options.retain_graph || options.create_graph, options.create_graph);
  for (size_t i = 0; i < inputs.size(); ++i) {
    TG_CHECK(inputs[i].defined() && inputs[i].requires_grad(), "tg::grad: input ", i, " (shape ",
             inputs[i].defined() ? inputs[i].shape() : Shape{}, ") does not require grad");
    task.capture(gradient_edge(inputs[i]));
  }
  TensorList result = task.run(roots);
  for (size_t i = 0; i < result.size(); ++i) {
    TG_CHECK(result[i].defined() || options.allow_unused, "tg::grad: input ", i, " (shape ", inputs[i].shape(),
             ") is not reachable from the outputs; pass allow_unused = true if that is expected");
    if (result[i].defined() && !options.create_graph) {
      // Cut from the graph but not from forward mode: a gradient computed from tangent-carrying values carries
      // the tangent of the gradient (forward-over-reverse Hessian-vector products).
      const Tensor tangent = result[i].tangent();
      result[i] = result[i].detach();
      if (tangent.defined()) result[i].set_tangent(tangent);
    }
  }
  return result;
}

void Tensor::backward(const Tensor& gradient, bool retain_graph, bool create_graph) const {
  tg::backward({*this}, gradient.defined() ? TensorList{gradient} : TensorList{}, retain_graph, create_graph);
}

}  // namespace tg
