// The CPU's production kernels, registered over the reference ones (ref/register.cpp): every CPU slot that
// has something faster than the reference loop is set here, and only here. Elementwise families are the
// reference (or a vectorised) loop split over threads by parallel_elementwise; the others bring their own
// threading through parallel_for.
#include <atomic>

#include <tensorgrad/kernels/kernel_tables.h>

#include "binary.h"
#include "attention.h"
#include "conv_gemm.h"
#include "ctc.h"
#include "depthwise.h"
#include "layer_norm.h"
#include "fused_update.h"
#include "gemm.h"
#include "half_convert.h"
#include "../half_staging.h"
#include "parallel.h"
#include "random.h"
#include "reduce.h"
#include "scatter.h"
#include "softmax.h"
#include "unary.h"
#include "where.h"
#include "window.h"

namespace tg::kernels::cpu {

namespace {

constexpr DeviceType kCpu = DeviceType::CPU;
constexpr DType kFloatTypes[] = {DType::Float32, DType::Float64};
constexpr DType kComputeTypes[] = {DType::Bool, DType::Int64, DType::Float32, DType::Float64};

// ---- elementwise families: the single-threaded kernel, split over threads ----
// Integer kernels may throw (division by zero), which cannot leave a parallel region: they stay serial.
void copy(const Shape& shape, const StridedArg& out, const StridedArg& src, bool accumulate) {
  if (!accumulate && is_half_conversion(out.dtype, src.dtype)) {
    parallel_elementwise<2>(shape, {&out, &src}, true,
                            [&](const Shape& s, const auto& a) { convert_half(s, *a[0], *a[1]); });
    return;
  }
  const bool may_throw = accumulate && out.dtype == DType::Bool;
  parallel_elementwise<2>(shape, {&out, &src}, !may_throw,
                          [&](const Shape& s, const auto& a) { ref::copy(s, *a[0], *a[1], accumulate); });
}
void fill(const Shape& shape, const StridedArg& out, double value) {
  parallel_elementwise<1>(shape, {&out}, true, [&](const Shape& s, const auto& a) { ref::fill(s, *a[0], value); });
}
void unary_threaded(UnaryOp op, const Shape& shape, const StridedArg& out, const StridedArg& in) {
  parallel_elementwise<2>(shape, {&out, &in}, is_floating(in.dtype),
                          [&](const Shape& s, const auto& a) { cpu::unary(op, s, *a[0], *a[1]); });
}
void binary_threaded(BinaryOp op, const Shape& shape, const StridedArg& out, const StridedArg& a,
                     const StridedArg& b) {
  parallel_elementwise<3>(shape, {&out, &a, &b}, is_floating(a.dtype),
                          [&](const Shape& s, const auto& x) { cpu::binary(op, s, *x[0], *x[1], *x[2]); });
}
void where_threaded(const Shape& shape, const StridedArg& out, const StridedArg& cond, const StridedArg& a,
           const StridedArg& b) {
  parallel_elementwise<4>(shape, {&out, &cond, &a, &b}, true,
                          [&](const Shape& s, const auto& x) { cpu::where(s, *x[0], *x[1], *x[2], *x[3]); });
}
void masked_divide_threaded(const Shape& shape, const StridedArg& out, const StridedArg& keep, const StridedArg& x,
                            double divisor) {
  parallel_elementwise<3>(shape, {&out, &keep, &x}, true,
                          [&](const Shape& s, const auto& a) { cpu::masked_divide(s, *a[0], *a[1], *a[2], divisor); });
}
// gather / scatter_add: every index is checked before any thread starts (a bad one throws with nothing
// written), then blocks of the index tensor's other dimensions run in parallel: max pooling's gradient is
// one scatter_add over the whole activation. `in` has dim_size along `dim`, not the index's size; that stride
// is only ever added per index value, so `dim` is never split. scatter_add_into_zeros along the last dim (max
// pooling's gradient) zeroes and fills out row by row (scatter.cpp), checking each row's indices just before
// it writes the row instead of in a pass of their own (for max pooling's gradient that pass read 25.6 MB of
// positions, ~1 ms of a 36 ms CNN step); a bad one stops the rows and throws the same error afterwards, out
// partly written (kernels.h).
void index(IndexOp op, const Shape& shape, int64_t dim, int64_t dim_size, const StridedArg& out, const StridedArg& in,
           const StridedArg& index) {
  const bool rows = op == IndexOp::ScatterAddIntoZeros && dim == static_cast<int64_t>(shape.size()) - 1;
  if (rows) {
    std::atomic<bool> in_range{true};
    parallel_elementwise<3>(shape, {&out, &in, &index}, true, [&](const Shape& s, const auto& a) {
      if (!in_range.load(std::memory_order_relaxed)) return;
      if (!cpu::scatter_add_rows_into_zeros(s, dim_size, *a[0], *a[1], *a[2])) in_range.store(false);
    }, dim);
    if (!in_range.load()) ref::check_indices(shape, dim, dim_size, index, op_name(op));  // throws, naming the index
    return;
  }
  ref::check_indices(shape, dim, dim_size, index, op_name(op));
  parallel_elementwise<3>(shape, {&out, &in, &index}, true, [&](const Shape& s, const auto& a) {
    ref::index_unchecked(op, s, dim, dim_size, *a[0], *a[1], *a[2]);
  }, dim);
}

// ---- creation: every element a function of its index, so blocks of the fill split freely ----
constexpr int64_t kRandomGrain = int64_t{1} << 14;  // Philox blocks per thread at least
void random(RandomOp op, const Shape& shape, const StridedArg& out, const RandomParams& params) {
  const int64_t n = numel_of(shape);
  const auto blocks = static_cast<int64_t>(random_blocks(op, out.dtype, n));
  parallel_for(blocks, threads_for(blocks, kRandomGrain),
               [&](int64_t first, int64_t last, int) { cpu::random_range(op, out, n, params, first, last); });
}

// CTC: every sample's lengths and labels checked first (a bad one throws with nothing written), then the
// samples spread over threads, each by the scaled recursions (ctc.cpp); a sample's result depends on its own
// data only.
void ctc(const CtcProblem& p, const StridedArg& log_probs, const StridedArg& targets, const StridedArg& input_lengths,
         const StridedArg& target_lengths, const StridedArg& nll, const StridedArg& grad) {
  ref::ctc_check(p, targets, input_lengths, target_lengths);
  const int64_t work = p.time * p.classes * std::max<int64_t>(p.max_target, 1);  // per sample, roughly
  parallel_for(p.batch, threads_for(p.batch * work, int64_t{1} << 16), [&](int64_t first, int64_t last, int) {
    for (int64_t n = first; n < last; ++n)
      cpu::ctc_sample(p, n, log_probs, targets, input_lengths, target_lengths, nll, grad);
  });
}

// sort: rows are independent; blocks of them (every dim but the sorted one) run in parallel.
void sort(const Shape& in_shape, int64_t dim, int64_t k, bool descending, const StridedArg& values,
          const StridedArg& indices, const StridedArg& in) {
  Shape rows = in_shape;
  rows[static_cast<size_t>(dim)] = 1;
  const int64_t n = in_shape[static_cast<size_t>(dim)];
  const bool parallel = is_floating(in.dtype) && numel_of(rows) * n >= 2 * kElementwiseGrain;
  parallel_elementwise<3>(rows, {&values, &indices, &in}, parallel, [&](const Shape& s, const auto& a) {
    Shape block = s;
    block[static_cast<size_t>(dim)] = n;
    ref::sort(block, dim, k, descending, *a[0], *a[1], *a[2]);
  }, dim);
}

}  // namespace

void register_kernels(KernelTables& t) {
  for (int i = 0; i < kNumDTypes; ++i) {  // these three move 16-bit values natively
    const auto d = static_cast<DType>(i);
    t.copy.add(kCpu, d, &copy);
    t.fill.add(kCpu, d, &fill);
    t.where.add(kCpu, d, &where_threaded);
  }
  for (DType d : {DType::Float32, DType::Float64}) t.masked_divide.add(kCpu, d, &masked_divide_threaded);
  for (DType d : kComputeTypes) {
    // Only the slots the reference fills: the rest stay errors.
    for (int op = 0; op < kUnaryOpCount; ++op)
      if (t.unary.supports(static_cast<UnaryOp>(op), kCpu, d)) t.unary.add(static_cast<UnaryOp>(op), kCpu, d, &unary_threaded);
    for (int op = 0; op < kBinaryOpCount; ++op)
      if (t.binary.supports(static_cast<BinaryOp>(op), kCpu, d))
        t.binary.add(static_cast<BinaryOp>(op), kCpu, d, &binary_threaded);
    for (IndexOp op : {IndexOp::Gather, IndexOp::ScatterAdd, IndexOp::ScatterAddIntoZeros})
      if (t.index.supports(op, kCpu, d)) t.index.add(op, kCpu, d, &index);
    for (int op = 0; op < kRandomOpCount; ++op)
      if (t.random.supports(static_cast<RandomOp>(op), kCpu, d)) t.random.add(static_cast<RandomOp>(op), kCpu, d, &random);
  }
  for (DType d : kFloatTypes) {
    for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min}) t.reduce.add(op, kCpu, d, &reduce);
    t.matmul.add(kCpu, d, &matmul);
    for (WindowOp op : {WindowOp::Im2col, WindowOp::Col2im, WindowOp::MaxPoolIndices}) t.window.add(op, kCpu, d, &window);
    for (ConvGemmOp op : {ConvGemmOp::Forward, ConvGemmOp::WeightGrad}) t.conv_gemm.add(op, kCpu, d, &conv_gemm);
    t.sgd_update.add(kCpu, d, &sgd_update);
    t.adam_update.add(kCpu, d, &adam_update);
    t.ctc.add(kCpu, d, &ctc);
    t.sort.add(kCpu, d, &sort);
    t.max_pool.add(kCpu, d, &cpu::max_pool);
    t.depthwise.add(kCpu, d, &depthwise_conv1d);
    t.attention_forward.add(kCpu, d, &cpu::attention_forward);
    t.attention_backward.add(kCpu, d, &cpu::attention_backward);
    t.layer_norm_forward.add(kCpu, d, &cpu::layer_norm_forward);
    t.layer_norm_backward.add(kCpu, d, &cpu::layer_norm_backward);
    for (SoftmaxOp op : {SoftmaxOp::Softmax, SoftmaxOp::LogSoftmax}) t.softmax.add(op, kCpu, d, &softmax);
  }
  for (WindowOp op : {WindowOp::Im2col, WindowOp::Col2im}) t.window.add(op, kCpu, DType::Int64, &window);
  // Last: bfloat16 and float16 compute in the float32 kernels registered above.
  register_half_staging(t, HalfStaging::Production);
  // ... except the GEMM, which converts A and B while packing them (gemm.cpp).
  for (DType d : {DType::BFloat16, DType::Float16}) t.matmul.add(kCpu, d, &matmul);
}

}  // namespace tg::kernels::cpu
