// im2col / col2im over raw pointers: the sliding-window gather behind unfold, convolution and pooling, and
// its adjoint (fold). Both are written as loops over (n, c, kh, kw, output row) whose inner loop runs over
// the output columns that fall inside the input, worked out once per kernel offset: no division, modulo or
// bounds test per element, and a plain copy / add when the input row and the columns row are unit-stride
// with stride 1 (the layout a contiguous NCHW input and a fresh cols tensor have). Both split the (n, c)
// planes over threads (parallel_for) when there is enough work. ref/window.cpp is their oracle.
#include <algorithm>
#include <vector>

#include "parallel.h"
#include "window.h"
#include "window_span.h"

namespace tg::kernels::cpu {

namespace {

// Elements copied per thread at least, before a second thread is worth starting.
constexpr int64_t kGrain = int64_t{1} << 15;


// Copies n elements. Rows of a sliding window are short (a 14- or 28-wide image), and std::copy would call
// memmove once per row: that call was 4% of a CNN training step. Whole 8-element blocks, then the last 8
// elements again (overlapping) instead of a tail loop the compiler would turn back into a memmove call.
template <class T>
inline void copy_row(const T* s, T* d, int64_t n) {
  constexpr int64_t kBlock = 8;
  if (n < kBlock) {
    for (int64_t i = 0; i < n; ++i) d[i] = s[i];
    return;
  }
  auto block = [&](int64_t i) {
    T tmp[kBlock];
    for (int64_t j = 0; j < kBlock; ++j) tmp[j] = s[i + j];
    for (int64_t j = 0; j < kBlock; ++j) d[i + j] = tmp[j];
  };
  for (int64_t i = 0; i + kBlock <= n; i += kBlock) block(i);
  block(n - kBlock);
}

// UnitL: the cols row is unit-stride (its L stride is 1), so the compiler sees contiguous stores.
template <class T, bool UnitL>
void im2col_loops(const WindowGeometry& g, T* cols, const Strides& cs, const T* x, const Strides& xs, T pad) {
  const int64_t OH = g.out_h, OW = g.out_w, KH = g.kernel_h, KW = g.kernel_w;
  const int64_t SH = g.stride_h, SW = g.stride_w;
  const int64_t xsN = xs[0], xsC = xs[1], xsH = xs[2], xsW = xs[3];
  const int64_t csN = cs[0], csR = cs[1], csL = UnitL ? 1 : cs[2];
  const std::vector<Span> hspan = spans(KH, SH, g.pad_h, g.dilation_h, g.in_h, OH);
  const std::vector<Span> wspan = spans(KW, SW, g.pad_w, g.dilation_w, g.in_w, OW);
  const bool unit_w = xsW == 1 && SW == 1;

  auto fill = [&](T* d, int64_t from, int64_t to) {
    for (int64_t i = from; i < to; ++i) d[i * csL] = pad;
  };

  // One (n, c) plane per iteration: planes write disjoint rows of cols, so they run in parallel.
  const int64_t planes = g.batch * g.channels;
  const int threads = threads_for(planes * KH * KW * OH * OW, kGrain);
  parallel_for(planes, threads, [&](int64_t first, int64_t last, int) {
  for (int64_t nc = first; nc < last; ++nc) {
    const int64_t n = nc / g.channels, c = nc % g.channels;
    const T* xc = x + n * xsN + c * xsC;
    for (int64_t kh = 0; kh < KH; ++kh) {
      const Span hs = hspan[static_cast<size_t>(kh)];
      const int64_t h_off = kh * g.dilation_h - g.pad_h;
      for (int64_t kw = 0; kw < KW; ++kw) {
        const Span ws = wspan[static_cast<size_t>(kw)];
        const int64_t w_off = kw * g.dilation_w - g.pad_w;
        T* row = cols + n * csN + ((c * KH + kh) * KW + kw) * csR;
        fill(row, 0, hs.lo * OW);
        for (int64_t oh = hs.lo; oh < hs.hi; ++oh) {
          T* d = row + oh * OW * csL;
          const T* s = xc + (oh * SH + h_off) * xsH;
          fill(d, 0, ws.lo);
          if (UnitL && unit_w) {
            copy_row(s + ws.lo + w_off, d + ws.lo, ws.hi - ws.lo);
          } else {
            const T* sw = s + w_off * xsW;
            const int64_t step = SW * xsW;
            for (int64_t ow = ws.lo; ow < ws.hi; ++ow) d[ow * csL] = sw[ow * step];
          }
          fill(d, ws.hi, OW);
        }
        fill(row, hs.hi * OW, OH * OW);
      }
    }
  }
  });
}

template <class T>
void im2col_typed(const WindowGeometry& g, const StridedArg& cols, const StridedArg& x, double pad_value) {
  T* c = static_cast<T*>(cols.data);
  const T* xp = static_cast<const T*>(x.data);
  const T pad = static_cast<T>(pad_value);
  if (cols.strides[2] == 1) im2col_loops<T, true>(g, c, cols.strides, xp, x.strides, pad);
  else im2col_loops<T, false>(g, c, cols.strides, xp, x.strides, pad);
}

template <class T, bool UnitL>
void col2im_loops(const WindowGeometry& g, T* x, const Strides& xs, const T* cols, const Strides& cs) {
  const int64_t OW = g.out_w, KH = g.kernel_h, KW = g.kernel_w;
  const int64_t SH = g.stride_h, SW = g.stride_w;
  const int64_t xsN = xs[0], xsC = xs[1], xsH = xs[2], xsW = xs[3];
  const int64_t csN = cs[0], csR = cs[1], csL = UnitL ? 1 : cs[2];
  const std::vector<Span> hspan = spans(KH, SH, g.pad_h, g.dilation_h, g.in_h, g.out_h);
  const std::vector<Span> wspan = spans(KW, SW, g.pad_w, g.dilation_w, g.in_w, OW);
  const bool unit_w = xsW == 1 && SW == 1;

  // One (n, c) plane of x per iteration: each is written only by its own iteration, so they run in parallel.
  const int64_t planes = g.batch * g.channels;
  const int threads = threads_for(planes * KH * KW * g.out_h * OW, kGrain);
  parallel_for(planes, threads, [&](int64_t first, int64_t last, int) {
  for (int64_t nc = first; nc < last; ++nc) {
    const int64_t n = nc / g.channels, c = nc % g.channels;
    T* xc = x + n * xsN + c * xsC;
    for (int64_t h = 0; h < g.in_h; ++h) {
      T* xr = xc + h * xsH;
      if (xsW == 1) std::fill(xr, xr + g.in_w, T(0));
      else
        for (int64_t w = 0; w < g.in_w; ++w) xr[w * xsW] = T(0);
    }
    for (int64_t kh = 0; kh < KH; ++kh) {
      const Span hs = hspan[static_cast<size_t>(kh)];
      const int64_t h_off = kh * g.dilation_h - g.pad_h;
      for (int64_t kw = 0; kw < KW; ++kw) {
        const Span ws = wspan[static_cast<size_t>(kw)];
        const int64_t w_off = kw * g.dilation_w - g.pad_w;
        const T* row = cols + n * csN + ((c * KH + kh) * KW + kw) * csR;
        for (int64_t oh = hs.lo; oh < hs.hi; ++oh) {
          const T* s = row + oh * OW * csL;
          T* d = xc + (oh * SH + h_off) * xsH;
          if (UnitL && unit_w) {
            T* dw = d + w_off;
            for (int64_t ow = ws.lo; ow < ws.hi; ++ow) dw[ow] += s[ow];
          } else {
            T* dw = d + w_off * xsW;
            const int64_t step = SW * xsW;
            for (int64_t ow = ws.lo; ow < ws.hi; ++ow) dw[ow * step] += s[ow * csL];
          }
        }
      }
    }
  }
  });
}

template <class T>
void col2im_typed(const WindowGeometry& g, const StridedArg& x, const StridedArg& cols) {
  T* xp = static_cast<T*>(x.data);
  const T* c = static_cast<const T*>(cols.data);
  if (cols.strides[2] == 1) col2im_loops<T, true>(g, xp, x.strides, c, cols.strides);
  else col2im_loops<T, false>(g, xp, x.strides, c, cols.strides);
}

}  // namespace

void window(WindowOp op, const WindowGeometry& g, const StridedArg& out, const StridedArg& in, double pad_value) {
  switch (op) {
    case WindowOp::Im2col:
      return visit_compute_dtype(in.dtype, [&]<class T>(TypeTag<T>) {
        if constexpr (std::is_same_v<T, bool>) TG_FAIL("tg::im2col: no kernel for bool");
        else im2col_typed<T>(g, out, in, pad_value);
      });
    case WindowOp::Col2im:
      return visit_compute_dtype(in.dtype, [&]<class T>(TypeTag<T>) {
        if constexpr (std::is_same_v<T, bool>) TG_FAIL("tg::col2im: no kernel for bool");
        else col2im_typed<T>(g, out, in);
      });
    case WindowOp::MaxPoolIndices: return cpu::max_pool_indices(g, out, in);
  }
}

}  // namespace tg::kernels::cpu
