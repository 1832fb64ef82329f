// The optimizer base: parameter checks, the step loop, zero_grad, and checkpointing of hyperparameters and
// per-parameter state (all checks done before anything changes).
#include <tensorgrad/optim/optimizer.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include <tensorgrad/core/graph.h>
#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/view.h>

namespace tg::optim {

namespace {

constexpr const char* kHParamPrefix = "hparams.";
constexpr const char* kStatePrefix = "state.";

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

// "state.<index>.<name>" -> (index, name); false when the key does not have that form.
bool parse_state_key(const std::string& key, size_t& index, std::string& name) {
  const size_t begin = std::string(kStatePrefix).size();
  const size_t dot = key.find('.', begin);
  if (dot == std::string::npos || dot == begin || dot + 1 == key.size() || dot - begin > 18) return false;
  size_t value = 0;
  for (size_t i = begin; i < dot; ++i) {
    if (key[i] < '0' || key[i] > '9') return false;
    value = value * 10 + static_cast<size_t>(key[i] - '0');
  }
  index = value;
  name = key.substr(dot + 1);
  return true;
}

std::string shape_str(const Shape& s) { return detail::concat(s); }

}  // namespace

Optimizer::Optimizer(std::string name, std::vector<Tensor> params, double lr)
    : name_(std::move(name)), params_(std::move(params)), lr_(lr) {
  TG_CHECK(!params_.empty(), "tg::optim::", name_, ": got an empty parameter list");
  std::map<const TensorImpl*, size_t> seen;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    TG_CHECK(p.defined(), "tg::optim::", name_, ": parameter ", i, " is an undefined tensor");
    TG_CHECK(is_floating(p.dtype()), "tg::optim::", name_, ": parameter ", i, " has dtype ", dtype_name(p.dtype()),
             "; only floating tensors can be optimized");
    TG_CHECK(p.is_leaf(), "tg::optim::", name_, ": parameter ", i, " (shape ", p.shape(),
             ") is not a leaf tensor; optimize the leaf it was computed from, or detach() it");
    const auto [it, fresh] = seen.emplace(p.impl_ptr().get(), i);
    TG_CHECK(fresh, "tg::optim::", name_, ": parameters ", it->second, " and ", i, " are the same tensor (shape ",
             p.shape(), "); it would be updated twice per step");
  }
  require(std::isfinite(lr) && lr >= 0.0, "learning rate", lr, "must be finite and >= 0");
  state_.resize(params_.size());
}

void Optimizer::require(bool ok, const char* what, double value, const char* rule) const {
  TG_CHECK(ok, "tg::optim::", name_, ": invalid ", what, " ", value, " (", rule, ")");
}

void Optimizer::set_lr(double lr) {
  require(std::isfinite(lr) && lr >= 0.0, "learning rate", lr, "must be finite and >= 0");
  lr_ = lr;
}

int64_t Optimizer::step_count(size_t index) const {
  TG_CHECK(index < state_.size(), "tg::optim::", name_, "::step_count: parameter index ", index,
           " out of range for ", state_.size(), " parameters");
  return state_[index].step;
}

void Optimizer::step() {
  NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i];
    const Tensor grad = p.grad();
    if (!grad.defined()) continue;
    TG_CHECK(grad.shape() == p.shape() && grad.dtype() == p.dtype(), "tg::optim::", name_, "::step: parameter ",
             i, " has shape ", p.shape(), " and dtype ", dtype_name(p.dtype()), " but its gradient has shape ",
             grad.shape(), " and dtype ", dtype_name(grad.dtype()));
    ParamState& s = state_[i];
    ++s.step;
    if (!has_master(i)) {
      update(p, grad.detach(), s);
      continue;
    }
    if (!s.master.defined()) s.master = to(p.detach(), DType::Float32);
    update(s.master, to(grad.detach(), DType::Float32), s);
    p.copy_(s.master);  // rounded to the parameter's format; bumps its version like any in-place op
  }
}

void Optimizer::zero_grad(bool set_to_none) {
  NoGradGuard no_grad;
  for (const Tensor& p : params_) {
    if (set_to_none) {
      p.zero_grad();
      continue;
    }
    Tensor g = p.grad();
    if (!g.defined()) continue;
    // A gradient recorded by create_graph belongs to a graph: replace it rather than write into it.
    if (g.requires_grad()) p.set_grad(zeros_like(g.detach()));
    else g.zero_();
  }
}

StateDict Optimizer::state_dict() const {
  StateDict out;
  for (const auto& [name, value] : hyperparameters())
    out.emplace(kHParamPrefix + name, scalar_tensor(value, DType::Float64));
  const std::vector<std::string> names = check_hyperparameters(hyperparameters());
  for (size_t i = 0; i < state_.size(); ++i) {
    const ParamState& s = state_[i];
    if (s.step == 0) continue;
    const std::string prefix = kStatePrefix + std::to_string(i) + ".";
    out.emplace(prefix + "step", scalar_tensor(static_cast<double>(s.step), DType::Int64));
    TG_CHECK(s.buffers.size() == names.size(), "tg::optim::", name_, "::state_dict: parameter ", i, " holds ",
             s.buffers.size(), " state buffers, expected ", names.size());
    for (size_t b = 0; b < names.size(); ++b) out.emplace(prefix + names[b], clone(s.buffers[b]));
    if (s.master.defined()) out.emplace(prefix + "master", clone(s.master));
  }
  return out;
}

