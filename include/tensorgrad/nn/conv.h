#pragma once
// Conv1d and Conv2d layers over tg::conv1d / tg::conv2d (im2col + GEMM). Initialised as PyTorch does:
// weight kaiming_uniform(a = sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and bias from the same range,
// with fan_in = in_channels / groups * prod(kernel_size).
#include <tensorgrad/core/random.h>
#include <tensorgrad/nn/module.h>
#include <tensorgrad/ops/conv.h>

namespace tg::nn {

struct ConvOptions {
  SpatialArg stride = 1;
  SpatialArg padding = 0;
  SpatialArg dilation = 1;
  int64_t groups = 1;
  bool bias = true;
  DType dtype = DType::Float32;
};

class Conv1d : public Module {
 public:
  Conv1d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, ConvOptions options = {},
         Generator& gen = default_generator());
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  Tensor weight, bias;

 private:
  int64_t in_channels_, out_channels_;
  ConvOptions options_;
};

class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, SpatialArg kernel_size, ConvOptions options = {},
         Generator& gen = default_generator());
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  Tensor weight, bias;

 private:
  int64_t in_channels_, out_channels_;
  ConvOptions options_;
};

}  // namespace tg::nn
