#include <tensorgrad/optim/rmsprop.h>

#include <cmath>

#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/elementwise.h>

#include "update_ops.h"

namespace tg::optim {

namespace {

HyperParams to_hparams(const RMSpropOptions& o) {
  return {{"lr", o.lr},
          {"alpha", o.alpha},
          {"eps", o.eps},
          {"weight_decay", o.weight_decay},
          {"momentum", o.momentum},
          {"centered", o.centered ? 1.0 : 0.0}};
}

RMSpropOptions from_hparams(const HyperParams& h) {
  return {h.at("lr"), h.at("alpha"), h.at("eps"), h.at("weight_decay"), h.at("momentum"), h.at("centered") != 0.0};
}

}  // namespace

RMSprop::RMSprop(std::vector<Tensor> params, RMSpropOptions options)
    : Optimizer("RMSprop", std::move(params), options.lr), options_(options) {
  check_hyperparameters(to_hparams(options));
  use_master_weights(options.master_weights);
}

RMSprop::RMSprop(std::vector<Tensor> params, double lr, double alpha, double eps, double weight_decay, double momentum,
                 bool centered)
    : RMSprop(std::move(params), RMSpropOptions{lr, alpha, eps, weight_decay, momentum, centered}) {}

RMSpropOptions RMSprop::options() const {
  RMSpropOptions o = options_;
  o.lr = lr();
  return o;
}

HyperParams RMSprop::hyperparameters() const { return to_hparams(options()); }

std::vector<std::string> RMSprop::check_hyperparameters(const HyperParams& h) const {
  const double centered = h.at("centered");
  const RMSpropOptions o = from_hparams(h);
  require(std::isfinite(o.lr) && o.lr >= 0.0, "learning rate", o.lr, "must be finite and >= 0");
  require(o.alpha >= 0.0 && o.alpha <= 1.0, "alpha", o.alpha, "must be in [0, 1]");
  require(std::isfinite(o.eps) && o.eps >= 0.0, "eps", o.eps, "must be finite and >= 0");
  require(std::isfinite(o.weight_decay) && o.weight_decay >= 0.0, "weight_decay", o.weight_decay,
          "must be finite and >= 0");
  require(std::isfinite(o.momentum) && o.momentum >= 0.0, "momentum", o.momentum, "must be finite and >= 0");
  require(centered == 0.0 || centered == 1.0, "centered flag", centered, "must be 0 or 1");
  std::vector<std::string> names{"square_avg"};
  if (o.momentum > 0.0) names.push_back("momentum_buffer");
  if (o.centered) names.push_back("grad_avg");
  return names;
}

void RMSprop::apply_hyperparameters(const HyperParams& h) {
  options_ = from_hparams(h);
  options_.master_weights = master_weights();
  set_lr_unchecked(options_.lr);
}

void RMSprop::update(Tensor& param, const Tensor& grad, ParamState& state) {
  const RMSpropOptions& o = options_;
  const bool has_momentum = o.momentum > 0.0;
  if (state.buffers.empty()) {
    state.buffers.push_back(zeros_like(param));
    if (has_momentum) state.buffers.push_back(zeros_like(param));
    if (o.centered) state.buffers.push_back(zeros_like(param));
  }
  Tensor g = grad;
  if (o.weight_decay != 0.0) g = add(grad, mul(param, o.weight_decay));

  Tensor& square_avg = state.buffers[0];
  detail::lerp_(square_avg, square(g), 1.0 - o.alpha);
  Tensor avg;
  if (o.centered) {
    Tensor& grad_avg = state.buffers.back();
    detail::lerp_(grad_avg, g, 1.0 - o.alpha);
    avg = add(sqrt(sub(square_avg, square(grad_avg))), o.eps);
  } else {
    avg = add(sqrt(square_avg), o.eps);
  }
  if (has_momentum) {
    Tensor& buf = state.buffers[1];
    detail::scale_add_(buf, o.momentum, div(g, avg));
    param.sub_(buf, lr());
  } else {
    param.sub_(div(g, avg), lr());
  }
}

}  // namespace tg::optim