void Optimizer::load_state_dict(const StateDict& state) {
  const std::string who = "tg::optim::" + name_ + "::load_state_dict";
  std::vector<std::string> problems;
  auto one_value = [&](const std::string& key, const Tensor& t, double& value) {
    if (!t.defined() || t.numel() != 1) {
      problems.push_back("'" + key + "' must hold one value, got " +
                         (t.defined() ? "shape " + shape_str(t.shape()) : std::string("an undefined tensor")));
      return false;
    }
    value = t.item();
    return true;
  };

  // 1. Hyperparameters: exactly the ones this optimizer has.
  const HyperParams current = hyperparameters();
  HyperParams loaded;
  for (const auto& [name, unused] : current) {
    const auto it = state.find(kHParamPrefix + name);
    if (it == state.end()) {
      problems.push_back("missing key '" + std::string(kHParamPrefix) + name + "'");
      continue;
    }
    double value = 0.0;
    if (one_value(it->first, it->second, value)) loaded[name] = value;
  }
  std::vector<std::string> names;
  bool hparams_ok = problems.empty();
  if (hparams_ok) {
    try {
      names = check_hyperparameters(loaded);
    } catch (const Error& e) {
      std::string what = e.what();
      const size_t at = what.rfind(" (at ");  // the location is appended once, to the whole message
      if (at != std::string::npos) what.resize(at);
      problems.push_back("bad hyperparameter: " + what);
      hparams_ok = false;
    }
  }
  // Unusable hyperparameters: the state keys are still checked, against the current buffer layout.
  if (!hparams_ok) names = check_hyperparameters(current);

  // 2. Per-parameter state: all of a parameter's keys, or none of them.
  std::vector<std::map<std::string, Tensor>> by_param(params_.size());
  for (const auto& [key, tensor] : state) {
    if (starts_with(key, kHParamPrefix)) {
      if (!current.count(key.substr(std::string(kHParamPrefix).size())))
        problems.push_back("unexpected key '" + key + "'");
      continue;
    }
    size_t index = 0;
    std::string name;
    const bool known_name =
        starts_with(key, kStatePrefix) && parse_state_key(key, index, name) &&
        (name == "step" || std::find(names.begin(), names.end(), name) != names.end() ||
         (name == "master" && index < params_.size() && has_master(index)));
    if (!known_name) {
      problems.push_back("unexpected key '" + key + "'");
    } else if (index >= params_.size()) {
      problems.push_back("unexpected key '" + key + "' (this optimizer has " + std::to_string(params_.size()) +
                         (params_.size() == 1 ? " parameter)" : " parameters)"));
    } else {
      by_param[index].emplace(name, tensor);
    }
  }
  std::vector<ParamState> new_state(params_.size());
  for (size_t i = 0; i < params_.size(); ++i) {
    auto& keys = by_param[i];
    if (keys.empty()) continue;
    const std::string prefix = kStatePrefix + std::to_string(i) + ".";
    ParamState& s = new_state[i];
    const auto step_it = keys.find("step");
    if (step_it == keys.end()) {
      problems.push_back("missing key '" + prefix + "step'");
    } else {
      double step = 0.0;
      if (one_value(prefix + "step", step_it->second, step)) {
        if (!(step >= 1.0 && step == std::floor(step) && step < 9.0e18))
          problems.push_back("'" + prefix + "step' must be a positive integer, got " + detail::concat(step));
        else s.step = static_cast<int64_t>(step);
      }
    }
    const Tensor& p = params_[i];
    // With a master copy the state is float32, as the master; otherwise the parameter's dtype.
    const DType state_dtype = has_master(i) ? DType::Float32 : p.dtype();
    std::vector<std::string> wanted = names;
    if (has_master(i)) wanted.push_back("master");
    for (const std::string& name : wanted) {
      const auto it = keys.find(name);
      if (it == keys.end()) {
        problems.push_back("missing key '" + prefix + name + "'");
        continue;
      }
      const Tensor& t = it->second;
      if (!t.defined()) {
        problems.push_back("'" + prefix + name + "' is an undefined tensor");
      } else if (t.shape() != p.shape()) {
        problems.push_back("shape mismatch for '" + prefix + name + "': the checkpoint has " + shape_str(t.shape()) +
                           ", parameter " + std::to_string(i) + " has " + shape_str(p.shape()));
      } else if (!is_floating(t.dtype())) {
        problems.push_back("'" + prefix + name + "' has dtype " + dtype_name(t.dtype()) + ", expected a floating one");
      } else {
        Tensor copy = contiguous(t.dtype() == state_dtype ? clone(t.detach()) : to(t.detach(), state_dtype));
        if (name == "master") s.master = std::move(copy);
        else s.buffers.push_back(std::move(copy));
      }
    }
  }

  if (!problems.empty()) {
    std::ostringstream msg;
    msg << who << ": " << problems.size() << (problems.size() == 1 ? " problem" : " problems")
        << ", the optimizer is unchanged:";
    for (const auto& p : problems) msg << "\n  " << p;
    TG_FAIL(msg.str());
  }
  // 3. Commit (nothing below throws).
  apply_hyperparameters(loaded);
  state_ = std::move(new_state);
}

}  // namespace tg::optim
