#include <cmath>

#include "ref_kernels.h"

namespace tg::kernels::ref {

namespace {

// softmax(x)_i = exp(x_i - m) / sum_j exp(x_j - m) with m = max_j x_j, so exp never overflows;
// log_softmax(x)_i = x_i - m - log(sum_j exp(x_j - m)).
template <class T>
void softmax_typed(SoftmaxOp op, const Shape& shape, int64_t dim, const StridedArg& out, const StridedArg& in) {
  const bool log = op == SoftmaxOp::LogSoftmax;
  Shape outer = shape;
  outer[static_cast<size_t>(dim)] = 1;
  const int64_t n = shape[static_cast<size_t>(dim)];
  const int64_t so = out.strides[static_cast<size_t>(dim)], si = in.strides[static_cast<size_t>(dim)];
  T* o0 = static_cast<T*>(out.data);
  const T* i0 = static_cast<const T*>(in.data);
  if (n == 0) return;
  for_each_run<2>(outer, {out.strides.data(), in.strides.data()}, [&](int64_t rows, auto off, auto st) {
    for (int64_t r = 0; r < rows; ++r) {
      T* o = o0 + off[0] + r * st[0];
      const T* x = i0 + off[1] + r * st[1];
      T m = x[0];
      for (int64_t j = 1; j < n; ++j) m = std::max(m, x[j * si]);
      if (std::isinf(m) && m < 0) m = 0;  // an all -inf row: avoid (-inf) - (-inf)
      double sum = 0;
      for (int64_t j = 0; j < n; ++j) sum += std::exp(static_cast<double>(x[j * si] - m));
      if (log) {
        const T lse = static_cast<T>(std::log(sum));
        for (int64_t j = 0; j < n; ++j) o[j * so] = x[j * si] - m - lse;
      } else {
        for (int64_t j = 0; j < n; ++j) o[j * so] = static_cast<T>(std::exp(static_cast<double>(x[j * si] - m)) / sum);
      }
    }
  });
}

}  // namespace

void softmax(SoftmaxOp op, const Shape& shape, int64_t dim, const StridedArg& out, const StridedArg& in) {
  if (in.dtype == DType::Float64) return softmax_typed<double>(op, shape, dim, out, in);
  TG_CHECK(in.dtype == DType::Float32, "tg::", op_name(op), ": no reference kernel for ", dtype_name(in.dtype));
  softmax_typed<float>(op, shape, dim, out, in);
}

void register_softmax(KernelTables& t) {
  for (SoftmaxOp op : {SoftmaxOp::Softmax, SoftmaxOp::LogSoftmax}) {
    t.softmax.add(op, DeviceType::CPU, DType::Float32, &softmax_typed<float>);
    t.softmax.add(op, DeviceType::CPU, DType::Float64, &softmax_typed<double>);
  }
}

}  // namespace tg::kernels::ref
