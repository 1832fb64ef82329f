#pragma once
// The reference models, the same as the PyTorch baseline they are compared with (bench/).
#include <memory>
#include <string>

#include <tensorgrad/core/random.h>
#include <tensorgrad/nn/container.h>

namespace tg::train {

// mlp: flatten, 784-512-256-10 with ReLU.
// cnn: conv 1->32 3x3 pad 1, ReLU, maxpool 2, conv 32->64 3x3 pad 1, ReLU, maxpool 2, flatten,
//      linear 3136->128, ReLU, linear 128->10.
// Throws tg::Error for another name. Layers are built in order from `gen`, so a seed fixes the model.
std::shared_ptr<nn::Sequential> make_model(const std::string& name, Generator& gen);

}  // namespace tg::train
