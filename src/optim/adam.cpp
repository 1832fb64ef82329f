#include <tensorgrad/optim/adam.h>

#include <cmath>

#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/elementwise.h>

#include <tensorgrad/ops/optimizer_update.h>


namespace tg::optim {

namespace {

HyperParams to_hparams(const AdamOptions& o) {
  return {{"lr", o.lr},
          {"beta1", o.beta1},
          {"beta2", o.beta2},
          {"eps", o.eps},
          {"weight_decay", o.weight_decay},
          {"amsgrad", o.amsgrad ? 1.0 : 0.0}};
}

AdamOptions from_hparams(const HyperParams& h) {
  return {h.at("lr"), h.at("beta1"), h.at("beta2"), h.at("eps"), h.at("weight_decay"), h.at("amsgrad") != 0.0};
}

AdamOptions from_adamw(const AdamWOptions& o) {
  return {o.lr, o.beta1, o.beta2, o.eps, o.weight_decay, o.amsgrad, o.master_weights};
}

}  // namespace

Adam::Adam(const char* name, bool decoupled, std::vector<Tensor> params, const AdamOptions& options)
    : Optimizer(name, std::move(params), options.lr), decoupled_(decoupled), options_(options) {
  check_hyperparameters(to_hparams(options));
  use_master_weights(options.master_weights);
}

Adam::Adam(std::vector<Tensor> params, AdamOptions options) : Adam("Adam", false, std::move(params), options) {}

Adam::Adam(std::vector<Tensor> params, double lr, std::pair<double, double> betas, double eps, double weight_decay,
           bool amsgrad)
    : Adam(std::move(params), AdamOptions{lr, betas.first, betas.second, eps, weight_decay, amsgrad}) {}

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions options)
    : Adam("AdamW", true, std::move(params), from_adamw(options)) {}

AdamW::AdamW(std::vector<Tensor> params, double lr, std::pair<double, double> betas, double eps, double weight_decay,
             bool amsgrad)
    : AdamW(std::move(params), AdamWOptions{lr, betas.first, betas.second, eps, weight_decay, amsgrad}) {}

AdamOptions Adam::options() const {
  AdamOptions o = options_;
  o.lr = lr();
  return o;
}

AdamWOptions AdamW::options() const {
  const AdamOptions o = Adam::options();
  return {o.lr, o.beta1, o.beta2, o.eps, o.weight_decay, o.amsgrad, o.master_weights};
}

HyperParams Adam::hyperparameters() const { return to_hparams(Adam::options()); }

std::vector<std::string> Adam::check_hyperparameters(const HyperParams& h) const {
  const double amsgrad = h.at("amsgrad");
  const AdamOptions o = from_hparams(h);
  require(std::isfinite(o.lr) && o.lr >= 0.0, "learning rate", o.lr, "must be finite and >= 0");
  require(o.beta1 >= 0.0 && o.beta1 < 1.0, "beta1", o.beta1, "must be in [0, 1)");
  require(o.beta2 >= 0.0 && o.beta2 < 1.0, "beta2", o.beta2, "must be in [0, 1)");
  require(std::isfinite(o.eps) && o.eps >= 0.0, "eps", o.eps, "must be finite and >= 0");
  require(std::isfinite(o.weight_decay) && o.weight_decay >= 0.0, "weight_decay", o.weight_decay,
          "must be finite and >= 0");
  require(amsgrad == 0.0 || amsgrad == 1.0, "amsgrad flag", amsgrad, "must be 0 or 1");
  if (o.amsgrad) return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  return {"exp_avg", "exp_avg_sq"};
}

void Adam::apply_hyperparameters(const HyperParams& h) {
  options_ = from_hparams(h);
  options_.master_weights = master_weights();
  set_lr_unchecked(options_.lr);
}

void Adam::update(Tensor& param, const Tensor& grad, ParamState& state) {
  const AdamOptions& o = options_;
  const double lr = this->lr();
  if (state.buffers.empty()) {
    state.buffers.push_back(zeros_like(param));
    state.buffers.push_back(zeros_like(param));
    if (o.amsgrad) state.buffers.push_back(zeros_like(param));
  }
  const double t = static_cast<double>(state.step);
  const double bias_correction1 = 1.0 - std::pow(o.beta1, t);
  const double bias_correction2_sqrt = std::sqrt(1.0 - std::pow(o.beta2, t));
  Tensor none;
  Tensor& max_sq = o.amsgrad ? state.buffers[2] : none;
  const AdamCoefficients c{.lr_over_bias_correction1 = lr / bias_correction1,
                           .one_minus_beta1 = 1.0 - o.beta1,
                           .one_minus_beta2 = 1.0 - o.beta2,
                           .bias_correction2_sqrt = bias_correction2_sqrt,
                           .eps = o.eps,
                           .weight_decay = o.weight_decay,
                           .decoupled_decay = 1.0 - lr * o.weight_decay,
                           .decoupled = decoupled_};
  adam_update_(param, grad, state.buffers[0], state.buffers[1], max_sq, c);
}

}  // namespace tg::optim
