#pragma once
// Inverted dropout (torch.nn.functional.dropout).
#include <tensorgrad/core/random.h>
#include <tensorgrad/core/tensor.h>

namespace tg {

// Zeroes each element with probability p and scales the kept ones: out = x / (1 - p) where kept, else 0.
// The mask comes from `gen` (Philox): element i (row-major) is kept when the uniform float built from draw i
// of the generator's next ceil(numel / 4) blocks is >= p, so the mask depends only on the seed and the
// generator's offset, never on the thread count. Returns x itself (drawing nothing) when !training or p == 0;
// p == 1 gives zeros (drawing nothing). p must be in [0, 1]. The gradient is upstream / (1 - p) where kept.
Tensor dropout(const Tensor& x, double p = 0.5, bool training = true, Generator& gen = default_generator());

}  // namespace tg
