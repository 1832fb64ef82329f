#pragma once
// Zero-order SGD: gradient descent driven by a zero-order gradient estimate (tg::zo_gradient) of a loss
// closure instead of backward. The parameters are perturbed in place (and restored) to evaluate the loss;
// the estimate lands in each parameter's .grad(), then p = p - lr * g.
// Hyperparameters: "lr", "smoothing" (mu), "directions" (q), "estimator" (0 Gaussian, 1 Sphere, 2 Coordinate).
// The direction generator is the optimizer's own, seeded by ZOSGDOptions::seed (not part of state_dict).
#include <functional>
#include <vector>

#include <tensorgrad/autograd/zero_order.h>
#include <tensorgrad/optim/optimizer.h>

namespace tg::optim {

struct ZOSGDOptions {
  double lr = 1e-2;
  ZoOptions zo = {};
  uint64_t seed = 0;
};

class ZOSGD : public Optimizer {
 public:
  ZOSGD(std::vector<Tensor> params, ZOSGDOptions options);

  // One update from an estimate of d loss() / d params; loss() must read the parameters' current values.
  void step(const std::function<Tensor()>& loss);
  // Loss evaluations spent so far (2q or 2d per step).
  int64_t evaluations() const { return evaluations_; }

  HyperParams hyperparameters() const override;

 protected:
  void update(Tensor& param, const Tensor& grad, ParamState& state) override;
  std::vector<std::string> check_hyperparameters(const HyperParams& h) const override;
  void apply_hyperparameters(const HyperParams& h) override;

 private:
  ZOSGDOptions options_;
  Generator gen_;
  int64_t evaluations_ = 0;
};

}  // namespace tg::optim
