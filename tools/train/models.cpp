#include "models.h"

#include <tensorgrad/base/error.h>
#include <tensorgrad/nn/nn.h>

namespace tg::train {

std::shared_ptr<nn::Sequential> make_model(const std::string& name, Generator& gen) {
  using namespace tg::nn;
  auto model = std::make_shared<Sequential>();
  // One statement per layer: the draws from `gen` happen in this order on every compiler.
  if (name == "mlp") {
    model->push_back(std::make_shared<Flatten>());
    model->push_back(std::make_shared<Linear>(784, 512, LinearOptions{}, gen));
    model->push_back(std::make_shared<ReLU>());
    model->push_back(std::make_shared<Linear>(512, 256, LinearOptions{}, gen));
    model->push_back(std::make_shared<ReLU>());
    model->push_back(std::make_shared<Linear>(256, 10, LinearOptions{}, gen));
  } else if (name == "cnn") {
    model->push_back(std::make_shared<Conv2d>(1, 32, 3, ConvOptions{.padding = 1}, gen));
    model->push_back(std::make_shared<ReLU>());
    model->push_back(std::make_shared<MaxPool2d>(2));
    model->push_back(std::make_shared<Conv2d>(32, 64, 3, ConvOptions{.padding = 1}, gen));
    model->push_back(std::make_shared<ReLU>());
    model->push_back(std::make_shared<MaxPool2d>(2));
    model->push_back(std::make_shared<Flatten>());
    model->push_back(std::make_shared<Linear>(3136, 128, LinearOptions{}, gen));
    model->push_back(std::make_shared<ReLU>());
    model->push_back(std::make_shared<Linear>(128, 10, LinearOptions{}, gen));
  } else {
    TG_FAIL("unknown model \"", name, "\" (expected mlp or cnn)");
  }
  return model;
}

}  // namespace tg::train
