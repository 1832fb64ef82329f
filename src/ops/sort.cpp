// sort, argsort and topk (see sort.h).
#include <tensorgrad/ops/sort.h>

#include <tensorgrad/core/graph.h>
#include <tensorgrad/kernels/kernels.h>
#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/movement.h>

#include "profiling.h"
#include "record.h"

namespace tg {

namespace {

// The indices of the first k of each row along d (0-d inputs are one row of one).
Tensor sorted_indices(const Tensor& x, int64_t d, int64_t k, bool descending) {
  Shape out_shape = x.shape();
  out_shape[static_cast<size_t>(d)] = k;
  Tensor values = Tensor::empty(out_shape, x.dtype(), x.device());
  Tensor indices = Tensor::empty(out_shape, DType::Int64, x.device());
  kernels::sort(x.shape(), d, k, descending, ops::arg(values), ops::arg(indices), ops::arg(x));
  return indices;
}

SortResult sort_impl(const char* op, const Tensor& x, int64_t k, int64_t dim, bool descending) {
  TG_CHECK(x.defined(), op, ": the input is undefined");
  TG_CHECK(x.dtype() != DType::Bool, op, ": bool input is not supported; cast it first");
  if (x.dim() == 0) {
    TG_CHECK(k <= 1, op, ": k = ", k, " is larger than the 1 element of a 0-d input");
    return {x, zeros({}, DType::Int64, x.device())};
  }
  const int64_t d = wrap_dim(dim, x.dim(), op);
  const int64_t n = x.size(d);
  if (k < 0) k = n;
  TG_CHECK(k <= n, op, ": k = ", k, " is larger than dim ", dim, " of input ", x.shape(), " (", n, ")");
  Tensor indices;
  {
    NoGradGuard no_grad;
    indices = sorted_indices(x.detach(), d, k, descending);
  }
  return {gather(x, d, indices), indices};
}

}  // namespace

SortResult sort(const Tensor& x, int64_t dim, bool descending) {
  TG_PROFILE_OP("sort", x);
  return sort_impl("tg::sort", x, -1, dim, descending);
}

Tensor argsort(const Tensor& x, int64_t dim, bool descending) {
  TG_PROFILE_OP("argsort", x);
  return sort_impl("tg::argsort", x, -1, dim, descending).indices;
}

SortResult topk(const Tensor& x, int64_t k, int64_t dim, bool largest) {
  TG_PROFILE_OP("topk", x);
  TG_CHECK(k >= 0, "tg::topk: k must be >= 0, got ", k);
  return sort_impl("tg::topk", x, k, dim, largest);
}

}  // namespace tg
