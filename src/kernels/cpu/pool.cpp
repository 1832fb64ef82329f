// Max pooling's kernel: where each window's maximum is, and (max_pool) the maximum itself, in one pass over the
// input. Every gradient then comes from scatter_add / gather with these positions (as PyTorch's
// max_pool2d_with_indices), so the backward touches one input element per output instead of every window entry.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "cpu_features.h"
#include "parallel.h"
#include "pool_rows.h"
#include "window.h"
#include "window_span.h"

namespace tg::kernels::cpu {

namespace {

constexpr int64_t kGrain = int64_t{1} << 15;  // window elements per thread at least

// Kernel offsets k in [lo, hi) that put output position o inside the input along one axis.
std::vector<Span> valid_offsets(int64_t out_size, int64_t stride, int64_t pad, int64_t dilation, int64_t kernel,
                                int64_t in_size) {
  std::vector<Span> out(static_cast<size_t>(out_size));
  for (int64_t o = 0; o < out_size; ++o) {
    const int64_t start = o * stride - pad;
    Span s{0, kernel};
    while (s.lo < kernel && start + s.lo * dilation < 0) ++s.lo;
    while (s.hi > s.lo && start + (s.hi - 1) * dilation >= in_size) --s.hi;
    out[static_cast<size_t>(o)] = s;
  }
  return out;
}

// One output row at a time: for each kernel offset, a pass over every output column it reaches, keeping a
// running maximum and its position per column. The passes have no branches and no dependence between
// columns, so they vectorise; a per-window loop would branch on a comparison that real data makes a coin flip.
// Whether `v` replaces the running maximum `b`: strictly larger, or NaN while `b` is not, so the first maximum
// wins ties and the first NaN beats everything, as in PyTorch.
template <class T>
inline bool takes(T v, T b) {
  return (v > b) | ((v != v) & (b == b));
}

// The CPU's vector version of a float32 2x2 row (pool_rows.h), or null: the scalar loops below; and of a plane's
// rows (null exactly when the row version is).
PoolRow2x2 vector_pool_row() {
  static const PoolRow2x2 chosen =
      widest_supported<PoolRow2x2>(isa::avx512_pool_row_2x2, isa::avx2_pool_row_2x2, nullptr);
  return chosen;
}
PoolRows2x2 vector_pool_rows() {
  static const PoolRows2x2 chosen =
      widest_supported<PoolRows2x2>(isa::avx512_pool_rows_2x2, isa::avx2_pool_rows_2x2, nullptr);
  return chosen;
}

// Float32 2x2 pooling by the vector rows: each row's values (straight into `values` where its rows are
// contiguous) and positions.
void max_pool_2x2_rows(PoolRow2x2 row, const WindowGeometry& g, const StridedArg* values, const StridedArg& index,
                       const StridedArg& x, int threads) {
  const auto* xp = static_cast<const float*>(x.data);
  auto* ip = static_cast<int64_t*>(index.data);
  float* vp = values != nullptr ? static_cast<float*>(values->data) : nullptr;
  // One past x's last element (non-negative strides: the fast path's rows have a unit width stride and the
  // others are checked here).
  const float* x_end = nullptr;
  if (x.strides[0] >= 0 && x.strides[1] >= 0 && x.strides[2] >= 0)
    x_end = xp + (g.batch - 1) * x.strides[0] + (g.channels - 1) * x.strides[1] + (g.in_h - 1) * x.strides[2] + g.in_w;
  parallel_for(g.batch * g.channels, threads, [&](int64_t first, int64_t last, int) {
    const int64_t channels = g.channels, out_h = g.out_h, ow_n = g.out_w, in_w = g.in_w, xs_h = x.strides[2];
    const int64_t vs_l = vp != nullptr ? values->strides[2] : 0;
    std::vector<float> row_values(static_cast<size_t>(ow_n));
    const PoolRows2x2 rows = vector_pool_rows();
    for (int64_t p = first; p < last; ++p) {
      const int64_t n = p / channels, c = p % channels;
      const float* plane = xp + n * x.strides[0] + c * x.strides[1];
      int64_t* out = ip + n * index.strides[0] + c * index.strides[1];
      float* vplane = vp != nullptr ? vp + n * values->strides[0] + c * values->strides[1] : nullptr;
      if (vplane != nullptr && vs_l == 1 && rows != nullptr) {  // the usual case: the whole plane in one call
        rows(plane, xs_h, out_h, ow_n, x_end, 0, in_w, vplane, out);
        continue;
      }
      for (int64_t oh = 0; oh < out_h; ++oh) {
        const float* r0 = plane + 2 * oh * xs_h;
        float* direct = vplane != nullptr && vs_l == 1 ? vplane + oh * ow_n : nullptr;
        float* v = direct != nullptr ? direct : row_values.data();
        row(r0, r0 + xs_h, ow_n, x_end, 2 * oh * in_w, in_w, v, out + oh * ow_n);
        if (vplane != nullptr && direct == nullptr)
          for (int64_t ow = 0; ow < ow_n; ++ow) vplane[(oh * ow_n + ow) * vs_l] = v[ow];
      }
    }
  });
}

// The common 2x2 window with stride 2, no padding or dilation, over unit-stride rows: the four candidates
// of each window are read straight from two input rows and the winner's position written at once, one
// pass instead of four read-modify-write passes over per-row scratch. `index` is [N, C, L] with unit L stride;
// `values` (may be null) any strides. Float32 runs the CPU's vector rows where it has them.
template <class T>
void max_pool_2x2_indices(const WindowGeometry& g, const StridedArg* values, const StridedArg& index,
                          const StridedArg& x, int threads) {
  if constexpr (std::is_same_v<T, float>) {
    const PoolRow2x2 row = vector_pool_row();
    if (row != nullptr && 2 * g.out_w < (int64_t{1} << 30) && g.in_w < (int64_t{1} << 30))
      return max_pool_2x2_rows(row, g, values, index, x, threads);
  }
  const T* xp = static_cast<const T*>(x.data);
  auto* ip = static_cast<int64_t*>(index.data);
  T* vp = values != nullptr ? static_cast<T*>(values->data) : nullptr;
  const int64_t planes = g.batch * g.channels;
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  parallel_for(planes, threads, [&](int64_t first, int64_t last, int) {
  // Local copies: the loops store int64 positions, which the compiler must otherwise assume may overwrite
  // any int64 reached through the closure's references (the loop bound among them): no vectorisation then
  // (3.3x slower pooling).
  const int64_t channels = g.channels, out_h = g.out_h, ow_n = g.out_w, in_w = g.in_w, xs_h = x.strides[2];
  const int64_t xs_n = x.strides[0], xs_c = x.strides[1], is_n = index.strides[0], is_c = index.strides[1];
  const int64_t vs_n = vp ? values->strides[0] : 0, vs_c = vp ? values->strides[1] : 0;
  const int64_t vs_l = vp ? values->strides[2] : 0;
  const Bits next_row = static_cast<Bits>(in_w), next_row_right = static_cast<Bits>(in_w + 1);
  for (int64_t p = first; p < last; ++p) {
    const int64_t n = p / channels, c = p % channels;
    const T* plane = xp + n * xs_n + c * xs_c;
    int64_t* out = ip + n * is_n + c * is_c;
    for (int64_t oh = 0; oh < out_h; ++oh) {
      const T* r0 = plane + 2 * oh * xs_h;
      const T* r1 = r0 + xs_h;
      int64_t* o = out + oh * ow_n;
      const int64_t base = 2 * oh * in_w;
      for (int64_t ow = 0; ow < ow_n; ++ow) {
        // Candidates in scan order (row 0 then row 1, left to right) at offsets 0, 1, in_w, in_w + 1. Mask
        // blends in lanes as wide as T, not branches: on real data each comparison is a coin flip, and
        // this form vectorises.
        const T a = r0[2 * ow], b = r0[2 * ow + 1], c2 = r1[2 * ow], d = r1[2 * ow + 1];
        const Bits mb = Bits{0} - static_cast<Bits>(takes(b, a));
        const T ab = std::bit_cast<T>((std::bit_cast<Bits>(b) & mb) | (std::bit_cast<Bits>(a) & ~mb));
        const Bits mc = Bits{0} - static_cast<Bits>(takes(c2, ab));
        const T abc = std::bit_cast<T>((std::bit_cast<Bits>(c2) & mc) | (std::bit_cast<Bits>(ab) & ~mc));
        const Bits md = Bits{0} - static_cast<Bits>(takes(d, abc));
        const Bits pos = (next_row_right & md) | (next_row & mc & ~md) | (Bits{1} & mb & ~mc & ~md);
        o[ow] = base + 2 * ow + static_cast<int64_t>(pos);
      }
      // The values, read back at the positions just written (in L1): a separate loop keeps the one above
      // free of a second store stream.
      if (vp != nullptr) {
        T* v = vp + n * vs_n + c * vs_c + oh * ow_n * vs_l;
        const int64_t row_step = xs_h - in_w;
        for (int64_t ow = 0; ow < ow_n; ++ow) {
          const int64_t pos = o[ow] - base;  // the column in row 0, or W + the column in row 1
          v[ow * vs_l] = r0[pos + static_cast<int64_t>(pos >= in_w) * row_step];  // no branch: a coin flip
        }
      }
    }
  }
  });
}

// With `values` (may be null) each window's maximum is written too.
template <class T>
void max_pool_typed(const WindowGeometry& g, const StridedArg* values, const StridedArg& index, const StridedArg& x) {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  if (g.batch == 0 || g.channels == 0 || g.out_h == 0 || g.out_w == 0) return;  // nothing to write, x may be null
  if (g.kernel_h == 2 && g.kernel_w == 2 && g.stride_h == 2 && g.stride_w == 2 && g.pad_h == 0 && g.pad_w == 0 &&
      g.dilation_h == 1 && g.dilation_w == 1 && x.strides[3] == 1 && index.strides[2] == 1) {
    return max_pool_2x2_indices<T>(g, values, index, x,
                                   threads_for(g.batch * g.channels * g.out_h * g.out_w * 4, kGrain));
  }
  const T* xp = static_cast<const T*>(x.data);
  auto* ip = static_cast<int64_t*>(index.data);
  const int64_t planes = g.batch * g.channels;
  const int64_t positions = g.out_h * g.out_w;
  const auto rows = valid_offsets(g.out_h, g.stride_h, g.pad_h, g.dilation_h, g.kernel_h, g.in_h);
  const auto col_spans = spans(g.kernel_w, g.stride_w, g.pad_w, g.dilation_w, g.in_w, g.out_w);
  const auto first_col = valid_offsets(g.out_w, g.stride_w, g.pad_w, g.dilation_w, g.kernel_w, g.in_w);
  const int64_t xs_h = x.strides[2], xs_w = x.strides[3], is_l = index.strides[2];
  const int threads = threads_for(planes * positions * g.kernel_h * g.kernel_w, kGrain);
  parallel_for(planes, threads, [&](int64_t first, int64_t last, int) {
    // Local copies, as in the 2x2 path: int64 stores must not be able to alias what the loops read.
    const WindowGeometry geo = g;
    const int64_t xs_h_ = xs_h, xs_w_ = xs_w, is_l_ = is_l, xs_n = x.strides[0], xs_c = x.strides[1];
    const int64_t is_n = index.strides[0], is_c = index.strides[1];
    T* vp = values != nullptr ? static_cast<T*>(values->data) : nullptr;
    const int64_t vs_n = vp ? values->strides[0] : 0, vs_c = vp ? values->strides[1] : 0;
    const int64_t vs_l = vp ? values->strides[2] : 0;
    std::vector<T> best(static_cast<size_t>(geo.out_w));
    std::vector<int64_t> best_pos(static_cast<size_t>(geo.out_w));
    for (int64_t p = first; p < last; ++p) {
      const int64_t n = p / geo.channels, c = p % geo.channels;
      const T* plane = xp + n * xs_n + c * xs_c;
      int64_t* out = ip + n * is_n + c * is_c;
      for (int64_t oh = 0; oh < geo.out_h; ++oh) {
        const Span kh_span = rows[static_cast<size_t>(oh)];
        const int64_t ih0 = oh * geo.stride_h - geo.pad_h;
        // Every window starts at its first element with -inf, so a window of all -inf still names that one.
        for (int64_t ow = 0; ow < geo.out_w; ++ow) {
          best[static_cast<size_t>(ow)] = -std::numeric_limits<T>::infinity();
          best_pos[static_cast<size_t>(ow)] = (ih0 + kh_span.lo * geo.dilation_h) * geo.in_w + ow * geo.stride_w -
                                              geo.pad_w + first_col[static_cast<size_t>(ow)].lo * geo.dilation_w;
        }
        T* bv = best.data();
        int64_t* bp = best_pos.data();
        for (int64_t kh = kh_span.lo; kh < kh_span.hi; ++kh) {
          const int64_t ih = ih0 + kh * geo.dilation_h;
          const T* row = plane + ih * xs_h_;
          for (int64_t kw = 0; kw < geo.kernel_w; ++kw) {
            const Span cols = col_spans[static_cast<size_t>(kw)];
            const int64_t shift = kw * geo.dilation_w - geo.pad_w;
            for (int64_t ow = cols.lo; ow < cols.hi; ++ow) {
              const int64_t iw = ow * geo.stride_w + shift;
              const T v = row[iw * xs_w_];
              const T b = bv[ow];
              // All-ones when the element wins; blended with masks, so the compiler emits no branch.
              const Bits take = Bits{0} - static_cast<Bits>(takes(v, b));
              bv[ow] = std::bit_cast<T>((std::bit_cast<Bits>(v) & take) | (std::bit_cast<Bits>(b) & ~take));
              const auto take_pos = static_cast<int64_t>(static_cast<uint64_t>(0) - (take & 1));
              bp[ow] = ((ih * geo.in_w + iw) & take_pos) | (bp[ow] & ~take_pos);
            }
          }
        }
        for (int64_t ow = 0; ow < geo.out_w; ++ow) out[(oh * geo.out_w + ow) * is_l_] = bp[ow];
        if (vp != nullptr)
          for (int64_t ow = 0; ow < geo.out_w; ++ow) vp[n * vs_n + c * vs_c + (oh * geo.out_w + ow) * vs_l] = bv[ow];
      }
    }
  });
}

}  // namespace

void max_pool_indices(const WindowGeometry& g, const StridedArg& index, const StridedArg& x) {
  switch (x.dtype) {
    case DType::Float32: return max_pool_typed<float>(g, nullptr, index, x);
    case DType::Float64: return max_pool_typed<double>(g, nullptr, index, x);
    default: TG_FAIL("tg::max_pool_indices: no kernel for ", dtype_name(x.dtype));
  }
}

void max_pool(const WindowGeometry& g, const StridedArg& values, const StridedArg& index, const StridedArg& x) {
  switch (x.dtype) {
    case DType::Float32: return max_pool_typed<float>(g, &values, index, x);
    case DType::Float64: return max_pool_typed<double>(g, &values, index, x);
    default: TG_FAIL("tg::max_pool: no kernel for ", dtype_name(x.dtype));
  }
}

}  // namespace tg::kernels::cpu
