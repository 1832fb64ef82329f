#pragma once
// BatchNorm1d/2d (batch statistics in train mode, running statistics in eval mode) and LayerNorm.
#include <tensorgrad/nn/module.h>

namespace tg::nn {

struct BatchNormOptions {
  double eps = 1e-5;
  double momentum = 0.1;
  bool affine = true;               // learnable weight (ones) and bias (zeros)
  bool track_running_stats = true;  // buffers running_mean (zeros), running_var (ones), num_batches_tracked
  DType dtype = DType::Float32;
};

// One class for both: BatchNorm1d takes [N, C] or [N, C, L], BatchNorm2d takes [N, C, H, W].
class BatchNorm : public Module {
 public:
  BatchNorm(const char* type_name, int64_t spatial_dims, int64_t num_features, BatchNormOptions options);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  Tensor weight, bias, running_mean, running_var, num_batches_tracked;

 private:
  int64_t spatial_dims_, num_features_;
  BatchNormOptions options_;
};

class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(int64_t num_features, BatchNormOptions options = {})
      : BatchNorm("BatchNorm1d", 1, num_features, options) {}
};

class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(int64_t num_features, BatchNormOptions options = {})
      : BatchNorm("BatchNorm2d", 2, num_features, options) {}
};

struct LayerNormOptions {
  double eps = 1e-5;
  bool elementwise_affine = true;  // learnable weight (ones) and bias (zeros) of normalized_shape
  DType dtype = DType::Float32;
};

// Normalises over the last normalized_shape.size() dims.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(Shape normalized_shape, LayerNormOptions options = {});
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  Tensor weight, bias;

 private:
  Shape normalized_shape_;
  LayerNormOptions options_;
};

}  // namespace tg::nn
