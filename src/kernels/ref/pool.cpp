// Max pooling's one kernel: where each window's maximum is. The values and every gradient then come from
// gather / scatter_add with these positions (as PyTorch's max_pool2d_with_indices), so the forward reads the
// input once and the backward touches one input element per output instead of every window entry.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <vector>

#include <tensorgrad/base/threads.h>

#include "ref_kernels.h"

namespace tg::kernels::ref {

namespace {

constexpr int64_t kGrain = int64_t{1} << 15;  // window elements per thread at least

// Kernel offsets k in [lo, hi) that put output position o inside the input along one axis.
struct Span {
  int64_t lo = 0, hi = 0;
};

std::vector<Span> valid_offsets(int64_t out_size, int64_t stride, int64_t pad, int64_t dilation, int64_t kernel,
                                int64_t in_size) {
  std::vector<Span> spans(static_cast<size_t>(out_size));
  for (int64_t o = 0; o < out_size; ++o) {
    const int64_t start = o * stride - pad;
    Span s{0, kernel};
    while (s.lo < kernel && start + s.lo * dilation < 0) ++s.lo;
    while (s.hi > s.lo && start + (s.hi - 1) * dilation >= in_size) --s.hi;
    spans[static_cast<size_t>(o)] = s;
  }
  return spans;
}

// Output positions o in [lo, hi) whose input position o * stride + offset lies in [0, size).
Span valid_positions(int64_t offset, int64_t stride, int64_t size, int64_t out_size) {
  Span s;
  s.lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  s.hi = size - 1 - offset >= 0 ? (size - 1 - offset) / stride + 1 : 0;
  s.lo = std::min(s.lo, out_size);
  s.hi = std::clamp(s.hi, s.lo, out_size);
  return s;
}

// One output row at a time: for each kernel offset, a pass over every output column it reaches, keeping a
// running maximum and its position per column. The passes have no branches and no dependence between
// columns, so they vectorise; a per-window loop would branch on a comparison that real data makes a coin flip.
template <class T>
void max_pool_indices_typed(const WindowGeometry& g, const StridedArg& index, const StridedArg& x) {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  const T* xp = static_cast<const T*>(x.data);
  auto* ip = static_cast<int64_t*>(index.data);
  const int64_t planes = g.batch * g.channels;
  const int64_t positions = g.out_h * g.out_w;
  const auto rows = valid_offsets(g.out_h, g.stride_h, g.pad_h, g.dilation_h, g.kernel_h, g.in_h);
  std::vector<Span> col_spans(static_cast<size_t>(g.kernel_w));
  for (int64_t kw = 0; kw < g.kernel_w; ++kw)
    col_spans[static_cast<size_t>(kw)] = valid_positions(kw * g.dilation_w - g.pad_w, g.stride_w, g.in_w, g.out_w);
  const auto first_col = valid_offsets(g.out_w, g.stride_w, g.pad_w, g.dilation_w, g.kernel_w, g.in_w);
  const int64_t xs_h = x.strides[2], xs_w = x.strides[3], is_l = index.strides[2];
  const int threads = threads_for(planes * positions * g.kernel_h * g.kernel_w, kGrain);
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    std::vector<T> best(static_cast<size_t>(g.out_w));
    std::vector<int64_t> best_pos(static_cast<size_t>(g.out_w));
#pragma omp for schedule(static)
    for (int64_t p = 0; p < planes; ++p) {
      const int64_t n = p / g.channels, c = p % g.channels;
      const T* plane = xp + n * x.strides[0] + c * x.strides[1];
      int64_t* out = ip + n * index.strides[0] + c * index.strides[1];
      for (int64_t oh = 0; oh < g.out_h; ++oh) {
        const Span kh_span = rows[static_cast<size_t>(oh)];
        const int64_t ih0 = oh * g.stride_h - g.pad_h;
        // Every window starts at its first element with -inf, so a window of all -inf still names that one.
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          best[static_cast<size_t>(ow)] = -std::numeric_limits<T>::infinity();
          best_pos[static_cast<size_t>(ow)] = (ih0 + kh_span.lo * g.dilation_h) * g.in_w + ow * g.stride_w -
                                              g.pad_w + first_col[static_cast<size_t>(ow)].lo * g.dilation_w;
        }
        T* bv = best.data();
        int64_t* bp = best_pos.data();
        for (int64_t kh = kh_span.lo; kh < kh_span.hi; ++kh) {
          const int64_t ih = ih0 + kh * g.dilation_h;
          const T* row = plane + ih * xs_h;
          for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
            const Span cols = col_spans[static_cast<size_t>(kw)];
            const int64_t shift = kw * g.dilation_w - g.pad_w;
            // A later element wins only when strictly larger, or NaN while the best is not: the first maximum
            // wins ties and the first NaN beats everything, as in PyTorch.
            for (int64_t ow = cols.lo; ow < cols.hi; ++ow) {
              const int64_t iw = ow * g.stride_w + shift;
              const T v = row[iw * xs_w];
              const T b = bv[ow];
              // All-ones when the element wins; blended with masks, so the compiler emits no branch.
              const Bits take = Bits{0} - static_cast<Bits>((v > b) | ((v != v) & (b == b)));
              bv[ow] = std::bit_cast<T>((std::bit_cast<Bits>(v) & take) | (std::bit_cast<Bits>(b) & ~take));
              const auto take_pos = static_cast<int64_t>(static_cast<uint64_t>(0) - (take & 1));
              bp[ow] = ((ih * g.in_w + iw) & take_pos) | (bp[ow] & ~take_pos);
            }
          }
        }
        for (int64_t ow = 0; ow < g.out_w; ++ow) out[(oh * g.out_w + ow) * is_l] = bp[ow];
      }
    }
  }
}

}  // namespace

void register_pool(KernelTables& t) {
  t.max_pool_indices.add("max_pool_indices", DeviceType::CPU, DType::Float32, &max_pool_indices_typed<float>);
  t.max_pool_indices.add("max_pool_indices", DeviceType::CPU, DType::Float64, &max_pool_indices_typed<double>);
}

}  // namespace tg::kernels::ref
