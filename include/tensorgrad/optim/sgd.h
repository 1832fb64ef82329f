#pragma once
// Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay, with
// torch.optim.SGD's exact algorithm (maximize = false):
//   g = grad + weight_decay * p
//   momentum != 0:  buf = g on the first step, else buf = momentum * buf + (1 - dampening) * g
//                   g = nesterov ? g + momentum * buf : buf
//   p = p - lr * g
// State: "momentum_buffer" (only when momentum != 0).
#include <vector>

#include <tensorgrad/optim/optimizer.h>

namespace tg::optim {

struct SGDOptions {
  double lr = 1e-3;
  double momentum = 0.0;
  double dampening = 0.0;
  bool nesterov = false;
  double weight_decay = 0.0;
  bool master_weights = false;  // 16-bit parameters updated through float32 copies (optimizer.h)
};

class SGD : public Optimizer {
 public:
  // SGD(model.parameters(), {.lr = 0.1, .momentum = 0.9, .nesterov = true})
  SGD(std::vector<Tensor> params, SGDOptions options);
  SGD(std::vector<Tensor> params, double lr, double momentum = 0.0, double dampening = 0.0,
      bool nesterov = false, double weight_decay = 0.0);

  SGDOptions options() const;  // lr included (the current one)
  HyperParams hyperparameters() const override;

 protected:
  void update(Tensor& param, const Tensor& grad, ParamState& state) override;
  std::vector<std::string> check_hyperparameters(const HyperParams& h) const override;
  void apply_hyperparameters(const HyperParams& h) override;

 private:
  SGDOptions options_;  // options_.lr is unused: the base class owns the learning rate
};

}  // namespace tg::optim
