#pragma once
// Tensor-parallel Linear (Megatron-LM's column and row split) and the differentiable collectives it needs.
//
// Column split: rank r holds rows [r * out / N, (r + 1) * out / N) of the weight [out, in] (and of the bias); the
// input is replicated; the output is this rank's slice of the features. Backward all-reduces the input gradient.
// Row split: rank r holds columns [r * in / N, ...) of the weight; the input is this rank's slice of the input
// features (e.g. a column-split layer's output); the partial products are all-reduced (sum) and the bias, kept
// whole on every rank, is added once. Column followed by row (with any elementwise op between) needs one
// all-reduce forward and one backward, the Megatron MLP block.
#include <memory>

#include <tensorgrad/dist/communicator.h>

namespace tg::dist {

// Identity forward; the gradient is all-reduced (sum) backward. Marks where a replicated tensor enters
// rank-local computation.
Tensor copy_to_tensor_parallel(const Tensor& x, Communicator& comm);
// All-reduce (sum) forward; identity backward.
Tensor reduce_from_tensor_parallel(const Tensor& x, Communicator& comm);

// This rank's block of `full` along `dim` (size divisible by the world size), as a new contiguous tensor.
Tensor shard(const Tensor& full, int64_t dim, const Communicator& comm);

// y_r = x W_r^T + b_r with W_r = rows of the weight: returns this rank's slice [..., out / N] of the output.
Tensor column_parallel_linear(const Tensor& x, const Tensor& weight_shard, const Tensor& bias_shard, Communicator& comm);
// y = sum_r x_r W_r^T + b with W_r = columns of the weight and x_r this rank's slice of the input features.
Tensor row_parallel_linear(const Tensor& x_shard, const Tensor& weight_shard, const Tensor& bias, Communicator& comm);

}  // namespace tg::dist
