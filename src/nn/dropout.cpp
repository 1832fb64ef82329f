#include <tensorgrad/base/error.h>
#include <tensorgrad/nn/dropout.h>
#include <tensorgrad/nn/init.h>
#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/dropout.h>
#include <tensorgrad/ops/embedding.h>

namespace tg::nn {

Dropout::Dropout(double p, Generator& gen) : Module("Dropout"), p_(p), gen_(&gen) {
  TG_CHECK(p >= 0 && p <= 1, "nn::Dropout: p must be in [0, 1], got ", p);
}

Tensor Dropout::forward(const Tensor& input) { return dropout(input, p_, is_training(), *gen_); }

std::string Dropout::extra_repr() const { return detail::concat("p=", p_); }

Embedding::Embedding(int64_t num_embeddings, int64_t embedding_dim, DType dtype, Generator& gen) : Module("Embedding") {
  TG_CHECK(num_embeddings > 0 && embedding_dim > 0, "nn::Embedding: sizes must be positive, got num_embeddings=",
           num_embeddings, ", embedding_dim=", embedding_dim);
  weight = register_parameter("weight", empty({num_embeddings, embedding_dim}, dtype));
  init::normal_(weight, 0.0, 1.0, gen);
}

Tensor Embedding::forward(const Tensor& indices) { return embedding(weight, indices); }

std::string Embedding::extra_repr() const { return detail::concat(weight.size(0), ", ", weight.size(1)); }

}  // namespace tg::nn
