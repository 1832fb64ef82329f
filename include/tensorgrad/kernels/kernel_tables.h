#pragma once
// Every kernel family's table, and how a device's kernels get into them.
//
// Each family has one function-pointer type and one KernelTable indexed by (op, device, dtype). The tables are
// filled once, on first use (no static initialisers, which static libraries would silently drop), in this
// order: the reference kernels (src/kernels/ref/, scalar, strided, the oracle) for the CPU; then the CPU's
// production kernels (src/kernels/cpu/register.cpp), which replace the ones they cover; then any backend
// registered with register_backend() (a GPU's kernels, or a test's). The entry points in kernels.h only look
// up and call.
#include <tensorgrad/kernels/kernel_table.h>
#include <tensorgrad/kernels/kernels.h>

namespace tg::kernels {

using CopyFn = void (*)(const Shape&, const StridedArg& out, const StridedArg& src, bool accumulate);
using FillFn = void (*)(const Shape&, const StridedArg& out, double value);
using UnaryFn = void (*)(UnaryOp, const Shape&, const StridedArg& out, const StridedArg& in);
using BinaryFn = void (*)(BinaryOp, const Shape&, const StridedArg& out, const StridedArg& a, const StridedArg& b);
using WhereFn = void (*)(const Shape&, const StridedArg& out, const StridedArg& cond, const StridedArg& a,
                         const StridedArg& b);
using MaskedDivideFn = void (*)(const Shape&, const StridedArg& out, const StridedArg& keep, const StridedArg& x,
                                double divisor);
using ReduceFn = void (*)(ReduceOp, const Shape& in_shape, const std::vector<bool>& reduce_dims,
                          const StridedArg& out, const StridedArg& in);
using SoftmaxFn = void (*)(SoftmaxOp, const Shape&, int64_t dim, const StridedArg& out, const StridedArg& in);
// One matmul kernel: an empty epilogue is the plain product.
using MatmulFn = void (*)(const Shape& batch_shape, int64_t m, int64_t n, int64_t k, const StridedArg& c,
                          const StridedArg& a, const StridedArg& b, const MatmulEpilogue& epilogue);
using IndexFn = void (*)(IndexOp, const Shape&, int64_t dim, int64_t dim_size, const StridedArg& out,
                         const StridedArg& in, const StridedArg& index);
// im2col(g, cols, x, pad_value); col2im(g, x, cols, -); max_pool_indices(g, index, x, -).
using WindowFn = void (*)(WindowOp, const WindowGeometry&, const StridedArg& out, const StridedArg& in,
                          double pad_value);
using ConvGemmFn = void (*)(ConvGemmOp, const ConvGemmProblem&, const StridedArg& out, const StridedArg& a,
                            const StridedArg& x, const StridedArg& bias);
using RandomFn = void (*)(RandomOp, const Shape&, const StridedArg& out, const RandomParams& params);
using SequenceFn = void (*)(const Shape&, const StridedArg& out, double start, double step);
using CtcFn = void (*)(const CtcProblem&, const StridedArg& log_probs, const StridedArg& targets,
                       const StridedArg& input_lengths, const StridedArg& target_lengths, const StridedArg& nll,
                       const StridedArg& grad);
using DepthwiseFn = void (*)(const DepthwiseProblem&, const StridedArg& out, const StridedArg& x, const StridedArg& w);
using AttentionFn = void (*)(const AttentionProblem&, const AttentionArgs&);
using LayerNormFn = void (*)(const LayerNormProblem&, const LayerNormArgs&);
using MaxPoolFn = void (*)(const WindowGeometry&, const StridedArg& values, const StridedArg& index,
                           const StridedArg& x);
using SortFn = void (*)(const Shape& in_shape, int64_t dim, int64_t k, bool descending, const StridedArg& values,
                        const StridedArg& indices, const StridedArg& in);
using SgdUpdateFn = void (*)(int64_t n, const SgdCoefficients&, const StridedArg& param, const StridedArg& grad,
                             const StridedArg& momentum_buffer);
using AdamUpdateFn = void (*)(int64_t n, const AdamCoefficients&, const StridedArg& param, const StridedArg& grad,
                              const StridedArg& exp_avg, const StridedArg& exp_avg_sq,
                              const StridedArg& max_exp_avg_sq);

struct KernelTables {
  KernelTable<SingleOp, 1, CopyFn> copy{"copy"};
  KernelTable<SingleOp, 1, FillFn> fill{"fill"};
  KernelTable<UnaryOp, kUnaryOpCount, UnaryFn> unary{"unary"};
  KernelTable<BinaryOp, kBinaryOpCount, BinaryFn> binary{"binary"};
  KernelTable<SingleOp, 1, WhereFn> where{"where"};
  KernelTable<SingleOp, 1, MaskedDivideFn> masked_divide{"masked_divide"};
  KernelTable<ReduceOp, kReduceOpCount, ReduceFn> reduce{"reduction"};
  KernelTable<SoftmaxOp, kSoftmaxOpCount, SoftmaxFn> softmax{"softmax"};
  KernelTable<SingleOp, 1, MatmulFn> matmul{"matmul"};
  KernelTable<IndexOp, kIndexOpCount, IndexFn> index{"index"};
  KernelTable<WindowOp, kWindowOpCount, WindowFn> window{"window"};
  KernelTable<ConvGemmOp, kConvGemmOpCount, ConvGemmFn> conv_gemm{"conv_gemm"};
  KernelTable<RandomOp, kRandomOpCount, RandomFn> random{"random"};
  KernelTable<SingleOp, 1, SequenceFn> sequence{"sequence"};
  KernelTable<SingleOp, 1, CtcFn> ctc{"ctc_loss"};
  KernelTable<SingleOp, 1, SortFn> sort{"sort"};
  KernelTable<SingleOp, 1, MaxPoolFn> max_pool{"max_pool"};
  KernelTable<SingleOp, 1, AttentionFn> attention_forward{"attention_forward"};
  KernelTable<SingleOp, 1, AttentionFn> attention_backward{"attention_backward"};
  KernelTable<SingleOp, 1, LayerNormFn> layer_norm_forward{"layer_norm_forward"};
  KernelTable<SingleOp, 1, LayerNormFn> layer_norm_backward{"layer_norm_backward"};
  KernelTable<SingleOp, 1, DepthwiseFn> depthwise{"depthwise_conv1d"};
  KernelTable<SingleOp, 1, SgdUpdateFn> sgd_update{"sgd_update"};
  KernelTable<SingleOp, 1, AdamUpdateFn> adam_update{"adam_update"};
};

// The tables every entry point dispatches through: reference, then CPU, then registered backends.
const KernelTables& kernel_tables();
// The reference kernels alone (the CPU slots hold ref/ kernels only): the oracle tests and benchmarks compare
// a production kernel against.
const KernelTables& reference_tables();

// Adds a backend's kernels: `register_kernels` is called on the tables now if they are built, else when they
// are, after the CPU's. Call it before that device's first op (the tables are read without a lock); a device
// also needs an allocator (register_allocator in core/allocator.h).
void register_backend(void (*register_kernels)(KernelTables&));

namespace ref {
// Adds every reference kernel, for the CPU (src/kernels/ref/register.cpp).
void register_kernels(KernelTables& t);
}  // namespace ref
namespace cpu {
// Adds the CPU's production kernels over the reference ones (src/kernels/cpu/register.cpp).
void register_kernels(KernelTables& t);
}  // namespace cpu

}  // namespace tg::kernels
