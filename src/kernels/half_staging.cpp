// bfloat16 and float16 kernels for host memory: every family computes a 16-bit op in float32. Each 16-bit
// operand is converted into a contiguous float32 buffer (the cast kernel), the float32 kernel for the same op
// runs on those buffers, and each 16-bit output is rounded back into its strided destination. The float32 kernel
// comes from the tables the adapter was registered for: the reference tables' (ref/, the oracle) or the CPU's
// production ones, so a 16-bit op is checked against the reference like every other. So one float32 kernel
// serves three dtypes, every result is the float32 result rounded once, and integer and bool operands (indices,
// lengths, comparison results) pass through untouched.
//
// What it costs: a read and a write of each 16-bit operand in float32 besides the kernel itself; for the
// elementwise families that is most of the time, for GEMM, convolution and CTC next to nothing. copy, fill and
// where are not here: they move 16-bit values natively (ref/copy.cpp, ref/binary.cpp).
#include "half_staging.h"

#include <tensorgrad/core/allocator.h>

#include <algorithm>


namespace tg::kernels {

Staged::Staged(const Shape& shape, const StridedArg& operand, bool load) : shape_(shape), operand_(operand) {
  if (operand.data == nullptr || !is_half(operand.dtype)) {
    staged_ = operand;
    return;
  }
  // The CPU allocator's cached blocks: no page faults and no zero fill for a buffer of every call's size.
  bytes_ = static_cast<size_t>(std::max<int64_t>(numel_of(shape), 1)) * sizeof(float);
  buffer_ = cpu_allocator().allocate(bytes_);
  staged_.data = buffer_;
  staged_.strides = contiguous_strides(shape);
  staged_.dtype = DType::Float32;
  staged_.device = operand.device;
  if (load) copy(shape, staged_, operand);
}

Staged::~Staged() {
  if (buffer_ != nullptr) cpu_allocator().deallocate(buffer_, bytes_);
}

StridedArg Staged::with_strides(Strides strides) const {
  StridedArg a = staged_;
  a.strides = std::move(strides);
  return a;
}

void Staged::store() const {
  if (buffer_ != nullptr) copy(shape_, operand_, staged_);
}

StagedEpilogue::StagedEpilogue(const MatmulEpilogue& epilogue, int64_t n, DType dtype, DeviceType device)
    : epilogue_(epilogue) {
  if (epilogue.bias == nullptr) return;
  bias_.emplace(Shape{n}, StridedArg{const_cast<void*>(epilogue.bias), {epilogue.bias_stride}, dtype, device}, true);
  epilogue_.bias = bias_->arg().data;
  epilogue_.bias_stride = 1;
}

namespace {

constexpr DeviceType kCpu = DeviceType::CPU;
using TablesFn = const KernelTables& (*)();

// The float32 kernel of a family's op in the tables the adapter serves (Tables: kernel_tables or
// reference_tables).
template <class Table, class Op>
auto float32_kernel(const Table& table, Op op) {
  return table.find(op, kCpu, DType::Float32);
}

template <TablesFn Tables>
void staged_unary(UnaryOp op, const Shape& shape, const StridedArg& out, const StridedArg& in) {
  const Staged x(shape, in, true), y(shape, out, false);
  float32_kernel(Tables().unary, op)(op, shape, y.arg(), x.arg());
  y.store();
}

template <TablesFn Tables>
void staged_binary(BinaryOp op, const Shape& shape, const StridedArg& out, const StridedArg& a, const StridedArg& b) {
  const Staged x(shape, a, true), w(shape, b, true), y(shape, out, false);
  float32_kernel(Tables().binary, op)(op, shape, y.arg(), x.arg(), w.arg());
  y.store();
}

template <TablesFn Tables>
void staged_reduce(ReduceOp op, const Shape& in_shape, const std::vector<bool>& reduce_dims, const StridedArg& out,
            const StridedArg& in) {
  Shape out_shape = in_shape;
  for (size_t d = 0; d < in_shape.size(); ++d)
    if (reduce_dims[d]) out_shape[d] = 1;
  // `out` strides over in_shape (zero where reduced); over out_shape the same strides address the same elements.
  const Staged x(in_shape, in, true), y(out_shape, out, false);
  Strides y_strides = y.arg().strides;
  for (size_t d = 0; d < in_shape.size(); ++d)
    if (reduce_dims[d]) y_strides[d] = 0;
  float32_kernel(Tables().reduce, op)(op, in_shape, reduce_dims, y.with_strides(std::move(y_strides)),
                                             x.arg());
  y.store();
}

template <TablesFn Tables>
void staged_softmax(SoftmaxOp op, const Shape& shape, int64_t dim, const StridedArg& out, const StridedArg& in) {
  const Staged x(shape, in, true), y(shape, out, false);
  float32_kernel(Tables().softmax, op)(op, shape, dim, y.arg(), x.arg());
  y.store();
}

template <TablesFn Tables>
void staged_matmul(const Shape& batch_shape, int64_t m, int64_t n, int64_t k, const StridedArg& c, const StridedArg& a,
            const StridedArg& b, const MatmulEpilogue& epilogue) {
  const Staged x(matrix_shape(batch_shape, m, k), a, true), w(matrix_shape(batch_shape, k, n), b, true);
  const Staged y(matrix_shape(batch_shape, m, n), c, false);
  const StagedEpilogue e(epilogue, n, c.dtype, c.device);
  Tables().matmul.find(kCpu, DType::Float32)(batch_shape, m, n, k, y.arg(), x.arg(), w.arg(), e.get());
  y.store();
}

template <TablesFn Tables>
void staged_index(IndexOp op, const Shape& shape, int64_t dim, int64_t dim_size, const StridedArg& out, const StridedArg& in,
           const StridedArg& index) {
  // The operand indexed along `dim` (gather's input, scatter_add's output) has dim_size entries there.
  Shape indexed = shape;
  indexed[static_cast<size_t>(dim)] = dim_size;
  const bool gather = op == IndexOp::Gather;
  const Staged src(gather ? indexed : shape, in, true);
  const Staged y(gather ? shape : indexed, out, !gather);  // scatter_add accumulates into out
  float32_kernel(Tables().index, op)(op, shape, dim, dim_size, y.arg(), src.arg(), index);
  y.store();
}

template <TablesFn Tables>
void staged_window(WindowOp op, const WindowGeometry& g, const StridedArg& out, const StridedArg& in, double pad_value) {
  const Shape image{g.batch, g.channels, g.in_h, g.in_w};
  const Shape cols{g.batch, g.channels * g.kernel_h * g.kernel_w, g.out_h * g.out_w};
  const Shape positions{g.batch, g.channels, g.out_h * g.out_w};
  // im2col: image -> cols; col2im: cols -> image; max_pool_indices: image -> int64 positions.
  const Shape& in_shape = op == WindowOp::Col2im ? cols : image;
  const Shape& out_shape = op == WindowOp::Im2col ? cols : op == WindowOp::Col2im ? image : positions;
  const Staged x(in_shape, in, true), y(out_shape, out, false);
  float32_kernel(Tables().window, op)(op, g, y.arg(), x.arg(), pad_value);
  y.store();
}

template <TablesFn Tables>
void staged_random(RandomOp op, const Shape& shape, const StridedArg& out, const RandomParams& params) {
  // The same draws as a float32 fill (one per element), rounded.
  const Staged y(shape, out, false);
  float32_kernel(Tables().random, op)(op, shape, y.arg(), params);
  y.store();
}

template <TablesFn Tables>
void staged_sequence(const Shape& shape, const StridedArg& out, double start, double step) {
  const Staged y(shape, out, false);
  Tables().sequence.find(kCpu, DType::Float32)(shape, y.arg(), start, step);
  y.store();
}

template <TablesFn Tables>
void staged_ctc(const CtcProblem& p, const StridedArg& log_probs, const StridedArg& targets, const StridedArg& input_lengths,
         const StridedArg& target_lengths, const StridedArg& nll, const StridedArg& grad) {
  const Shape tnc{p.time, p.batch, p.classes};
  const Staged x(tnc, log_probs, true), loss(Shape{p.batch}, nll, false), g(tnc, grad, false);
  Tables().ctc.find(kCpu, DType::Float32)(p, x.arg(), targets, input_lengths, target_lengths, loss.arg(),
                                                 g.arg());
  loss.store();
  g.store();
}

template <TablesFn Tables>
void staged_sort(const Shape& in_shape, int64_t dim, int64_t k, bool descending, const StridedArg& values,
                 const StridedArg& indices, const StridedArg& in) {
  Shape out_shape = in_shape;
  out_shape[static_cast<size_t>(dim)] = k;
  const Staged x(in_shape, in, true), v(out_shape, values, false);
  Tables().sort.find(kCpu, DType::Float32)(in_shape, dim, k, descending, v.arg(), indices, x.arg());
  v.store();
}

template <TablesFn Tables>
void staged_depthwise(const DepthwiseProblem& p, const StridedArg& out, const StridedArg& x, const StridedArg& w) {
  const Staged xs(Shape{p.batch, p.channels, p.length}, x, true), ws(Shape{p.channels, p.kernel}, w, true);
  const Staged y(Shape{p.batch, p.channels, p.out_length}, out, false);
  Tables().depthwise.find(kCpu, DType::Float32)(p, y.arg(), xs.arg(), ws.arg());
  y.store();
}

// Attention: q, k, v (and an additive mask, grad_out, out) staged; lse is float32 already for 16-bit inputs.
template <TablesFn Tables, bool kBackward>
void staged_attention(const AttentionProblem& p, const AttentionArgs& a) {
  const Shape qs = matrix_shape(p.batch, p.queries, p.head_dim), ks = matrix_shape(p.batch, p.keys, p.head_dim);
  const Shape vs = matrix_shape(p.batch, p.keys, p.value_dim), os = matrix_shape(p.batch, p.queries, p.value_dim);
  const Staged q(qs, a.q, true), k(ks, a.k, true), v(vs, a.v, true);
  const Staged mask(matrix_shape(p.batch, p.queries, p.keys), a.mask, true);
  const Staged out(os, a.out, kBackward);
  AttentionArgs f{.q = q.arg(), .k = k.arg(), .v = v.arg(), .mask = mask.arg(), .out = out.arg(), .lse = a.lse};
  if constexpr (kBackward) {
    const Staged go(os, a.grad_out, true), gq(qs, a.grad_q, false), gk(ks, a.grad_k, false), gv(vs, a.grad_v, false);
    f.grad_out = go.arg();
    f.grad_q = gq.arg();
    f.grad_k = gk.arg();
    f.grad_v = gv.arg();
    Tables().attention_backward.find(kCpu, DType::Float32)(p, f);
    gq.store();
    gk.store();
    gv.store();
  } else {
    Tables().attention_forward.find(kCpu, DType::Float32)(p, f);
    out.store();
  }
}

// The updates read and write every buffer they are given (a null one stays null).
template <TablesFn Tables>
void staged_sgd_update(int64_t n, const SgdCoefficients& c, const StridedArg& param, const StridedArg& grad,
                const StridedArg& momentum_buffer) {
  const Shape s{n};
  const Staged p(s, param, true), g(s, grad, true), buf(s, momentum_buffer, true);
  Tables().sgd_update.find(kCpu, DType::Float32)(n, c, p.arg(), g.arg(), buf.arg());
  p.store();
  buf.store();
}

template <TablesFn Tables>
void staged_adam_update(int64_t n, const AdamCoefficients& c, const StridedArg& param, const StridedArg& grad,
                 const StridedArg& exp_avg, const StridedArg& exp_avg_sq, const StridedArg& max_exp_avg_sq) {
  const Shape s{n};
  const Staged p(s, param, true), g(s, grad, true), m(s, exp_avg, true), v(s, exp_avg_sq, true),
      vmax(s, max_exp_avg_sq, true);
  Tables().adam_update.find(kCpu, DType::Float32)(n, c, p.arg(), g.arg(), m.arg(), v.arg(), vmax.arg());
  p.store();
  m.store();
  v.store();
  vmax.store();
}

// Sets (op, CPU, d) for every op whose float32 kernel exists.
template <class Table, class Fn>
void add_where_float32(Table& table, DType d, Fn fn) {
  for (int i = 0; i < Table::kOpCount; ++i) {
    const auto op = static_cast<typename Table::OpType>(i);
    if (table.supports(op, kCpu, DType::Float32)) table.add(op, kCpu, d, fn);
  }
}

template <TablesFn Tables>
void add_staged(KernelTables& t) {
  for (DType d : {DType::BFloat16, DType::Float16}) {
    add_where_float32(t.unary, d, &staged_unary<Tables>);
    add_where_float32(t.binary, d, &staged_binary<Tables>);
    add_where_float32(t.reduce, d, &staged_reduce<Tables>);
    add_where_float32(t.softmax, d, &staged_softmax<Tables>);
    add_where_float32(t.matmul, d, &staged_matmul<Tables>);
    add_where_float32(t.index, d, &staged_index<Tables>);
    add_where_float32(t.window, d, &staged_window<Tables>);
    add_where_float32(t.random, d, &staged_random<Tables>);
    add_where_float32(t.sequence, d, &staged_sequence<Tables>);
    add_where_float32(t.ctc, d, &staged_ctc<Tables>);
    add_where_float32(t.sort, d, &staged_sort<Tables>);
    add_where_float32(t.depthwise, d, &staged_depthwise<Tables>);
    add_where_float32(t.attention_forward, d, &staged_attention<Tables, false>);
    add_where_float32(t.attention_backward, d, &staged_attention<Tables, true>);
    add_where_float32(t.sgd_update, d, &staged_sgd_update<Tables>);
    add_where_float32(t.adam_update, d, &staged_adam_update<Tables>);
  }
}

}  // namespace

void register_half_staging(KernelTables& t, HalfStaging over) {
  if (over == HalfStaging::Reference) add_staged<&reference_tables>(t);
  else add_staged<&kernel_tables>(t);
}

}  // namespace tg::kernels
