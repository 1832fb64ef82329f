// split, chunk and unbind as views (see split.h).
#include <tensorgrad/ops/split.h>

#include <numeric>

#include <tensorgrad/ops/view.h>

#include "profiling.h"

namespace tg {

std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim) {
  TG_PROFILE_OP("split", x);
  TG_CHECK(x.defined() && x.dim() > 0, "tg::split: expected a tensor with at least one dimension");
  const int64_t d = wrap_dim(dim, x.dim(), "tg::split");
  const int64_t n = x.size(d);
  TG_CHECK(split_size > 0 || (split_size == 0 && n == 0), "tg::split: split_size must be positive, got ", split_size,
           " for dim ", dim, " of size ", n);
  std::vector<Tensor> out;
  if (n == 0) return {x};
  for (int64_t start = 0; start < n; start += split_size) out.push_back(narrow(x, d, start, std::min(split_size, n - start)));
  return out;
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  TG_PROFILE_OP("split", x);
  TG_CHECK(x.defined() && x.dim() > 0, "tg::split: expected a tensor with at least one dimension");
  const int64_t d = wrap_dim(dim, x.dim(), "tg::split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    TG_CHECK(s >= 0, "tg::split: sizes must be >= 0, got ", detail::concat(sizes));
    total += s;
  }
  TG_CHECK(total == x.size(d), "tg::split: sizes ", detail::concat(sizes), " add up to ", total, ", but dim ", dim,
           " of input ", x.shape(), " has size ", x.size(d));
  std::vector<Tensor> out;
  int64_t start = 0;
  for (int64_t s : sizes) {
    out.push_back(narrow(x, d, start, s));
    start += s;
  }
  return out;
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  TG_CHECK(chunks > 0, "tg::chunk: chunks must be positive, got ", chunks);
  TG_CHECK(x.defined() && x.dim() > 0, "tg::chunk: expected a tensor with at least one dimension");
  const int64_t n = x.size(wrap_dim(dim, x.dim(), "tg::chunk"));
  return split(x, (n + chunks - 1) / chunks, dim);
}

std::vector<Tensor> unbind(const Tensor& x, int64_t dim) {
  TG_PROFILE_OP("unbind", x);
  TG_CHECK(x.defined() && x.dim() > 0, "tg::unbind: expected a tensor with at least one dimension");
  const int64_t d = wrap_dim(dim, x.dim(), "tg::unbind");
  std::vector<Tensor> out;
  for (int64_t i = 0; i < x.size(d); ++i) out.push_back(select(x, d, i));
  return out;
}

}  // namespace tg
