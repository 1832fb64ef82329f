#pragma once
// Pooling layers over tg::max_pool2d / tg::avg_pool2d. Stride defaults to the kernel size.
#include <tensorgrad/nn/module.h>
#include <tensorgrad/ops/conv.h>

namespace tg::nn {

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(SpatialArg kernel_size, SpatialArg stride = {}, SpatialArg padding = 0, SpatialArg dilation = 1)
      : Module("MaxPool2d"), kernel_(kernel_size), stride_(stride), padding_(padding), dilation_(dilation) {}
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

 private:
  SpatialArg kernel_, stride_, padding_, dilation_;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(SpatialArg kernel_size, SpatialArg stride = {}, SpatialArg padding = 0,
                     bool count_include_pad = true)
      : Module("AvgPool2d"), kernel_(kernel_size), stride_(stride), padding_(padding), count_include_pad_(count_include_pad) {}
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

 private:
  SpatialArg kernel_, stride_, padding_;
  bool count_include_pad_;
};

}  // namespace tg::nn
