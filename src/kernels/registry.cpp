#include <array>

#include "cpu/binary.h"
#include "cpu/gemm.h"
#include "cpu/parallel_elementwise.h"
#include "cpu/reduce.h"
#include "cpu/unary.h"
#include "ref/ref_kernels.h"

namespace tg::kernels {

namespace {

const KernelTables& tables() {
  static const KernelTables t = [] {
    KernelTables k;
    ref::register_copy(k);
    ref::register_unary(k);
    ref::register_binary(k);
    ref::register_reduce(k);
    ref::register_softmax(k);
    ref::register_matmul(k);
    ref::register_index(k);
    ref::register_im2col(k);
    ref::register_pool(k);
    // Faster CPU kernels replace the reference ones they cover (ref stays callable directly, as the oracle).
    cpu::register_gemm(k);
    cpu::register_binary(k);
    cpu::register_reduce(k);
    cpu::register_unary(k);
    return k;
  }();
  return t;
}

constexpr DeviceType kCpu = DeviceType::CPU;
constexpr int kReduceOpCount = 6;

// The per-call families resolved once into flat arrays indexed by (op, dtype), so dispatching a small op
// costs an array read instead of a std::map lookup keyed by a string. Built from tables() (which stays the
// one place kernels are registered, and answers the supports() queries); an empty slot falls back to the
// table's find(), which throws its usual message.
struct FlatTables {
  std::array<CopyFn, kNumDTypes> copy{};
  std::array<FillFn, kNumDTypes> fill{};
  std::array<UnaryFn, kUnaryOpCount * kNumDTypes> unary{};
  std::array<BinaryFn, kBinaryOpCount * kNumDTypes> binary{};
  std::array<WhereFn, kNumDTypes> where{};
  std::array<ReduceFn, kReduceOpCount * kNumDTypes> reduce{};
};

template <class Fn>
Fn flat_entry(const KernelTable<Fn>& table, const char* op, DType dtype) {
  return table.supports(op, kCpu, dtype) ? table.find(op, kCpu, dtype) : nullptr;
}

const FlatTables& flat() {
  static const FlatTables f = [] {
    const KernelTables& t = tables();
    FlatTables k;
    for (int d = 0; d < kNumDTypes; ++d) {
      const auto dtype = static_cast<DType>(d);
      k.copy[static_cast<size_t>(d)] = flat_entry(t.copy, "copy", dtype);
      k.fill[static_cast<size_t>(d)] = flat_entry(t.fill, "fill", dtype);
      k.where[static_cast<size_t>(d)] = flat_entry(t.where, "where", dtype);
      for (int op = 0; op < kUnaryOpCount; ++op)
        k.unary[static_cast<size_t>(op * kNumDTypes + d)] = flat_entry(t.unary, op_name(static_cast<UnaryOp>(op)), dtype);
      for (int op = 0; op < kBinaryOpCount; ++op)
        k.binary[static_cast<size_t>(op * kNumDTypes + d)] =
            flat_entry(t.binary, op_name(static_cast<BinaryOp>(op)), dtype);
      for (int op = 0; op < kReduceOpCount; ++op)
        k.reduce[static_cast<size_t>(op * kNumDTypes + d)] =
            flat_entry(t.reduce, op_name(static_cast<ReduceOp>(op)), dtype);
    }
    return k;
  }();
  return f;
}

// The flat entry for slot (op, dtype), or the table's lookup (which throws) when there is none.
template <class Fn, size_t N>
Fn lookup(const std::array<Fn, N>& flat_table, int op, DType dtype, const KernelTable<Fn>& table, const char* name) {
  const Fn fn = flat_table[static_cast<size_t>(op * kNumDTypes + static_cast<int>(dtype))];
  if (fn != nullptr) [[likely]] return fn;
  return table.find(name, kCpu, dtype);
}

}  // namespace

const char* op_name(UnaryOp op) {
  static constexpr const char* kNames[] = {"neg",     "abs",  "exp",  "log",  "log1p",  "sqrt",
                                           "rsqrt",   "sin",  "cos",  "tanh", "sigmoid", "relu",
                                           "gelu",    "silu", "square", "reciprocal", "sign", "erf"};
  static_assert(std::size(kNames) == kUnaryOpCount, "name every unary op");
  return kNames[static_cast<int>(op)];
}

const char* op_name(BinaryOp op) {
  static constexpr const char* kNames[] = {"add", "sub", "mul", "div", "pow", "maximum", "minimum", "relu_grad",
                                           "eq",  "ne",  "lt",  "le",  "gt",  "ge"};
  static_assert(std::size(kNames) == kBinaryOpCount, "name every binary op");
  return kNames[static_cast<int>(op)];
}

const char* op_name(ReduceOp op) {
  static constexpr const char* kNames[] = {"sum", "prod", "max", "min", "argmax", "argmin"};
  static_assert(std::size(kNames) == kReduceOpCount, "name every reduce op");
  return kNames[static_cast<int>(op)];
}

bool unary_supports_integers(UnaryOp op) {
  return op == UnaryOp::Neg || op == UnaryOp::Abs || op == UnaryOp::Relu || op == UnaryOp::Square ||
         op == UnaryOp::Sign;
}

void copy(const Shape& shape, const StridedArg& out, const StridedArg& src, bool accumulate) {
  const CopyFn fn = lookup(flat().copy, 0, src.dtype, tables().copy, "copy");
  const bool may_throw = accumulate && out.dtype == DType::Bool;
  cpu::parallel_elementwise<2>(shape, {&out, &src}, !may_throw, [&](const Shape& s, const auto& a) {
    fn(s, *a[0], *a[1], accumulate);
  });
}
void fill(const Shape& shape, const StridedArg& out, double value) {
  const FillFn fn = lookup(flat().fill, 0, out.dtype, tables().fill, "fill");
  cpu::parallel_elementwise<1>(shape, {&out}, true, [&](const Shape& s, const auto& a) { fn(s, *a[0], value); });
}
void unary(UnaryOp op, const Shape& shape, const StridedArg& out, const StridedArg& in) {
  const UnaryFn fn = lookup(flat().unary, static_cast<int>(op), in.dtype, tables().unary, op_name(op));
  cpu::parallel_elementwise<2>(shape, {&out, &in}, is_floating(in.dtype), [&](const Shape& s, const auto& a) {
    fn(op, s, *a[0], *a[1]);
  });
}
void binary(BinaryOp op, const Shape& shape, const StridedArg& out, const StridedArg& a, const StridedArg& b) {
  const BinaryFn fn = lookup(flat().binary, static_cast<int>(op), a.dtype, tables().binary, op_name(op));
  cpu::parallel_elementwise<3>(shape, {&out, &a, &b}, is_floating(a.dtype), [&](const Shape& s, const auto& x) {
    fn(op, s, *x[0], *x[1], *x[2]);
  });
}
void where(const Shape& shape, const StridedArg& out, const StridedArg& cond, const StridedArg& a,
           const StridedArg& b) {
  const WhereFn fn = lookup(flat().where, 0, a.dtype, tables().where, "where");
  cpu::parallel_elementwise<4>(shape, {&out, &cond, &a, &b}, true, [&](const Shape& s, const auto& x) {
    fn(s, *x[0], *x[1], *x[2], *x[3]);
  });
}
void reduce(ReduceOp op, const Shape& in_shape, const std::vector<bool>& reduce_dims, const StridedArg& out,
            const StridedArg& in) {
  lookup(flat().reduce, static_cast<int>(op), in.dtype, tables().reduce, op_name(op))(op, in_shape, reduce_dims, out,
                                                                                        in);
}
void softmax(const Shape& shape, int64_t dim, bool log, const StridedArg& out, const StridedArg& in) {
  tables().softmax.find(log ? "log_softmax" : "softmax", kCpu, in.dtype)(shape, dim, log, out, in);
}
void matmul(const Shape& batch_shape, int64_t m, int64_t n, int64_t k, const StridedArg& c, const StridedArg& a,
            const StridedArg& b) {
  tables().matmul.find("matmul", kCpu, a.dtype)(batch_shape, m, n, k, c, a, b);
}
void matmul_fused(const Shape& batch_shape, int64_t m, int64_t n, int64_t k, const StridedArg& c,
                  const StridedArg& a, const StridedArg& b, const MatmulEpilogue& epilogue) {
  tables().matmul_fused.find("matmul_fused", kCpu, a.dtype)(batch_shape, m, n, k, c, a, b, epilogue);
}
const char* activation_name(Activation act) {
  switch (act) {
    case Activation::None: return "none";
    case Activation::Relu: return "relu";
    case Activation::Gelu: return "gelu";
  }
  return "?";
}
// Both split the index tensor's other dimensions across threads (max pooling's gradient is one scatter_add
// over the whole activation). An out-of-range index throws, so the indices are checked before any thread starts.
static void check_indices(const Shape& shape, int64_t dim, int64_t dim_size, const StridedArg& index, const char* op) {
  const auto* idx = static_cast<const int64_t*>(index.data);
  for_each_run<1>(shape, {index.strides.data()}, [&](int64_t n, auto off, auto st) {
    for (int64_t i = 0; i < n; ++i) {
      const int64_t j = idx[off[0] + i * st[0]];
      TG_CHECK(j >= 0 && j < dim_size, op, ": index ", j, " out of range for dimension ", dim, " of size ", dim_size);
    }
  });
}
void gather(const Shape& shape, int64_t dim, int64_t dim_size, const StridedArg& out, const StridedArg& in,
            const StridedArg& index) {
  const IndexFn fn = tables().gather.find("gather", kCpu, in.dtype);
  check_indices(shape, dim, dim_size, index, "tg::gather");
  // `in` has dim_size along `dim`, not the index's size; that stride is only ever added per index value.
  cpu::parallel_elementwise<3>(shape, {&out, &in, &index}, true, [&](const Shape& s, const auto& a) {
    fn(s, dim, dim_size, *a[0], *a[1], *a[2]);
  }, dim);
}
void scatter_add(const Shape& shape, int64_t dim, int64_t dim_size, const StridedArg& out, const StridedArg& src,
                 const StridedArg& index) {
  const IndexFn fn = tables().scatter_add.find("scatter_add", kCpu, src.dtype);
  check_indices(shape, dim, dim_size, index, "tg::scatter_add");
  cpu::parallel_elementwise<3>(shape, {&out, &src, &index}, true, [&](const Shape& s, const auto& a) {
    fn(s, dim, dim_size, *a[0], *a[1], *a[2]);
  }, dim);
}
void im2col(const WindowGeometry& g, const StridedArg& cols, const StridedArg& x, double pad_value) {
  tables().im2col.find("im2col", kCpu, x.dtype)(g, cols, x, pad_value);
}
void col2im(const WindowGeometry& g, const StridedArg& x, const StridedArg& cols) {
  tables().col2im.find("col2im", kCpu, cols.dtype)(g, x, cols);
}
void max_pool_indices(const WindowGeometry& g, const StridedArg& index, const StridedArg& x) {
  tables().max_pool_indices.find("max_pool_indices", kCpu, x.dtype)(g, index, x);
}

}  // namespace tg::kernels
