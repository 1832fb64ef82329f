#pragma once
// Activation layers: stateless modules around the elementwise ops.
#include <tensorgrad/nn/module.h>

namespace tg::nn {

#define TG_ACTIVATION(Name)                          \
  class Name : public Module {                       \
   public:                                           \
    Name() : Module(#Name) {}                        \
    Tensor forward(const Tensor& input) override;    \
  };
TG_ACTIVATION(ReLU)
TG_ACTIVATION(GELU)
TG_ACTIVATION(SiLU)
TG_ACTIVATION(Tanh)
TG_ACTIVATION(Sigmoid)
#undef TG_ACTIVATION

}  // namespace tg::nn
