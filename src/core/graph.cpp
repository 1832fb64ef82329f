#include <tensorgrad/core/graph.h>

#include <atomic>

namespace tg {

namespace {
thread_local bool t_grad_enabled = true;
thread_local bool t_tangent_enabled = true;
std::atomic<uint64_t> g_next_sequence_nr{0};
}  // namespace

bool GradMode::enabled() { return t_grad_enabled; }
void GradMode::set_enabled(bool enabled) { t_grad_enabled = enabled; }
bool TangentMode::enabled() { return t_tangent_enabled; }
void TangentMode::set_enabled(bool enabled) { t_tangent_enabled = enabled; }

// ---- SavedTensor ----
SavedTensor::SavedTensor(const Tensor& tensor, bool is_output)
    : version_(tensor.version()), is_output_(is_output), requires_grad_(tensor.requires_grad()) {
  // An output is stored detached: storing it with its grad_fn would make the node own itself.
  data_ = is_output ? tensor.detach() : tensor;
  if (is_output) tangent_ = tensor.tangent();
}

Tensor SavedTensor::unpack(const std::shared_ptr<Node>& owner, const std::string& op_name) const {
  if (!data_.defined()) return {};
  TG_CHECK(data_.version() == version_, "tg::backward: a tensor of shape ", data_.shape(), " saved by ", op_name,
           " for its gradient was modified in place afterwards (version ", data_.version(), ", saved at version ",
           version_, "); clone it before modifying, or modify it after backward");
  if (!is_output_) return data_;
  Tensor restored = data_.detach();
  if (tangent_.defined()) restored.set_tangent(tangent_);
  if (!requires_grad_) return restored;
  auto& meta = restored.impl().autograd_meta();
  meta.requires_grad = true;
  meta.grad_fn = owner;
  meta.output_nr = 0;
  return restored;
}

Tensor SavedTensor::take() {
  tangent_ = Tensor();
  return std::move(data_);
}

// ---- Node ----
Node::Node() : sequence_nr_(g_next_sequence_nr.fetch_add(1)) {}

namespace {
// Tearing down a long chain of nodes through nested destructors would recurse once per node (a 100 000-op
// chain overflows the stack). Each dying node instead hands what it owns to this list, which the outermost
// destructor drains in a loop.
thread_local std::vector<std::shared_ptr<void>> t_pending_release;
thread_local bool t_draining = false;
}  // namespace

Node::~Node() {
  for (auto& edge : next_edges_)
    if (edge.node) t_pending_release.push_back(std::move(edge.node));
  for (auto& saved : saved_) {
    Tensor t = saved.take();
    if (t.defined()) t_pending_release.push_back(t.impl_ptr());
  }
  if (t_draining) return;
  t_draining = true;
  while (!t_pending_release.empty()) {
    std::shared_ptr<void> next = std::move(t_pending_release.back());
    t_pending_release.pop_back();
    next.reset();  // may destroy further nodes, which push onto the list instead of recursing
  }
  t_draining = false;
}

void Node::release_saved() {
  if (saved_.empty()) return;
  saved_.clear();
  released_ = true;
}

void Node::add_next_edge(Edge edge, InputMeta meta) {
  next_edges_.push_back(std::move(edge));
  input_meta_.push_back(std::move(meta));
}

void Node::reserve_edges(size_t n) {
  next_edges_.reserve(n);
  input_meta_.reserve(n);
}

void Node::add_pre_hook(uint32_t output_nr, GradHook hook) { pre_hooks_[output_nr].push_back(std::move(hook)); }

const std::vector<GradHook>* Node::pre_hooks(uint32_t output_nr) const {
  auto it = pre_hooks_.find(output_nr);
  return it == pre_hooks_.end() ? nullptr : &it->second;
}

void Node::save(const Tensor& tensor, bool is_output) { saved_.emplace_back(tensor, is_output); }

TensorList Node::unpack_saved() {
  TG_CHECK(!released_, "tg::backward: trying to backward through ", name(),
           " a second time, but its saved tensors were already freed; pass retain_graph=true to the first "
           "backward call");
  TensorList out;
  out.reserve(saved_.size());
  auto self = shared_from_this();
  const std::string op = name();
  for (const auto& s : saved_) out.push_back(s.unpack(self, op));
  return out;
}

TensorList FunctionNode::apply(const TensorList& grad_outputs) {
  TensorList saved = unpack_saved();
  if (grad_outputs.empty() || !grad_outputs[0].defined()) return TensorList(next_edges_.size());
  TensorList grads = vjp_(grad_outputs[0], saved);
  TG_CHECK(grads.size() == next_edges_.size(), "tg::backward: the VJP of ", name_, " returned ", grads.size(),
           " gradients for ", next_edges_.size(), " inputs");
  return grads;
}

TensorList AccumulateGrad::apply(const TensorList&) { return {}; }

// ---- edges for tensors ----
std::shared_ptr<Node> grad_accumulator(const Tensor& leaf) {
  auto& meta = leaf.impl().autograd_meta();
  if (auto existing = meta.grad_accumulator.lock()) return existing;
  auto acc = std::make_shared<AccumulateGrad>(leaf.impl_ptr());
  meta.grad_accumulator = acc;
  return acc;
}

Edge gradient_edge(const Tensor& t) {
  if (!t.requires_grad()) return {};
  if (t.grad_fn()) return {t.grad_fn(), t.output_nr()};
  return {grad_accumulator(t), 0};
}

}  // namespace tg
