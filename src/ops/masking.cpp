// masked_fill, tril / triu, clamp, any / all (see masking.h).
#include <tensorgrad/ops/masking.h>

#include <tensorgrad/core/graph.h>
#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/view.h>

#include "profiling.h"

namespace tg {

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  TG_PROFILE_OP("masked_fill", x);
  TG_CHECK(x.defined() && mask.defined(), "tg::masked_fill: undefined input");
  TG_CHECK(mask.dtype() == DType::Bool, "tg::masked_fill: the mask must be bool, got ", dtype_name(mask.dtype()),
           " (compare first, e.g. lengths < t)");
  const Shape out = broadcast_shapes(x.shape(), mask.shape(), "tg::masked_fill");
  TG_CHECK(out == x.shape(), "tg::masked_fill: mask of shape ", mask.shape(), " does not broadcast to the input's ",
           x.shape());
  return where(mask, full({}, value, x.dtype(), x.device()), x);
}

namespace {
// keep[i, j] over the last two dims of x: j - i <= diagonal (lower) or >= diagonal (upper).
Tensor triangle(const Tensor& x, int64_t diagonal, bool lower, const char* op) {
  TG_CHECK(x.defined() && x.dim() >= 2, op, ": expected at least 2 dimensions, got shape ",
           x.defined() ? detail::concat(x.shape()) : std::string("(undefined)"));
  const int64_t rows = x.size(-2), cols = x.size(-1);
  const Tensor i = unsqueeze(arange(rows, x.device()), 1), j = unsqueeze(arange(cols, x.device()), 0);
  const Tensor offset = j - i;  // [rows, cols], int64
  const Tensor keep = lower ? le(offset, diagonal) : ge(offset, diagonal);
  return where(keep, x, full({}, 0.0, x.dtype(), x.device()));
}
}  // namespace

Tensor tril(const Tensor& x, int64_t diagonal) {
  TG_PROFILE_OP("tril", x);
  return triangle(x, diagonal, true, "tg::tril");
}

Tensor triu(const Tensor& x, int64_t diagonal) {
  TG_PROFILE_OP("triu", x);
  return triangle(x, diagonal, false, "tg::triu");
}

Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max) {
  TG_PROFILE_OP("clamp", x);
  TG_CHECK(x.defined(), "tg::clamp: the input is undefined");
  TG_CHECK(min || max, "tg::clamp: give at least one of min and max");
  TG_CHECK(x.dtype() != DType::Bool, "tg::clamp: bool input is not supported");
  Tensor y = x;
  // where, not maximum/minimum: the gradient is 1 on the bound itself (torch's rule), never split.
  if (min) y = where(lt(y, *min), full({}, *min, x.dtype(), x.device()), y);
  if (max) y = where(gt(y, *max), full({}, *max, x.dtype(), x.device()), y);
  return y;
}

Tensor clamp(const Tensor& x, const Tensor& min, const Tensor& max) {
  TG_PROFILE_OP("clamp", x);
  TG_CHECK(x.defined(), "tg::clamp: the input is undefined");
  TG_CHECK(min.defined() || max.defined(), "tg::clamp: give at least one of min and max");
  Tensor y = x;
  if (min.defined()) y = where(lt(y, min), min, y);
  if (max.defined()) y = where(gt(y, max), max, y);
  return y;
}

Tensor any(const Tensor& x, const Dims& dims, bool keepdim) {
  TG_PROFILE_OP("any", x);
  TG_CHECK(x.defined(), "tg::any: the input is undefined");
  NoGradGuard no_grad;
  return gt(sum(ne(x.detach(), 0), dims, keepdim), 0);
}

Tensor all(const Tensor& x, const Dims& dims, bool keepdim) {
  TG_PROFILE_OP("all", x);
  TG_CHECK(x.defined(), "tg::all: the input is undefined");
  NoGradGuard no_grad;
  return eq(sum(eq(x.detach(), 0), dims, keepdim), 0);
}

}  // namespace tg
