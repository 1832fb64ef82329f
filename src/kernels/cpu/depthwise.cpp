// The CPU's depthwise 1-D convolution: one (n, c) row per task, threaded over rows; per kernel tap, the output
// positions whose input lies inside the row are one multiply-add loop (unit stride when stride is 1 and the
// rows are contiguous, so it vectorises); the padding is never read. Accumulates in T, tap by tap in order, so
// the result does not depend on the thread count.
#include "depthwise.h"

#include <algorithm>

#include "parallel.h"

namespace tg::kernels::cpu {

namespace {

template <class T>
void row(const DepthwiseProblem& p, T* __restrict o, int64_t os, const T* __restrict x, int64_t xs, const T* w,
         int64_t ws) {
  for (int64_t j = 0; j < p.out_length; ++j) o[j * os] = T(0);
  for (int64_t k = 0; k < p.kernel; ++k) {
    const T wk = w[k * ws];
    const int64_t shift = k * p.dilation - p.padding;  // input index = j * stride + shift
    // j in [lo, hi): 0 <= j * stride + shift < length.
    const int64_t lo = shift >= 0 ? 0 : (-shift + p.stride - 1) / p.stride;
    const int64_t hi = std::min(p.out_length, shift >= p.length ? 0 : (p.length - shift + p.stride - 1) / p.stride);
    if (p.stride == 1 && os == 1 && xs == 1) {
      const T* xk = x + shift;
      for (int64_t j = lo; j < hi; ++j) o[j] += wk * xk[j];
    } else {
      for (int64_t j = lo; j < hi; ++j) o[j * os] += wk * x[(j * p.stride + shift) * xs];
    }
  }
}

template <class T>
void depthwise_typed(const DepthwiseProblem& p, const StridedArg& out, const StridedArg& x, const StridedArg& w) {
  const int64_t rows = p.batch * p.channels;
  const int threads = threads_for(rows * p.out_length * p.kernel, int64_t{1} << 15);
  parallel_for(rows, threads, [&](int64_t first, int64_t last, int) {
    for (int64_t r = first; r < last; ++r) {
      const int64_t n = r / p.channels, c = r % p.channels;
      row<T>(p, static_cast<T*>(out.data) + n * out.strides[0] + c * out.strides[1], out.strides[2],
             static_cast<const T*>(x.data) + n * x.strides[0] + c * x.strides[1], x.strides[2],
             static_cast<const T*>(w.data) + c * w.strides[0], w.strides[1]);
    }
  });
}

}  // namespace

void depthwise_conv1d(const DepthwiseProblem& p, const StridedArg& out, const StridedArg& x, const StridedArg& w) {
  visit_floating(x.dtype, "tg::depthwise_conv1d",
                 [&]<class T>(TypeTag<T>) { depthwise_typed<T>(p, out, x, w); });
}

}  // namespace tg::kernels::cpu
