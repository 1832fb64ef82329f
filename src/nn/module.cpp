#include <tensorgrad/base/error.h>
#include <tensorgrad/core/graph.h>
#include <tensorgrad/nn/module.h>
#include <tensorgrad/ops/view.h>

#include <ostream>

namespace tg::nn {

namespace {

std::string joined(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

std::string list_str(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return "[" + out + "]";
}

void print_tree(std::ostream& os, const Module& m, int indent) {
  os << m.type_name() << "(" << m.extra_repr();
  const auto children = m.named_children();
  if (children.empty()) {
    os << ")";
    return;
  }
  os << "\n";
  for (const auto& [name, child] : children) {
    os << std::string(static_cast<size_t>(indent + 2), ' ') << "(" << name << "): ";
    print_tree(os, *child, indent + 2);
    os << "\n";
  }
  os << std::string(static_cast<size_t>(indent), ' ') << ")";
}

}  // namespace

TensorList Module::forward_many(const TensorList& inputs) {
  check_input_count(inputs, 1, 1);
  return {forward(inputs[0])};
}

void Module::check_input_count(const TensorList& inputs, size_t min, size_t max) const {
  TG_CHECK(inputs.size() >= min && inputs.size() <= max, type_name_, "::forward_many: expected ",
           min == max ? std::to_string(min) : std::to_string(min) + " to " + std::to_string(max), " inputs, got ",
           inputs.size());
}

void Module::check_new_name(const std::string& name) const {
  TG_CHECK(!name.empty() && name.find('.') == std::string::npos, "nn::", type_name_, ": invalid member name \"",
           name, "\" (it must be non-empty and contain no '.')");
  auto taken = [&](const auto& list) {
    for (const auto& entry : list)
      if (entry.first == name) return true;
    return false;
  };
  TG_CHECK(!taken(parameters_) && !taken(buffers_) && !taken(children_), "nn::", type_name_, ": the name \"", name,
           "\" is already registered");
}

Tensor Module::register_parameter(const std::string& name, Tensor tensor) {
  check_new_name(name);
  TG_CHECK(tensor.defined(), "nn::", type_name_, ": parameter \"", name, "\" is undefined");
  TG_CHECK(is_floating(tensor.dtype()), "nn::", type_name_, ": parameter \"", name, "\" must be floating point, got ",
           dtype_name(tensor.dtype()));
  tensor.requires_grad_(true);
  parameters_.emplace_back(name, tensor);
  return tensor;
}

Tensor Module::register_buffer(const std::string& name, Tensor tensor) {
  check_new_name(name);
  TG_CHECK(tensor.defined(), "nn::", type_name_, ": buffer \"", name, "\" is undefined");
  buffers_.emplace_back(name, tensor);
  return tensor;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  check_new_name(name);
  TG_CHECK(module != nullptr, "nn::", type_name_, ": child module \"", name, "\" is null");
  children_.emplace_back(name, std::move(module));
}

void Module::collect(const std::string& prefix, bool parameters, NamedTensors& out) const {
  for (const auto& [name, t] : parameters ? parameters_ : buffers_) out.emplace_back(joined(prefix, name), t);
  for (const auto& [name, child] : children_) child->collect(joined(prefix, name), parameters, out);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", true, out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& entry : named_parameters()) out.push_back(entry.second);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", false, out);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const auto& entry : named_parameters()) n += entry.second.numel();
  return n;
}

StateDict Module::state_dict() const {
  StateDict out;
  for (const auto& [name, t] : named_parameters()) out[name] = t.detach();
  for (const auto& [name, t] : named_buffers()) out[name] = t.detach();
  return out;
}

void Module::load_state_dict(const StateDict& state, bool strict) {
  NamedTensors own = named_parameters();
  for (auto& entry : named_buffers()) own.push_back(entry);

  std::vector<std::string> missing, unexpected, mismatched;
  for (const auto& [name, t] : own) {
    auto it = state.find(name);
    if (it == state.end()) {
      missing.push_back(name);
    } else if (!it->second.defined() || it->second.shape() != t.shape()) {
      mismatched.push_back(name + ": checkpoint " +
                           (it->second.defined() ? shape_str(it->second.shape()) : std::string("undefined")) +
                           " vs model " + shape_str(t.shape()));
    } else if (is_floating(it->second.dtype()) != is_floating(t.dtype())) {
      mismatched.push_back(name + ": checkpoint dtype " + dtype_name(it->second.dtype()) + " vs model " +
                           dtype_name(t.dtype()));
    }
  }
  if (strict) {
    for (const auto& entry : state) {
      bool known = false;
      for (const auto& o : own) known |= o.first == entry.first;
      if (!known) unexpected.push_back(entry.first);
    }
  }
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::string msg = "nn::" + type_name_ + "::load_state_dict: the state does not fit the model (nothing was loaded)";
    if (!missing.empty()) msg += "; missing keys: " + list_str(missing);
    if (!unexpected.empty()) msg += "; unexpected keys: " + list_str(unexpected);
    if (!mismatched.empty()) msg += "; mismatched: " + list_str(mismatched);
    TG_FAIL(msg);
  }
  NoGradGuard no_grad;
  for (auto& [name, t] : own) t.copy_(state.at(name));
}

void Module::train(bool on) {
  training_ = on;
  for (auto& entry : children_) entry.second->train(on);
}

void Module::convert_tensors(const std::function<Tensor(const Tensor&)>& convert) {
  NoGradGuard no_grad;
  for (auto* list : {&parameters_, &buffers_})
    for (auto& [name, t] : *list)
      if (const Tensor converted = convert(t.detach()); converted.defined()) t.set_data_(converted);
  for (auto& entry : children_) entry.second->convert_tensors(convert);
}

Module& Module::to(DType dtype) {
  TG_CHECK(is_floating(dtype), "nn::", type_name_, "::to: expected a floating dtype, got ", dtype_name(dtype));
  convert_tensors([dtype](const Tensor& t) {
    return is_floating(t.dtype()) && t.dtype() != dtype ? tg::to(t, dtype) : Tensor();
  });
  return *this;
}

Module& Module::to(Device device) {
  convert_tensors([device](const Tensor& t) { return t.device() != device ? tg::to(t, device) : Tensor(); });
  return *this;
}

void Module::zero_grad() {
  for (auto& entry : named_parameters()) entry.second.zero_grad();
}

std::ostream& operator<<(std::ostream& os, const Module& module) {
  print_tree(os, module, 0);
  return os;
}

}  // namespace tg::nn
