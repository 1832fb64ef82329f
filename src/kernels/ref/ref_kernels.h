#pragma once
// Reference (scalar, strided) CPU kernels: correct for every layout, and the oracle faster kernels are
// checked against. Each file registers its family into the tables.
#include <type_traits>

#include <tensorgrad/kernels/kernels.h>
#include <tensorgrad/kernels/registry.h>

namespace tg::kernels {

using CopyFn = void (*)(const Shape&, const StridedArg&, const StridedArg&, bool);
using FillFn = void (*)(const Shape&, const StridedArg&, double);
using UnaryFn = void (*)(UnaryOp, const Shape&, const StridedArg&, const StridedArg&);
using BinaryFn = void (*)(BinaryOp, const Shape&, const StridedArg&, const StridedArg&, const StridedArg&);
using WhereFn = void (*)(const Shape&, const StridedArg&, const StridedArg&, const StridedArg&, const StridedArg&);
using ReduceFn = void (*)(ReduceOp, const Shape&, const std::vector<bool>&, const StridedArg&, const StridedArg&);
using SoftmaxFn = void (*)(const Shape&, int64_t, bool, const StridedArg&, const StridedArg&);
using MatmulFn = void (*)(const Shape&, int64_t, int64_t, int64_t, const StridedArg&, const StridedArg&,
                          const StridedArg&);
using MatmulFusedFn = void (*)(const Shape&, int64_t, int64_t, int64_t, const StridedArg&, const StridedArg&,
                               const StridedArg&, const MatmulEpilogue&);
using IndexFn = void (*)(const Shape&, int64_t, int64_t, const StridedArg&, const StridedArg&, const StridedArg&);
using Im2colFn = void (*)(const WindowGeometry&, const StridedArg&, const StridedArg&, double);
using Col2imFn = void (*)(const WindowGeometry&, const StridedArg&, const StridedArg&);
using MaxPoolIndicesFn = void (*)(const WindowGeometry&, const StridedArg&, const StridedArg&);

struct KernelTables {
  KernelTable<CopyFn> copy{"copy"};
  KernelTable<FillFn> fill{"fill"};
  KernelTable<UnaryFn> unary{"unary"};
  KernelTable<BinaryFn> binary{"binary"};
  KernelTable<WhereFn> where{"where"};
  KernelTable<ReduceFn> reduce{"reduction"};
  KernelTable<SoftmaxFn> softmax{"softmax"};
  KernelTable<MatmulFn> matmul{"matmul"};
  KernelTable<MatmulFusedFn> matmul_fused{"fused matmul"};
  KernelTable<IndexFn> gather{"gather"};
  KernelTable<IndexFn> scatter_add{"scatter_add"};
  KernelTable<Im2colFn> im2col{"im2col"};
  KernelTable<Col2imFn> col2im{"col2im"};
  KernelTable<MaxPoolIndicesFn> max_pool_indices{"max_pool_indices"};
};

// Turns a run-time op into a compile-time constant, so each op gets its own specialised inner loop.
template <class Enum, int Count, int I = 0, class F>
void visit_op(Enum op, F&& f) {
  if constexpr (I < Count) {
    if (static_cast<int>(op) == I) return f(std::integral_constant<Enum, static_cast<Enum>(I)>{});
    visit_op<Enum, Count, I + 1>(op, f);
  }
}

namespace ref {
void register_copy(KernelTables& t);
void register_unary(KernelTables& t);
void register_binary(KernelTables& t);
void register_reduce(KernelTables& t);
void register_softmax(KernelTables& t);
void register_matmul(KernelTables& t);
void register_index(KernelTables& t);
void register_im2col(KernelTables& t);
void register_pool(KernelTables& t);
// The reference binary kernel itself (float and double), for fast kernels to fall back on.
template <class T>
void binary_strided(BinaryOp op, const Shape& shape, const StridedArg& out, const StridedArg& a, const StridedArg& b);
// The reference reduction itself, for fast kernels to fall back on for layouts they do not cover.
template <class T>
void reduce_strided(ReduceOp op, const Shape& in_shape, const std::vector<bool>& reduce_dims, const StridedArg& out,
                    const StridedArg& in);
}  // namespace ref

}  // namespace tg::kernels
