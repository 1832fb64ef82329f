// flip, repeat and cumsum (see rearrange.h).
#include <tensorgrad/ops/rearrange.h>

#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/linalg.h>
#include <tensorgrad/ops/masking.h>
#include <tensorgrad/ops/movement.h>
#include <tensorgrad/ops/view.h>

#include "profiling.h"

namespace tg {

Tensor flip(const Tensor& x, const std::vector<int64_t>& dims) {
  TG_PROFILE_OP("flip", x);
  TG_CHECK(x.defined(), "tg::flip: the input is undefined");
  std::vector<bool> seen(static_cast<size_t>(x.dim()), false);
  Tensor y = x;
  for (int64_t dim : dims) {
    const int64_t d = wrap_dim(dim, x.dim(), "tg::flip");
    TG_CHECK(!seen[static_cast<size_t>(d)], "tg::flip: dim ", dim, " appears twice in ", detail::concat(dims));
    seen[static_cast<size_t>(d)] = true;
    const int64_t n = x.size(d);
    if (n > 1) y = index_select(y, d, arange(static_cast<double>(n - 1), -1.0, -1.0, DType::Int64, x.device()));
  }
  return y.impl_ptr() == x.impl_ptr() ? clone(x) : y;  // no dim longer than 1: still a copy
}

Tensor repeat(const Tensor& x, const std::vector<int64_t>& repeats) {
  TG_PROFILE_OP("repeat", x);
  TG_CHECK(x.defined(), "tg::repeat: the input is undefined");
  const auto rank = static_cast<int64_t>(repeats.size());
  TG_CHECK(rank >= x.dim(), "tg::repeat: ", rank, " repeats for an input of rank ", x.dim(), " (shape ", x.shape(),
           "); give at least one per dim");
  for (int64_t r : repeats) TG_CHECK(r >= 0, "tg::repeat: repeats must be >= 0, got ", detail::concat(repeats));
  // [s0, s1, ...] -> [1, s0, 1, s1, ...] -> expand to [r0, s0, r1, s1, ...] -> [r0 s0, r1 s1, ...].
  Shape padded(static_cast<size_t>(rank - x.dim()), 1);
  padded.insert(padded.end(), x.shape().begin(), x.shape().end());
  Shape interleaved, expanded, out;
  for (size_t d = 0; d < padded.size(); ++d) {
    interleaved.insert(interleaved.end(), {1, padded[d]});
    expanded.insert(expanded.end(), {repeats[d], padded[d]});
    out.push_back(repeats[d] * padded[d]);
  }
  return reshape(expand(reshape(x, interleaved), expanded), out);
}

namespace {
constexpr int64_t kScanBlock = 256;

// Running sums along the last dim of a floating x.
Tensor cumsum_last(const Tensor& x) {
  const int64_t n = x.size(-1);
  if (n <= kScanBlock) {
    // out = x @ U with U[i, j] = 1 for i <= j.
    return matmul(x, triu(ones({n, n}, x.dtype(), x.device())));
  }
  const int64_t blocks = (n + kScanBlock - 1) / kScanBlock;
  const Tensor padded = pad(x, {0, blocks * kScanBlock - n});
  Shape shape = x.shape();
  shape.back() = blocks;
  shape.push_back(kScanBlock);
  const Tensor inner = cumsum_last(reshape(padded, shape));          // [..., blocks, B]
  const Tensor totals = select(inner, -1, kScanBlock - 1);           // [..., blocks]
  const Tensor before = unsqueeze(cumsum_last(totals) - totals, -1);  // sums of the earlier blocks
  Shape flat = x.shape();
  flat.back() = blocks * kScanBlock;
  return narrow(reshape(inner + before, flat), -1, 0, n);
}
}  // namespace

Tensor cumsum(const Tensor& x, int64_t dim) {
  TG_PROFILE_OP("cumsum", x);
  TG_CHECK(x.defined(), "tg::cumsum: the input is undefined");
  if (x.dim() == 0) return clone(x);
  const int64_t d = wrap_dim(dim, x.dim(), "tg::cumsum");
  if (!is_floating(x.dtype())) return to(cumsum(to(x, DType::Float64), d), DType::Int64);
  if (x.size(d) == 0) return clone(x);
  const int64_t last = x.dim() - 1;
  return transpose(cumsum_last(transpose(x, d, last)), d, last);
}

}  // namespace tg
