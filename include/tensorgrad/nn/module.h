#pragma once
// Module: a tree of named parameters, buffers and child modules, as torch.nn.Module.
//
// Registered tensors are handles that share their TensorImpl with the module's members, so an optimizer
// holding `parameters()` and the layer's own `weight` see the same storage and the same .grad(). Never
// rebind a registered member (`weight = ...`); change it in place (`weight.copy_(...)`), which is what
// load_state_dict and the initialisers do.
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <tensorgrad/core/state_dict.h>
#include <tensorgrad/core/tensor.h>

namespace tg::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  explicit Module(std::string type_name) : type_name_(std::move(type_name)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  virtual Tensor forward(const Tensor& input) = 0;
  Tensor operator()(const Tensor& input) { return forward(input); }
  // Several inputs and outputs behind one signature, for code that holds modules by this base class: a
  // module whose typed forward takes more than x (its lengths, a mask, positions) overrides this with that
  // forward's inputs and outputs in order, trailing optional inputs left out or undefined (its header says
  // which). The default takes exactly one input and returns {forward(x)}. A wrong count throws tg::Error
  // naming the module.
  virtual TensorList forward_many(const TensorList& inputs);
  TensorList operator()(const TensorList& inputs) { return forward_many(inputs); }

  // Depth-first in registration order, names joined with '.', e.g. "features.0.weight".
  NamedTensors named_parameters() const;
  std::vector<Tensor> parameters() const;
  NamedTensors named_buffers() const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const { return children_; }
  int64_t num_parameters() const;  // total elements over all parameters

  // Parameters and buffers by name. The tensors share storage with the module (detached handles).
  StateDict state_dict() const;
  // Copies every entry into the module in place. Checks everything before changing anything: missing or
  // unexpected keys (unexpected ones are allowed when `strict` is false) and shape mismatches all throw one
  // tg::Error that lists each offending key, and the module is left as it was.
  void load_state_dict(const StateDict& state, bool strict = true);

  // Train mode (the default) or eval mode, for this module and all its children.
  void train(bool on = true);
  // Casts every floating parameter and buffer, this module's and its children's, to `dtype` in place (the
  // tensors keep their identity: take an optimizer's parameters after this). A bfloat16 / float16 model trains
  // with an optimizer's master_weights (docs/DTYPES.md).
  Module& to(DType dtype);
  // Moves every parameter and buffer, this module's and its children's, to `device` in place (the tensors keep
  // their identity, as for to(DType); take an optimizer's parameters after this, since its state is made where
  // the parameters are).
  Module& to(Device device);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void zero_grad();

  const std::string& type_name() const { return type_name_; }
  // The arguments shown by operator<<, e.g. "in_features=784, out_features=512, bias=true".
  virtual std::string extra_repr() const { return ""; }

 protected:
  // For forward_many overrides: throws unless min <= inputs.size() <= max; then inputs[i], or an undefined
  // tensor for an optional input left out.
  void check_input_count(const TensorList& inputs, size_t min, size_t max) const;
  static Tensor input_at(const TensorList& inputs, size_t i) { return i < inputs.size() ? inputs[i] : Tensor(); }

  // Marks `tensor` as a parameter (requires_grad) and returns the same handle.
  Tensor register_parameter(const std::string& name, Tensor tensor);
  Tensor register_buffer(const std::string& name, Tensor tensor);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> module);
  void check_new_name(const std::string& name) const;
  void collect(const std::string& prefix, bool parameters, NamedTensors& out) const;
  // to()'s walk: replaces, in place, the data of every parameter and buffer (this module's and its children's)
  // for which `convert` returns a defined tensor.
  void convert_tensors(const std::function<Tensor(const Tensor&)>& convert);

  std::string type_name_;
  NamedTensors parameters_;
  NamedTensors buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

// PyTorch-style tree: "Sequential(\n  (0): Linear(in_features=784, ...)\n  ...)".
std::ostream& operator<<(std::ostream& os, const Module& module);

}  // namespace tg::nn
