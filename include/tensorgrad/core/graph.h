#pragma once
// The autograd graph as data: nodes, edges, saved tensors and grad mode. Ops record into it (tg_ops);
// the engine walks it (tg_autograd). A tensor's history is part of its identity, so this lives in core.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <tensorgrad/core/tensor.h>

namespace tg {

// ---- grad mode: a thread-local switch, as torch.no_grad ----
class GradMode {
 public:
  static bool enabled();
  static void set_enabled(bool enabled);
};

class GradModeGuard {
 public:
  explicit GradModeGuard(bool enabled) : previous_(GradMode::enabled()) { GradMode::set_enabled(enabled); }
  ~GradModeGuard() { GradMode::set_enabled(previous_); }
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;

 private:
  bool previous_;
};

class NoGradGuard : public GradModeGuard {
 public:
  NoGradGuard() : GradModeGuard(false) {}
};

// ---- tangent mode: a thread-local switch for forward-mode propagation ----
// JVP rules run with it off, so the tensor ops inside a rule do not push tangents of their own (one level of
// forward mode: a tangent never gets a tangent). Grad mode and tangent mode are independent.
class TangentMode {
 public:
  static bool enabled();
  static void set_enabled(bool enabled);
};

class NoTangentGuard {
 public:
  NoTangentGuard() : previous_(TangentMode::enabled()) { TangentMode::set_enabled(false); }
  ~NoTangentGuard() { TangentMode::set_enabled(previous_); }
  NoTangentGuard(const NoTangentGuard&) = delete;
  NoTangentGuard& operator=(const NoTangentGuard&) = delete;

 private:
  bool previous_;
};

// ---- edges and nodes ----
struct Edge {
  std::shared_ptr<Node> node;
  uint32_t input_nr = 0;  // which gradient slot of `node` this edge feeds
  bool valid() const { return node != nullptr; }
};

// What the engine needs to shape a gradient before passing it along an edge: gradients are summed back
// to the input's shape (un-broadcast) and cast to its dtype centrally, never in each op.
struct InputMeta {
  Shape shape;
  DType dtype = DType::Float32;
};

// A tensor kept for backward. Records the storage version at save time, so an in-place write afterwards
// is detected when backward unpacks it. An op's own output is kept without its grad_fn (no cycle) and
// gets it back on unpack.
class SavedTensor {
 public:
  SavedTensor() = default;
  SavedTensor(const Tensor& tensor, bool is_output);
  Tensor unpack(const std::shared_ptr<Node>& owner, const std::string& op_name) const;
  bool defined() const { return data_.defined(); }
  const Tensor& data() const { return data_; }
  Tensor take();  // moves the held tensor out (used to free saved values)

 private:
  Tensor data_;
  Tensor tangent_;  // an output's tangent, which its detached copy would lose (forward-over-reverse)
  uint64_t version_ = 0;
  bool is_output_ = false;
  bool requires_grad_ = false;
};

class Node : public std::enable_shared_from_this<Node> {
 public:
  Node();
  virtual ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Gradients w.r.t. the forward op's inputs (one per next edge) from gradients w.r.t. its outputs.
  virtual TensorList apply(const TensorList& grad_outputs) = 0;
  virtual std::string name() const = 0;
  virtual uint32_t num_outputs() const { return 1; }
  virtual void release_saved();  // frees saved tensors after backward (unless retain_graph)

  const std::vector<Edge>& next_edges() const { return next_edges_; }
  const std::vector<InputMeta>& input_meta() const { return input_meta_; }
  void add_next_edge(Edge edge, InputMeta meta);
  void reserve_edges(size_t n);  // room for n next edges, so adding them allocates once
  uint64_t sequence_nr() const { return sequence_nr_; }

  void add_pre_hook(uint32_t output_nr, GradHook hook);
  const std::vector<GradHook>* pre_hooks(uint32_t output_nr) const;

  void save(const Tensor& tensor, bool is_output = false);
  // Saved tensors, checked against in-place modification; throws once they have been released.
  TensorList unpack_saved();
  size_t num_saved() const { return saved_.size(); }
  const std::vector<SavedTensor>& saved() const { return saved_; }

 protected:
  std::vector<Edge> next_edges_;
  std::vector<InputMeta> input_meta_;
  std::vector<SavedTensor> saved_;
  bool released_ = false;

 private:
  uint64_t sequence_nr_;
  std::map<uint32_t, std::vector<GradHook>> pre_hooks_;
};

// The VJP of an op, written with differentiable tensor ops: (grad of output, saved tensors) -> grads of inputs.
using VjpFn = std::function<TensorList(const Tensor& grad_output, const TensorList& saved)>;

class FunctionNode final : public Node {
 public:
  FunctionNode(std::string name, VjpFn vjp) : name_(std::move(name)), vjp_(std::move(vjp)) {}
  TensorList apply(const TensorList& grad_outputs) override;
  std::string name() const override { return name_; }

 private:
  std::string name_;
  VjpFn vjp_;
};

// Sink for a leaf tensor's gradient: the engine accumulates into the leaf's .grad when it reaches one.
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(const std::shared_ptr<TensorImpl>& leaf) : leaf_(leaf) {}
  TensorList apply(const TensorList& grad_outputs) override;  // returns nothing: a sink
  std::string name() const override { return "AccumulateGrad"; }
  uint32_t num_outputs() const override { return 1; }
  std::shared_ptr<TensorImpl> leaf() const { return leaf_.lock(); }

 private:
  std::weak_ptr<TensorImpl> leaf_;
};

// The edge through which a gradient for `t` enters the graph: its grad_fn, or its leaf accumulator.
// Invalid when `t` does not require grad.
Edge gradient_edge(const Tensor& t);
std::shared_ptr<Node> grad_accumulator(const Tensor& leaf);

}  // namespace tg
