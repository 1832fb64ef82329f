// The sliding-window kernels written as their definitions (kernels.h), one element at a time: the oracle for
// the CPU's planned, threaded im2col / col2im / max pooling in cpu/.
#include <cmath>

#include "ref_kernels.h"

namespace tg::kernels::ref {

namespace {

// Calls f(n, c, kh, kw, oh, ow, ih, iw, inside) for every window entry, in row-major order of
// (n, c, kh, kw, oh, ow); (ih, iw) is the input position it reads, `inside` whether that is in the image.
template <class F>
void for_each_window_entry(const WindowGeometry& g, F&& f) {
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t c = 0; c < g.channels; ++c)
      for (int64_t kh = 0; kh < g.kernel_h; ++kh)
        for (int64_t kw = 0; kw < g.kernel_w; ++kw)
          for (int64_t oh = 0; oh < g.out_h; ++oh)
            for (int64_t ow = 0; ow < g.out_w; ++ow) {
              const int64_t ih = oh * g.stride_h - g.pad_h + kh * g.dilation_h;
              const int64_t iw = ow * g.stride_w - g.pad_w + kw * g.dilation_w;
              f(n, c, kh, kw, oh, ow, ih, iw, ih >= 0 && ih < g.in_h && iw >= 0 && iw < g.in_w);
            }
}

template <class T>
void im2col_typed(const WindowGeometry& g, const StridedArg& cols, const StridedArg& x, double pad_value) {
  T* out = static_cast<T*>(cols.data);
  const T* in = static_cast<const T*>(x.data);
  const Strides& cs = cols.strides;
  const Strides& xs = x.strides;
  for_each_window_entry(g, [&](int64_t n, int64_t c, int64_t kh, int64_t kw, int64_t oh, int64_t ow, int64_t ih,
                               int64_t iw, bool inside) {
    const int64_t row = (c * g.kernel_h + kh) * g.kernel_w + kw, col = oh * g.out_w + ow;
    out[n * cs[0] + row * cs[1] + col * cs[2]] =
        inside ? in[n * xs[0] + c * xs[1] + ih * xs[2] + iw * xs[3]] : static_cast<T>(pad_value);
  });
}

template <class T>
void col2im_typed(const WindowGeometry& g, const StridedArg& x, const StridedArg& cols) {
  T* out = static_cast<T*>(x.data);
  const T* in = static_cast<const T*>(cols.data);
  const Strides& cs = cols.strides;
  const Strides& xs = x.strides;
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t c = 0; c < g.channels; ++c)
      for (int64_t h = 0; h < g.in_h; ++h)
        for (int64_t w = 0; w < g.in_w; ++w) out[n * xs[0] + c * xs[1] + h * xs[2] + w * xs[3]] = T(0);
  for_each_window_entry(g, [&](int64_t n, int64_t c, int64_t kh, int64_t kw, int64_t oh, int64_t ow, int64_t ih,
                               int64_t iw, bool inside) {
    if (!inside) return;
    const int64_t row = (c * g.kernel_h + kh) * g.kernel_w + kw, col = oh * g.out_w + ow;
    T& target = out[n * xs[0] + c * xs[1] + ih * xs[2] + iw * xs[3]];
    target = static_cast<T>(target + in[n * cs[0] + row * cs[1] + col * cs[2]]);
  });
}

// Each window scanned in (kh, kw) order: the first maximum wins ties, and the first NaN beats everything.
template <class T>
void max_pool_indices_typed(const WindowGeometry& g, const StridedArg& index, const StridedArg& x) {
  auto* out = static_cast<int64_t*>(index.data);
  const T* in = static_cast<const T*>(x.data);
  const Strides& is = index.strides;
  const Strides& xs = x.strides;
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t c = 0; c < g.channels; ++c)
      for (int64_t oh = 0; oh < g.out_h; ++oh)
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          int64_t best_pos = -1;
          T best{};
          for (int64_t kh = 0; kh < g.kernel_h; ++kh)
            for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
              const int64_t ih = oh * g.stride_h - g.pad_h + kh * g.dilation_h;
              const int64_t iw = ow * g.stride_w - g.pad_w + kw * g.dilation_w;
              if (ih < 0 || ih >= g.in_h || iw < 0 || iw >= g.in_w) continue;
              const T v = in[n * xs[0] + c * xs[1] + ih * xs[2] + iw * xs[3]];
              const bool take = best_pos < 0 || (!std::isnan(best) && (std::isnan(v) || v > best));
              if (take) {
                best = v;
                best_pos = ih * g.in_w + iw;
              }
            }
          out[n * is[0] + c * is[1] + (oh * g.out_w + ow) * is[2]] = best_pos;
        }
}

// The positions by max_pool_indices_typed, then each value read from its position.
template <class T>
void max_pool_typed(const WindowGeometry& g, const StridedArg& values, const StridedArg& index, const StridedArg& x) {
  max_pool_indices_typed<T>(g, index, x);
  const auto* pos = static_cast<const int64_t*>(index.data);
  const T* in = static_cast<const T*>(x.data);
  T* out = static_cast<T*>(values.data);
  const Strides &is = index.strides, &vs = values.strides, &xs = x.strides;
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t c = 0; c < g.channels; ++c)
      for (int64_t l = 0; l < g.out_h * g.out_w; ++l) {
        const int64_t p = pos[n * is[0] + c * is[1] + l * is[2]];
        out[n * vs[0] + c * vs[1] + l * vs[2]] = in[n * xs[0] + c * xs[1] + p / g.in_w * xs[2] + p % g.in_w * xs[3]];
      }
}

void max_pool(const WindowGeometry& g, const StridedArg& values, const StridedArg& index, const StridedArg& x) {
  switch (x.dtype) {
    case DType::Float32: return max_pool_typed<float>(g, values, index, x);
    case DType::Float64: return max_pool_typed<double>(g, values, index, x);
    default: TG_FAIL("tg::max_pool: no reference kernel for ", dtype_name(x.dtype));
  }
}

void window(WindowOp op, const WindowGeometry& g, const StridedArg& out, const StridedArg& in, double pad_value) {
  visit_compute_dtype(in.dtype, [&]<class T>(TypeTag<T>) {
    if constexpr (std::is_same_v<T, bool>) {
      TG_FAIL("tg::", op_name(op), ": no reference kernel for bool");
    } else {
      switch (op) {
        case WindowOp::Im2col: return im2col_typed<T>(g, out, in, pad_value);
        case WindowOp::Col2im: return col2im_typed<T>(g, out, in);
        case WindowOp::MaxPoolIndices:
          if constexpr (std::is_floating_point_v<T>) return max_pool_indices_typed<T>(g, out, in);
          TG_FAIL("tg::max_pool_indices: no reference kernel for ", dtype_name(in.dtype));
      }
    }
  });
}

}  // namespace

void register_window(KernelTables& t) {
  for (DType d : {DType::Int64, DType::Float32, DType::Float64}) {
    t.window.add(WindowOp::Im2col, DeviceType::CPU, d, &window);
    t.window.add(WindowOp::Col2im, DeviceType::CPU, d, &window);
  }
  for (DType d : {DType::Float32, DType::Float64}) {
    t.window.add(WindowOp::MaxPoolIndices, DeviceType::CPU, d, &window);
    t.max_pool.add(DeviceType::CPU, d, &max_pool);
  }
}

}  // namespace tg::kernels::ref
