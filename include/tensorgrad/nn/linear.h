#pragma once
#include <tensorgrad/core/random.h>
#include <tensorgrad/nn/module.h>

namespace tg::nn {

struct LinearOptions {
  bool bias = true;
  DType dtype = DType::Float32;
};

// y = x W^T + b, W [out, in]. Initialised as PyTorch does: W and b ~ U(-1/sqrt(in), 1/sqrt(in)).
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, LinearOptions options = {}, Generator& gen = default_generator());
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

  Tensor weight, bias;  // bias is undefined when options.bias is false

 private:
  int64_t in_features_, out_features_;
};

}  // namespace tg::nn
