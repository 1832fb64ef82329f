#pragma once
// Dropout (identity in eval mode) and Embedding (a lookup table of learnable rows).
#include <tensorgrad/core/random.h>
#include <tensorgrad/nn/module.h>

namespace tg::nn {

// Draws its masks from `gen` (default: tg::default_generator()); the generator must outlive the layer.
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5, Generator& gen = default_generator());
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

 private:
  double p_;
  Generator* gen_;
};

// weight [num_embeddings, embedding_dim] ~ N(0, 1), as PyTorch.
class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t embedding_dim, DType dtype = DType::Float32,
            Generator& gen = default_generator());
  Tensor forward(const Tensor& indices) override;
  std::string extra_repr() const override;
  Tensor weight;
};

}  // namespace tg::nn
