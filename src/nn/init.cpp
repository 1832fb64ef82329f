#include <tensorgrad/base/error.h>
#include <tensorgrad/core/graph.h>
#include <tensorgrad/nn/init.h>
#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/elementwise.h>

#include <cmath>

namespace tg::nn::init {

namespace {

int64_t fan(const Tensor& t, FanMode mode, const char* op) {
  const Fans f = fans(t);
  const int64_t n = mode == FanMode::In ? f.in : f.out;
  TG_CHECK(n > 0, "nn::init::", op, ": fan is 0 for a tensor of shape ", t.shape());
  return n;
}

}  // namespace

Fans fans(const Tensor& weight) {
  TG_CHECK(weight.dim() >= 2, "nn::init: fan_in and fan_out need a tensor of at least 2 dimensions, got shape ",
           weight.shape());
  int64_t receptive = 1;
  for (int64_t d = 2; d < weight.dim(); ++d) receptive *= weight.size(d);
  return {weight.size(1) * receptive, weight.size(0) * receptive};
}

void uniform_(Tensor& t, double low, double high, Generator& gen) {
  TG_CHECK(low <= high, "nn::init::uniform_: low ", low, " > high ", high);
  NoGradGuard no_grad;
  t.copy_(rand(t.shape(), t.dtype(), gen) * (high - low) + low);
}

void normal_(Tensor& t, double mean, double std, Generator& gen) {
  TG_CHECK(std >= 0, "nn::init::normal_: negative std ", std);
  NoGradGuard no_grad;
  t.copy_(randn(t.shape(), t.dtype(), gen) * std + mean);
}

void kaiming_uniform_(Tensor& t, Generator& gen, double a, FanMode mode) {
  const double gain = std::sqrt(2.0 / (1.0 + a * a));
  const double bound = gain * std::sqrt(3.0 / static_cast<double>(fan(t, mode, "kaiming_uniform_")));
  uniform_(t, -bound, bound, gen);
}

void kaiming_normal_(Tensor& t, Generator& gen, double a, FanMode mode) {
  const double gain = std::sqrt(2.0 / (1.0 + a * a));
  normal_(t, 0.0, gain / std::sqrt(static_cast<double>(fan(t, mode, "kaiming_normal_"))), gen);
}

void xavier_uniform_(Tensor& t, Generator& gen, double gain) {
  const Fans f = fans(t);
  uniform_(t, -gain * std::sqrt(6.0 / static_cast<double>(f.in + f.out)),
           gain * std::sqrt(6.0 / static_cast<double>(f.in + f.out)), gen);
}

void xavier_normal_(Tensor& t, Generator& gen, double gain) {
  const Fans f = fans(t);
  normal_(t, 0.0, gain * std::sqrt(2.0 / static_cast<double>(f.in + f.out)), gen);
}

}  // namespace tg::nn::init
