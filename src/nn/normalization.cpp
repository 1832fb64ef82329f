#include <tensorgrad/base/error.h>
#include <tensorgrad/core/graph.h>
#include <tensorgrad/nn/normalization.h>
#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/normalization.h>

namespace tg::nn {

BatchNorm::BatchNorm(const char* type_name, int64_t spatial_dims, int64_t num_features, BatchNormOptions options)
    : Module(type_name), spatial_dims_(spatial_dims), num_features_(num_features), options_(options) {
  TG_CHECK(num_features > 0, "nn::", type_name, ": num_features must be positive, got ", num_features);
  if (options.affine) {
    weight = register_parameter("weight", ones({num_features}, options.dtype));
    bias = register_parameter("bias", zeros({num_features}, options.dtype));
  }
  if (options.track_running_stats) {
    running_mean = register_buffer("running_mean", zeros({num_features}, options.dtype));
    running_var = register_buffer("running_var", ones({num_features}, options.dtype));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, DType::Int64));
  }
}

Tensor BatchNorm::forward(const Tensor& input) {
  const bool ok = spatial_dims_ == 1 ? (input.dim() == 2 || input.dim() == 3) : input.dim() == 4;
  TG_CHECK(ok, "nn::", type_name(), ": expected ", spatial_dims_ == 1 ? "[N, C] or [N, C, L]" : "[N, C, H, W]",
           " input, got ", input.shape());
  TG_CHECK(input.size(1) == num_features_, "nn::", type_name(), ": input ", input.shape(), " has ", input.size(1),
           " channels, expected ", num_features_);
  // Without running statistics, batch statistics are used in eval mode too (as PyTorch).
  const bool use_batch_stats = is_training() || !options_.track_running_stats;
  if (is_training() && options_.track_running_stats) {
    NoGradGuard no_grad;
    num_batches_tracked.add_(ones({}, DType::Int64));
  }
  return batch_norm(input, running_mean, running_var, weight, bias, use_batch_stats, options_.momentum, options_.eps);
}

std::string BatchNorm::extra_repr() const {
  return detail::concat(num_features_, ", eps=", options_.eps, ", momentum=", options_.momentum,
                        ", affine=", options_.affine ? "true" : "false",
                        ", track_running_stats=", options_.track_running_stats ? "true" : "false");
}

LayerNorm::LayerNorm(Shape normalized_shape, LayerNormOptions options)
    : Module("LayerNorm"), normalized_shape_(std::move(normalized_shape)), options_(options) {
  TG_CHECK(!normalized_shape_.empty(), "nn::LayerNorm: normalized_shape must not be empty");
  for (int64_t d : normalized_shape_)
    TG_CHECK(d > 0, "nn::LayerNorm: normalized_shape must be positive, got ", normalized_shape_);
  if (options.elementwise_affine) {
    weight = register_parameter("weight", ones(normalized_shape_, options.dtype));
    bias = register_parameter("bias", zeros(normalized_shape_, options.dtype));
  }
}

Tensor LayerNorm::forward(const Tensor& input) {
  return layer_norm(input, normalized_shape_, weight, bias, options_.eps);
}

std::string LayerNorm::extra_repr() const {
  return detail::concat(normalized_shape_, ", eps=", options_.eps,
                        ", elementwise_affine=", options_.elementwise_affine ? "true" : "false");
}

}  // namespace tg::nn
