#include <tensorgrad/base/error.h>
#include <tensorgrad/nn/init.h>
#include <tensorgrad/nn/linear.h>
#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/linalg.h>

#include <cmath>

namespace tg::nn {

Linear::Linear(int64_t in_features, int64_t out_features, LinearOptions options, Generator& gen)
    : Module("Linear"), in_features_(in_features), out_features_(out_features) {
  TG_CHECK(in_features > 0 && out_features > 0, "nn::Linear: features must be positive, got in_features=",
           in_features, ", out_features=", out_features);
  const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
  weight = register_parameter("weight", empty({out_features, in_features}, options.dtype));
  init::uniform_(weight, -bound, bound, gen);
  if (options.bias) {
    bias = register_parameter("bias", empty({out_features}, options.dtype));
    init::uniform_(bias, -bound, bound, gen);
  }
}

Tensor Linear::forward(const Tensor& input) { return linear(input, weight, bias); }

std::string Linear::extra_repr() const {
  return detail::concat("in_features=", in_features_, ", out_features=", out_features_,
                        ", bias=", bias.defined() ? "true" : "false");
}

}  // namespace tg::nn
