#include <tensorgrad/optim/sgd.h>

#include <cmath>

#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/view.h>

#include <tensorgrad/kernels/fused_update.h>

#include "update_ops.h"

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
  set_lr_unchecked(options_.lr);
}

void SGD::update(Tensor& param, const Tensor& grad, ParamState& state) {
  const SGDOptions& o = options_;
  // After the first step (which makes the momentum buffer from the first direction), one fused pass.
  Tensor* momentum_buf = o.momentum != 0.0 && !state.buffers.empty() ? &state.buffers[0] : nullptr;
  if ((o.momentum == 0.0 || momentum_buf != nullptr) && detail::fusable(param, {&grad, momentum_buf})) {
    const kernels::SgdCoefficients c{lr(), o.momentum, o.dampening, o.weight_decay, o.nesterov};
    kernels::sgd_update(param.dtype(), param.numel(), c, param.data_ptr(), grad.data_ptr(),
                        momentum_buf != nullptr ? momentum_buf->data_ptr() : nullptr);
    detail::mark_written({&param, momentum_buf});
    return;
  }
  Tensor d = grad;
  if (o.weight_decay != 0.0) d = add(grad, mul(param, o.weight_decay));
  if (o.momentum != 0.0) {
    if (state.buffers.empty()) {
      state.buffers.push_back(clone(d));  // the first step: buf = g
    } else {
      Tensor& buf = state.buffers[0];
      detail::scale_add_(buf, o.momentum, o.dampening == 0.0 ? d : mul(d, 1.0 - o.dampening));
    }
    const Tensor& buf = state.buffers[0];
    d = o.nesterov ? add(d, mul(buf, o.momentum)) : buf;
  }
  param.sub_(d, lr());
}

}  // namespace tg::optim
