// Sliding-window kernels: im2col, col2im, max pooling (kernels.h's definitions; kernels/ref/window.cpp is the
// oracle). One thread per output element, so nothing is written twice and no atomics are needed: col2im is
// written as the gather it is the adjoint of (each image element sums, in (kh, kw) order as the reference
// does, the column entries that read it), so its sums are the reference's bit for bit.
#include <cmath>

#include "device_index.cuh"

namespace tg::cuda::detail {

namespace {

__device__ inline int64_t grid_index() { return blockIdx.x * int64_t(blockDim.x) + threadIdx.x; }
__device__ inline int64_t grid_step() { return int64_t(gridDim.x) * blockDim.x; }

template <class T>
__global__ void im2col_kernel(const __grid_constant__ Window w, const __grid_constant__ Operand cols,
                              const __grid_constant__ Operand x, T pad_value) {
  const int64_t rows = w.channels * w.kernel_h * w.kernel_w, l = w.out_h * w.out_w, total = w.batch * rows * l;
  T* out = static_cast<T*>(cols.data);
  const T* in = static_cast<const T*>(x.data);
  for (int64_t i = grid_index(); i < total; i += grid_step()) {
    const int64_t col = i % l, row = (i / l) % rows, n = i / (l * rows);
    const int64_t kw = row % w.kernel_w, kh = (row / w.kernel_w) % w.kernel_h, c = row / (w.kernel_w * w.kernel_h);
    const int64_t oh = col / w.out_w, ow = col % w.out_w;
    const int64_t ih = oh * w.stride_h - w.pad_h + kh * w.dilation_h,
                  iw = ow * w.stride_w - w.pad_w + kw * w.dilation_w;
    const bool inside = ih >= 0 && ih < w.in_h && iw >= 0 && iw < w.in_w;
    out[n * cols.strides[0] + row * cols.strides[1] + col * cols.strides[2]] =
        inside ? in[n * x.strides[0] + c * x.strides[1] + ih * x.strides[2] + iw * x.strides[3]] : pad_value;
  }
}

template <class T>
__global__ void col2im_kernel(const __grid_constant__ Window w, const __grid_constant__ Operand x,
                              const __grid_constant__ Operand cols) {
  const int64_t total = w.batch * w.channels * w.in_h * w.in_w;
  T* out = static_cast<T*>(x.data);
  const T* in = static_cast<const T*>(cols.data);
  for (int64_t i = grid_index(); i < total; i += grid_step()) {
    const int64_t iw = i % w.in_w, ih = (i / w.in_w) % w.in_h, c = (i / (w.in_w * w.in_h)) % w.channels;
    const int64_t n = i / (w.in_w * w.in_h * w.channels);
    T sum = T(0);
    for (int64_t kh = 0; kh < w.kernel_h; ++kh) {
      const int64_t oh_s = ih + w.pad_h - kh * w.dilation_h;  // oh * stride_h
      if (oh_s < 0 || oh_s % w.stride_h != 0 || oh_s / w.stride_h >= w.out_h) continue;
      for (int64_t kw = 0; kw < w.kernel_w; ++kw) {
        const int64_t ow_s = iw + w.pad_w - kw * w.dilation_w;
        if (ow_s < 0 || ow_s % w.stride_w != 0 || ow_s / w.stride_w >= w.out_w) continue;
        const int64_t row = (c * w.kernel_h + kh) * w.kernel_w + kw,
                      col = oh_s / w.stride_h * w.out_w + ow_s / w.stride_w;
        sum = static_cast<T>(sum + in[n * cols.strides[0] + row * cols.strides[1] + col * cols.strides[2]]);
      }
    }
    out[n * x.strides[0] + c * x.strides[1] + ih * x.strides[2] + iw * x.strides[3]] = sum;
  }
}

template <class T>
__device__ inline bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>)
    return isnan(v);
  else
    return false;
}

