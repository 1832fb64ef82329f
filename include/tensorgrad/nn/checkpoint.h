#pragma once
// Checkpointed Sequential: split the layers into segments and keep only each segment's input for backward.
#include <tensorgrad/nn/container.h>

namespace tg::nn {

// Runs `model` on `input` in `segments` contiguous groups of layers; every group but the last is a
// tg::checkpoint (its activations are recomputed during backward), the last runs plainly, as PyTorch's
// checkpoint_sequential. With N layers, about sqrt(N) segments minimises the peak. `model` must outlive the
// backward pass.
Tensor checkpoint_sequential(Sequential& model, int64_t segments, const Tensor& input);

}  // namespace tg::nn
