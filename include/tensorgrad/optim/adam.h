#pragma once
// Adam (L2 weight decay added to the gradient) and AdamW (decoupled weight decay), with torch.optim's
// exact algorithms (maximize = false), t = the parameter's step count starting at 1:
//   Adam:  g = grad + weight_decay * p          AdamW:  p = p * (1 - lr * weight_decay);  g = grad
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g^2
//   amsgrad: v_max = max(v_max, v), and v_max replaces v below
//   p = p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// State: "exp_avg" (m), "exp_avg_sq" (v) and, with amsgrad, "max_exp_avg_sq" (v_max), all starting at 0.
#include <vector>

#include <tensorgrad/optim/optimizer.h>

namespace tg::optim {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;  // L2: added to the gradient
  bool amsgrad = false;
  bool master_weights = false;  // 16-bit parameters updated through float32 copies (optimizer.h)
};

struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;  // decoupled: p *= 1 - lr * weight_decay before the Adam step
  bool amsgrad = false;
  bool master_weights = false;  // 16-bit parameters updated through float32 copies (optimizer.h)
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, AdamOptions options);
  explicit Adam(std::vector<Tensor> params, double lr = 1e-3, std::pair<double, double> betas = {0.9, 0.999},
                double eps = 1e-8, double weight_decay = 0.0, bool amsgrad = false);

  AdamOptions options() const;  // lr included (the current one)
  HyperParams hyperparameters() const override;

 protected:
  Adam(const char* name, bool decoupled, std::vector<Tensor> params, const AdamOptions& options);
  void update(Tensor& param, const Tensor& grad, ParamState& state) override;
  std::vector<std::string> check_hyperparameters(const HyperParams& h) const override;
  void apply_hyperparameters(const HyperParams& h) override;

 private:
  bool decoupled_;        // AdamW
  AdamOptions options_;   // options_.lr is unused: the base class owns the learning rate
};

class AdamW : public Adam {
 public:
  AdamW(std::vector<Tensor> params, AdamWOptions options);
  explicit AdamW(std::vector<Tensor> params, double lr = 1e-3, std::pair<double, double> betas = {0.9, 0.999},
                 double eps = 1e-8, double weight_decay = 1e-2, bool amsgrad = false);

  AdamWOptions options() const;
};

}  // namespace tg::optim
