#pragma once
// Ops that move data between tensors: joining, padding and indexing.
#include <vector>

#include <tensorgrad/core/tensor.h>

namespace tg {

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
// Constant padding; `pads` lists (before, after) pairs starting from the LAST dimension, as torch.nn.functional.pad.
Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, double value = 0.0);
// Rows (along `dim`) picked by a 1-D int64 index.
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
// out[i][j] = x[i][index[i][j]] for dim 1 (and likewise for any dim); index has x's rank.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
// out = self; out[i][index[i][j]] += src[i][j] for dim 1; src has index's shape.
Tensor scatter_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
// int64 labels -> int64 one-hot along a new last dimension; num_classes = -1 infers max + 1.
Tensor one_hot(const Tensor& labels, int64_t num_classes = -1);

}  // namespace tg
