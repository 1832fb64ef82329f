#include <tensorgrad/optim/sgd.h>

#include <cmath>

#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/view.h>

#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/optimizer_update.h>


namespace tg::optim {

namespace {

HyperParams to_hparams(const SGDOptions& o) {
  return {{"lr", o.lr},
          {"momentum", o.momentum},
          {"dampening", o.dampening},
          {"nesterov", o.nesterov ? 1.0 : 0.0},
          {"weight_decay", o.weight_decay}};
}

SGDOptions from_hparams(const HyperParams& h) {
  return {h.at("lr"), h.at("momentum"), h.at("dampening"), h.at("nesterov") != 0.0, h.at("weight_decay")};
}

}  // namespace

SGD::SGD(std::vector<Tensor> params, SGDOptions options)
    : Optimizer("SGD", std::move(params), options.lr), options_(options) {
  check_hyperparameters(to_hparams(options));
  use_master_weights(options.master_weights);
}

SGD::SGD(std::vector<Tensor> params, double lr, double momentum, double dampening, bool nesterov, double weight_decay)
    : SGD(std::move(params), SGDOptions{lr, momentum, dampening, nesterov, weight_decay}) {}

SGDOptions SGD::options() const {
  SGDOptions o = options_;
  o.lr = lr();
  return o;
}

HyperParams SGD::hyperparameters() const { return to_hparams(options()); }

std::vector<std::string> SGD::check_hyperparameters(const HyperParams& h) const {
  const double nesterov = h.at("nesterov");
  const SGDOptions o = from_hparams(h);
  require(std::isfinite(o.lr) && o.lr >= 0.0, "learning rate", o.lr, "must be finite and >= 0");
  require(std::isfinite(o.momentum) && o.momentum >= 0.0, "momentum", o.momentum, "must be finite and >= 0");
  require(std::isfinite(o.dampening), "dampening", o.dampening, "must be finite");
  require(std::isfinite(o.weight_decay) && o.weight_decay >= 0.0, "weight_decay", o.weight_decay,
          "must be finite and >= 0");
  require(nesterov == 0.0 || nesterov == 1.0, "nesterov flag", nesterov, "must be 0 or 1");
  require(!o.nesterov || o.momentum > 0.0, "momentum", o.momentum, "nesterov needs momentum > 0");
  require(!o.nesterov || o.dampening == 0.0, "dampening", o.dampening, "nesterov needs dampening == 0");
  if (o.momentum != 0.0) return {"momentum_buffer"};
  return {};
}

void SGD::apply_hyperparameters(const HyperParams& h) {
  options_ = from_hparams(h);
  options_.master_weights = master_weights();
  set_lr_unchecked(options_.lr);
}

void SGD::update(Tensor& param, const Tensor& grad, ParamState& state) {
  const SGDOptions& o = options_;
  SgdCoefficients c{lr(), o.momentum, o.dampening, o.weight_decay, o.nesterov};
  Tensor none;
  if (o.momentum == 0.0) return sgd_update_(param, grad, none, c);
  if (state.buffers.empty()) {
    // torch's first step sets buf = d: from a zero buffer, momentum * 0 + 1 * d is exactly that.
    state.buffers.push_back(zeros_like(param));
    c.dampening = 0.0;
  }
  sgd_update_(param, grad, state.buffers[0], c);
}

}  // namespace tg::optim
