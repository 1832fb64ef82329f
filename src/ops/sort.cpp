// sort, argsort and topk (see sort.h).
#include <tensorgrad/ops/sort.h>

#include <tensorgrad/kernels/kernels.h>
#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/movement.h>

#include "profiling.h"
#include "record.h"

namespace tg {

namespace {

// The first k of each row along d, and their indices, from the sort kernel (no autograd).
SortResult sorted(const Tensor& x, int64_t d, int64_t k, bool descending) {
  Shape out_shape = x.shape();
  out_shape[static_cast<size_t>(d)] = k;
  SortResult r{Tensor::empty(out_shape, x.dtype(), x.device()), Tensor::empty(out_shape, DType::Int64, x.device())};
  kernels::sort(x.shape(), d, k, descending, ops::arg(r.values), ops::arg(r.indices), ops::arg(x));
  return r;
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
  SortResult r = sorted(x.detach(), d, k, descending);
  // Differentiated: the values again, as a gather from x by the indices, which carries the gradient and tangent.
  if (ops::needs_grad({x}) || ops::needs_tangent({x})) r.values = gather(x, d, r.indices);
  return r;
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
