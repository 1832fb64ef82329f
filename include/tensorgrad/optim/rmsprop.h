#pragma once
// RMSprop with torch.optim.RMSprop's exact algorithm (maximize = false):
//   g = grad + weight_decay * p
//   v = alpha * v + (1 - alpha) * g^2
//   centered: g_avg = alpha * g_avg + (1 - alpha) * g;  avg = sqrt(v - g_avg^2) + eps
//   else:     avg = sqrt(v) + eps
//   momentum > 0: buf = momentum * buf + g / avg;  p = p - lr * buf
//   else:         p = p - lr * g / avg
// State: "square_avg" (v), "momentum_buffer" (when momentum > 0), "grad_avg" (when centered), all
// starting at 0.
#include <vector>

#include <tensorgrad/optim/optimizer.h>

namespace tg::optim {

struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double momentum = 0.0;
  bool centered = false;
  bool master_weights = false;  // 16-bit parameters updated through float32 copies (optimizer.h)
};

class RMSprop : public Optimizer {
 public:
  RMSprop(std::vector<Tensor> params, RMSpropOptions options);
  explicit RMSprop(std::vector<Tensor> params, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8,
                   double weight_decay = 0.0, double momentum = 0.0, bool centered = false);

  RMSpropOptions options() const;  // lr included (the current one)
  HyperParams hyperparameters() const override;

 protected:
  void update(Tensor& param, const Tensor& grad, ParamState& state) override;
  std::vector<std::string> check_hyperparameters(const HyperParams& h) const override;
  void apply_hyperparameters(const HyperParams& h) override;

 private:
  RMSpropOptions options_;  // options_.lr is unused: the base class owns the learning rate
};

}  // namespace tg::optim
