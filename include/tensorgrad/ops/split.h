#pragma once
// Cutting a tensor into views along one dim (torch.split / chunk / unbind). Every piece is a view (narrow /
// select), so gradients flow back into the one input.
#include <vector>

#include <tensorgrad/core/tensor.h>

namespace tg {

// Pieces of split_size along dim (the last one smaller when split_size does not divide the size).
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim = 0);
// Pieces of the given sizes, which must add up to the size of dim.
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim = 0);
// `chunks` pieces at most, each ceil(size / chunks) long but the last (torch.chunk: fewer when they run out).
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim = 0);
// Every index along dim, that dim removed.
std::vector<Tensor> unbind(const Tensor& x, int64_t dim = 0);

}  // namespace tg
