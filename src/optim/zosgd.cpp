#include <tensorgrad/optim/zosgd.h>

#include <cmath>

#include <tensorgrad/core/graph.h>
#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/movement.h>
#include <tensorgrad/ops/view.h>

namespace tg::optim {

ZOSGD::ZOSGD(std::vector<Tensor> params, ZOSGDOptions options)
    : Optimizer("ZOSGD", std::move(params), options.lr), options_(options), gen_(options.seed) {
  check_hyperparameters(hyperparameters());
}

HyperParams ZOSGD::hyperparameters() const {
  return {{"lr", lr()},
          {"smoothing", options_.zo.smoothing},
          {"directions", static_cast<double>(options_.zo.directions)},
          {"estimator", static_cast<double>(static_cast<int>(options_.zo.estimator))}};
}

std::vector<std::string> ZOSGD::check_hyperparameters(const HyperParams& h) const {
  require(std::isfinite(h.at("lr")) && h.at("lr") >= 0.0, "learning rate", h.at("lr"), "must be finite and >= 0");
  require(std::isfinite(h.at("smoothing")) && h.at("smoothing") > 0.0, "smoothing", h.at("smoothing"),
          "must be finite and > 0");
  const double q = h.at("directions"), e = h.at("estimator");
  require(q >= 1 && q == std::floor(q), "directions", q, "must be a positive integer");
  require(e == 0 || e == 1 || e == 2, "estimator", e, "must be 0 (Gaussian), 1 (Sphere) or 2 (Coordinate)");
  return {};
}

void ZOSGD::apply_hyperparameters(const HyperParams& h) {
  options_.lr = h.at("lr");
  options_.zo.smoothing = h.at("smoothing");
  options_.zo.directions = static_cast<int64_t>(h.at("directions"));
  options_.zo.estimator = static_cast<ZoEstimator>(static_cast<int>(h.at("estimator")));
  set_lr_unchecked(options_.lr);
}

void ZOSGD::step(const std::function<Tensor()>& loss) {
  const std::vector<Tensor>& params = parameters();
  TensorList originals, flat;
  {
    NoGradGuard no_grad;
    for (const auto& p : params) {
      originals.push_back(p.detach().clone());
      flat.push_back(reshape(to(p.detach(), DType::Float64), {-1}));
    }
  }
  const Tensor x = cat(flat, 0);
  // The loss as a function of all parameters flattened into one float64 vector.
  auto f = [&](const Tensor& v) {
    {
      NoGradGuard no_grad;
      int64_t at = 0;
      for (const auto& p : params) {
        Tensor target = p.detach();
        target.copy_(reshape(narrow(v, 0, at, p.numel()), p.shape()));
        at += p.numel();
      }
    }
    ++evaluations_;
    return loss().detach();
  };
  const Tensor g = zo_gradient(f, x, options_.zo, gen_);
  NoGradGuard no_grad;
  int64_t at = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    Tensor target = params[i].detach();
    target.copy_(originals[i]);
    params[i].set_grad(to(reshape(narrow(g, 0, at, params[i].numel()), params[i].shape()), params[i].dtype()).contiguous());
    at += params[i].numel();
  }
  Optimizer::step();
}

void ZOSGD::update(Tensor& param, const Tensor& grad, ParamState&) { param.sub_(grad, lr()); }

}  // namespace tg::optim
