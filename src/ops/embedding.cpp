// Embedding lookup: rows of a [V, D] table picked by int64 indices of any shape. Built on index_select, whose
// VJP scatter-adds the upstream gradient into the picked rows (and is itself differentiable).
#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/embedding.h>
#include <tensorgrad/ops/reduce.h>
#include <tensorgrad/ops/movement.h>
#include <tensorgrad/ops/view.h>

#include "profiling.h"
#include "record.h"

namespace tg {

namespace {

// Row-major multi-index of flat position `flat` in `shape`.
std::vector<int64_t> position_of(int64_t flat, const Shape& shape) {
  std::vector<int64_t> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return index;
}

}  // namespace

Tensor embedding(const Tensor& weight, const Tensor& indices) {
  TG_PROFILE_OP("embedding", weight, indices);
  const char* op = "tg::embedding";
  TG_CHECK(weight.defined() && indices.defined(), op, ": weight and indices must be defined");
  TG_CHECK(indices.dtype() == DType::Int64, op, ": indices must be int64, got ", dtype_name(indices.dtype()),
           " (shape ", indices.shape(), "); the call is embedding(weight, indices)");
  TG_CHECK(weight.dim() == 2, op, ": weight must be 2-D [V, D], got shape ", weight.shape());
  ops::check_same_device(op, weight, indices);
  const int64_t rows = weight.size(0);
  if (const int64_t i = ops::first_out_of_range(indices, 0, rows); i >= 0) {
    TG_FAIL(op, ": index ", reshape(indices, {-1}).slice(0, i, i + 1).item<int64_t>(), " at position ",
            position_of(i, indices.shape()), " of indices ", indices.shape(), " is out of range for ", rows,
            " rows (weight ", weight.shape(), "); indices must be in [0, ", rows, ")");
  }
  Shape out_shape = indices.shape();
  out_shape.push_back(weight.size(1));
  return reshape(index_select(weight, 0, reshape(indices, {-1})), out_shape);
}

}  // namespace tg