// Each window scanned in (kh, kw) order: the first maximum wins ties, the first NaN beats everything, and
// padding is never chosen. values may be null (max_pool_indices).
template <class T>
__global__ void max_pool_kernel(const __grid_constant__ Window w, const __grid_constant__ Operand values,
                                const __grid_constant__ Operand index, const __grid_constant__ Operand x) {
  const int64_t l = w.out_h * w.out_w, total = w.batch * w.channels * l;
  const T* in = static_cast<const T*>(x.data);
  for (int64_t i = grid_index(); i < total; i += grid_step()) {
    const int64_t pos = i % l, c = (i / l) % w.channels, n = i / (l * w.channels);
    const int64_t oh = pos / w.out_w, ow = pos % w.out_w;
    const T* plane = in + n * x.strides[0] + c * x.strides[1];
    int64_t best_pos = -1;
    T best{};
    for (int64_t kh = 0; kh < w.kernel_h; ++kh) {
      const int64_t ih = oh * w.stride_h - w.pad_h + kh * w.dilation_h;
      if (ih < 0 || ih >= w.in_h) continue;
      for (int64_t kw = 0; kw < w.kernel_w; ++kw) {
        const int64_t iw = ow * w.stride_w - w.pad_w + kw * w.dilation_w;
        if (iw < 0 || iw >= w.in_w) continue;
        const T v = plane[ih * x.strides[2] + iw * x.strides[3]];
        if (best_pos < 0 || (!is_nan(best) && (is_nan(v) || v > best))) {
          best = v;
          best_pos = ih * w.in_w + iw;
        }
      }
    }
    static_cast<int64_t*>(index.data)[n * index.strides[0] + c * index.strides[1] + pos * index.strides[2]] = best_pos;
    if (values.data != nullptr)
      static_cast<T*>(values.data)[n * values.strides[0] + c * values.strides[1] + pos * values.strides[2]] = best;
  }
}

// Calls f(T{}) for the dtypes the window kernels take.
template <class F>
void visit_window_code(int dtype, const char* op, F&& f) {
  switch (dtype) {
    case kInt64:
      return f(int64_t{});
    case kFloat32:
      return f(float{});
    case kFloat64:
      return f(double{});
  }
  throw std::runtime_error(std::string("tg::cuda: ") + op + ": no kernel for dtype code " + std::to_string(dtype));
}

}  // namespace

void launch_window(int op, const Window& w, const Operand& out, const Operand& in, double pad_value) {
  visit_window_code(in.dtype, "window", [&](auto t) {
    using T = decltype(t);
    if (op == 0) {
      const int64_t total = w.batch * w.channels * w.kernel_h * w.kernel_w * w.out_h * w.out_w;
      if (total > 0) im2col_kernel<T><<<blocks_for(total), kThreads>>>(w, out, in, static_cast<T>(pad_value));
    } else if (op == 1) {
      const int64_t total = w.batch * w.channels * w.in_h * w.in_w;
      if (total > 0) col2im_kernel<T><<<blocks_for(total), kThreads>>>(w, out, in);
    } else if constexpr (std::is_floating_point_v<T>) {
      const int64_t total = w.batch * w.channels * w.out_h * w.out_w;
      if (total > 0) max_pool_kernel<T><<<blocks_for(total), kThreads>>>(w, Operand{}, out, in);
    } else {
      throw std::runtime_error("tg::cuda: max_pool_indices takes float32 or float64");
    }
  });
  check_launch("window");
}

void launch_max_pool(const Window& w, const Operand& values, const Operand& index, const Operand& x) {
  const int64_t total = w.batch * w.channels * w.out_h * w.out_w;
  if (total == 0) return;
  if (x.dtype == kFloat32)
    max_pool_kernel<float><<<blocks_for(total), kThreads>>>(w, values, index, x);
  else if (x.dtype == kFloat64)
    max_pool_kernel<double><<<blocks_for(total), kThreads>>>(w, values, index, x);
  else
    throw std::runtime_error("tg::cuda: max_pool takes float32 or float64");
  check_launch("max_pool");
}

}  // namespace tg::cuda::detail
