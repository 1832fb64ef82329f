// The CPU's float32 (log-)softmax along a unit-stride dim: per row, the max, then exp(x - max) by the
// vectorised exp of vector_math.h into the output, their sum (double, in order), and a scale (softmax) or a
// shift (log_softmax). Rows spread over threads; each row's result depends on that row alone. Other layouts and
// float64 run the reference kernel (which takes exp in double).
#include "softmax.h"

#include <algorithm>
#include <cmath>

#include "isa_clones.h"
#include "parallel.h"
#include "unary.h"

namespace tg::kernels::cpu {

namespace {

TG_ISA_CLONES float row_max(const float* x, int64_t n) {
  float m = x[0];
  for (int64_t j = 1; j < n; ++j) m = x[j] > m ? x[j] : m;  // NaN: not taken, but the exp of it stays NaN
  return m;
}

TG_ISA_CLONES void shift(float* __restrict o, const float* __restrict x, float m, int64_t n) {
  for (int64_t j = 0; j < n; ++j) o[j] = x[j] - m;
}

TG_ISA_CLONES double row_sum(const float* o, int64_t n) {
  double s = 0;
  for (int64_t j = 0; j < n; ++j) s += o[j];
  return s;
}

TG_ISA_CLONES void scale(float* o, float f, int64_t n) {
  for (int64_t j = 0; j < n; ++j) o[j] *= f;
}

TG_ISA_CLONES void subtract(float* __restrict o, const float* __restrict x, float c, int64_t n) {
  for (int64_t j = 0; j < n; ++j) o[j] = x[j] - c;
}

void softmax_row(bool log, float* o, const float* x, int64_t n) {
  float m = row_max(x, n);
  if (std::isinf(m) && m < 0) m = 0;  // an all -inf row: avoid (-inf) - (-inf)
  shift(o, x, m, n);
  exp_f32_run(o, o, n);
  const double sum = row_sum(o, n);
  if (log) subtract(o, x, m + static_cast<float>(std::log(sum)), n);
  else scale(o, static_cast<float>(1.0 / sum), n);
}

}  // namespace

void softmax(SoftmaxOp op, const Shape& shape, int64_t dim, const StridedArg& out, const StridedArg& in) {
  const auto d = static_cast<size_t>(dim);
  const int64_t n = shape[d];
  const bool rows_contiguous = in.dtype == DType::Float32 && in.strides[d] == 1 && out.strides[d] == 1 && n > 0;
  if (!rows_contiguous) return ref::softmax(op, shape, dim, out, in);
  Shape outer = shape;
  outer[d] = 1;
  const bool log = op == SoftmaxOp::LogSoftmax;
  const int64_t rows = numel_of(outer);
  // Row r's offsets: walk the outer shape once up front (rows are independent, any order).
  std::vector<std::pair<int64_t, int64_t>> offsets;
  offsets.reserve(static_cast<size_t>(rows));
  for_each_run<2>(outer, {out.strides.data(), in.strides.data()}, [&](int64_t count, auto off, auto st) {
    for (int64_t r = 0; r < count; ++r) offsets.emplace_back(off[0] + r * st[0], off[1] + r * st[1]);
  });
  float* o = static_cast<float*>(out.data);
  const float* x = static_cast<const float*>(in.data);
  parallel_for(rows, threads_for(rows * n, kElementwiseGrain), [&](int64_t first, int64_t last, int) {
    for (int64_t r = first; r < last; ++r)
      softmax_row(log, o + offsets[static_cast<size_t>(r)].first, x + offsets[static_cast<size_t>(r)].second, n);
  });
}

}  // namespace tg::kernels::cpu
