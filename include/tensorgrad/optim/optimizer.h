#pragma once
// Optimizers over a flat list of parameters, as torch.optim with a single parameter group.
//
// The optimizer holds handles to the caller's parameters (e.g. `module.parameters()`): they share their
// TensorImpl with the model, so updates are written in place into the parameter storage (under
// tg::NoGradGuard, with in-place tensor ops) and the handles are never rebound. A parameter whose .grad()
// is undefined at step() is skipped: it gets no update and no state.
//
// Checkpoints: state_dict() snapshots (copies) the hyperparameters and the per-parameter state;
// load_state_dict() restores both, so "2 steps, save, load into a fresh optimizer, 1 step" equals
// "3 steps" bit for bit. Keys:
//   "hparams.<name>"          0-d float64, e.g. "hparams.lr", "hparams.beta1"; flags are 0 or 1
//   "state.<index>.step"      0-d int64, number of updates applied to parameter <index> (>= 1)
//   "state.<index>.<buffer>"  the parameter's shape and dtype, e.g. "state.0.exp_avg"
// A parameter that has never been updated has no "state.<index>.*" keys.
//
// Master weights (the option `master_weights`, off by default): a bfloat16 or float16 parameter is updated
// through a float32 copy kept in the optimizer ("state.<index>.master"), with float32 state buffers and the
// gradient converted to float32; the parameter is then the master rounded. Without it a 16-bit update stalls:
// bfloat16 steps smaller than half the spacing around the weight (2^-8 of it) round back to the old value, so
// lr * grad = 6e-4 leaves 0.9994 at 1.0 for ever. Float32 and float64 parameters are updated in place either way.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <tensorgrad/core/state_dict.h>
#include <tensorgrad/core/tensor.h>

namespace tg::optim {

// Hyperparameters by name ("lr", "momentum", ...); boolean options are 0 or 1.
using HyperParams = std::map<std::string, double>;

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter that has a gradient, in place, under tg::NoGradGuard.
  void step();
  // set_to_none (the default, as PyTorch): every gradient becomes undefined, so the next backward writes a
  // fresh one and parameters it does not reach are skipped by step(). Otherwise existing gradients are
  // filled with zeros in place (such parameters are then updated with a zero gradient, e.g. decayed).
  void zero_grad(bool set_to_none = true);

  double lr() const { return lr_; }
  void set_lr(double lr);  // throws tg::Error for a negative or non-finite value

  const std::string& name() const { return name_; }  // "SGD", "Adam", "AdamW", "RMSprop"
  const std::vector<Tensor>& parameters() const { return params_; }
  // Whether 16-bit parameters are updated through float32 master copies (see above).
  bool master_weights() const { return master_weights_; }
  // Number of updates applied so far to parameter `index`.
  int64_t step_count(size_t index) const;
  // All hyperparameters, lr included, as saved under "hparams.<name>".
  virtual HyperParams hyperparameters() const = 0;

  // Copies: later steps do not change a dict already taken.
  StateDict state_dict() const;
  // Checks everything first: missing and unexpected keys, values that are not one-element tensors,
  // invalid hyperparameters, a step that is not a positive integer, shape mismatches (naming the key and
  // both shapes). All problems are reported in one tg::Error and the optimizer is left unchanged. Buffers
  // are copied (cast to the parameter's dtype), so the dict is not aliased.
  void load_state_dict(const StateDict& state);

 protected:
  struct ParamState {
    int64_t step = 0;             // updates applied, incremented by step() before update() runs
    std::vector<Tensor> buffers;  // named by state_names(hyperparameters()); empty until update() fills them
    Tensor master;                // the float32 master copy of a 16-bit parameter, with master weights
  };

  // Checks the parameters (defined, floating, leaves, no duplicates, at least one) and `lr`.
  Optimizer(std::string name, std::vector<Tensor> params, double lr);

  // The update of one parameter, run under NoGradGuard; `grad` has the parameter's shape and dtype.
  virtual void update(Tensor& param, const Tensor& grad, ParamState& state) = 0;
  // Validates a full set of hyperparameters (throws tg::Error naming the optimizer and the bad value) and
  // returns the names of the per-parameter buffers an optimizer with those values keeps, in the order of
  // ParamState::buffers.
  virtual std::vector<std::string> check_hyperparameters(const HyperParams& h) const = 0;
  // Applies values that check_hyperparameters accepted (lr included); must not throw.
  virtual void apply_hyperparameters(const HyperParams& h) = 0;

  void set_lr_unchecked(double lr) { lr_ = lr; }
  // Turns master weights on or off (the optimizers' `master_weights` option); call it from the constructor.
  void use_master_weights(bool on) { master_weights_ = on; }
  // Throws tg::Error "tg::optim::<name>: invalid <what> <value> (<rule>)" unless ok.
  void require(bool ok, const char* what, double value, const char* rule) const;

 private:
  std::string name_;
  std::vector<Tensor> params_;
  std::vector<ParamState> state_;
  double lr_;
  bool master_weights_ = false;
  // Whether parameter i is updated through a master copy.
  bool has_master(size_t i) const { return master_weights_ && is_half(params_[i].dtype()); }
};

}  // namespace tg::optim
