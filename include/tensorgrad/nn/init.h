#pragma once
// Weight initialisers (torch.nn.init), in place and seeded: each draws from the given generator, so the
// same seed gives the same model on any machine and thread count.
#include <tensorgrad/core/random.h>
#include <tensorgrad/core/tensor.h>

namespace tg::nn::init {

// fan_in = size(1) * receptive field, fan_out = size(0) * receptive field (receptive = prod of dims >= 2).
struct Fans {
  int64_t in, out;
};
Fans fans(const Tensor& weight);

enum class FanMode { In, Out };

// U(-bound, bound) and N(mean, std), in place under no-grad.
void uniform_(Tensor& t, double low, double high, Generator& gen = default_generator());
void normal_(Tensor& t, double mean, double std, Generator& gen = default_generator());

// He et al.: gain = sqrt(2 / (1 + a^2)) (a is the leaky-ReLU slope; 0 for ReLU);
// uniform bound = gain * sqrt(3 / fan), normal std = gain / sqrt(fan).
void kaiming_uniform_(Tensor& t, Generator& gen = default_generator(), double a = 0, FanMode mode = FanMode::In);
void kaiming_normal_(Tensor& t, Generator& gen = default_generator(), double a = 0, FanMode mode = FanMode::In);
// Glorot and Bengio: uniform bound = gain * sqrt(6 / (fan_in + fan_out)), normal std = gain * sqrt(2 / (fan_in + fan_out)).
void xavier_uniform_(Tensor& t, Generator& gen = default_generator(), double gain = 1);
void xavier_normal_(Tensor& t, Generator& gen = default_generator(), double gain = 1);

}  // namespace tg::nn::init
