#pragma once
// Reference (scalar, strided, single-threaded) kernels: correct for every layout, and the oracle every faster
// kernel is checked against. Each family file registers what it covers for the CPU (ref/register.cpp calls
// them all); the CPU's production kernels reuse a few of them as fallbacks for layouts they do not cover.
#include <type_traits>

#include <tensorgrad/kernels/kernel_tables.h>

namespace tg::kernels {

// Turns a run-time op into a compile-time constant, so each op gets its own specialised inner loop.
template <class Enum, int Count, int I = 0, class F>
void visit_op(Enum op, F&& f) {
  if constexpr (I < Count) {
    if (static_cast<int>(op) == I) return f(std::integral_constant<Enum, static_cast<Enum>(I)>{});
    visit_op<Enum, Count, I + 1>(op, f);
  }
}

namespace ref {
void register_copy(KernelTables& t);      // copy, fill
void register_unary(KernelTables& t);
void register_binary(KernelTables& t);    // binary, where, masked_divide
void register_reduce(KernelTables& t);
void register_softmax(KernelTables& t);
void register_matmul(KernelTables& t);
void register_index(KernelTables& t);     // gather, scatter_add, scatter_add_into_zeros
void register_window(KernelTables& t);    // im2col, col2im, max_pool_indices, max_pool
void register_conv_gemm(KernelTables& t); // conv_gemm (forward, weight gradient)
void register_creation(KernelTables& t);  // random, sequence
void register_optimizer(KernelTables& t); // sgd_update, adam_update
void register_ctc(KernelTables& t);
void register_sort(KernelTables& t);
void register_depthwise(KernelTables& t);
void register_attention(KernelTables& t);  // attention_forward, attention_backward
void register_layer_norm(KernelTables& t);  // layer_norm_forward, layer_norm_backward

// The offset of flat batch entry `flat` (row-major over `batch`) through the leading batch.size() strides.
inline int64_t batch_offset(const Shape& batch, int64_t flat, const Strides& strides) {
  int64_t offset = 0;
  for (size_t d = batch.size(); d-- > 0;) {
    offset += (flat % batch[d]) * strides[d];
    flat /= batch[d];
  }
  return offset;
}

// The reference kernels the CPU's production kernels call directly, for layouts or ops they do not cover.
void copy(const Shape& shape, const StridedArg& out, const StridedArg& src, bool accumulate);
void fill(const Shape& shape, const StridedArg& out, double value);
void unary(UnaryOp op, const Shape& shape, const StridedArg& out, const StridedArg& in);
void binary(BinaryOp op, const Shape& shape, const StridedArg& out, const StridedArg& a, const StridedArg& b);
void where(const Shape& shape, const StridedArg& out, const StridedArg& cond, const StridedArg& a,
           const StridedArg& b);
void masked_divide(const Shape& shape, const StridedArg& out, const StridedArg& keep, const StridedArg& x,
                   double divisor);
void softmax(SoftmaxOp op, const Shape& shape, int64_t dim, const StridedArg& out, const StridedArg& in);
void reduce(ReduceOp op, const Shape& in_shape, const std::vector<bool>& reduce_dims, const StridedArg& out,
            const StridedArg& in);
void index(IndexOp op, const Shape& shape, int64_t dim, int64_t dim_size, const StridedArg& out,
           const StridedArg& in, const StridedArg& index);
void random(RandomOp op, const Shape& shape, const StridedArg& out, const RandomParams& params);
void sequence(const Shape& shape, const StridedArg& out, double start, double step);
// Blocks [first_block, last_block) of a random fill of n elements (element i of the fill at out.data[i]).
void random_range(RandomOp op, const StridedArg& out, int64_t n, const RandomParams& params, int64_t first_block,
                  int64_t last_block);
// CTC: the checks of every sample's lengths and labels (throws), then one sample's nll and gradient; the CPU
// kernel runs the samples on several threads.
void ctc_check(const CtcProblem& p, const StridedArg& targets, const StridedArg& input_lengths,
               const StridedArg& target_lengths);
// lengths[n] of a 1-D int64 operand (CTC's input and target lengths).
int64_t length_at(const StridedArg& lengths, int64_t n);
// Sample n's extended label sequence: blank, l1, blank, l2, ..., blank (2 * length + 1 states).
std::vector<int64_t> ctc_extended_labels(const CtcProblem& p, int64_t n, const StridedArg& targets,
                                         const StridedArg& target_lengths);
void ctc_sample(const CtcProblem& p, int64_t n, const StridedArg& log_probs, const StridedArg& targets,
                const StridedArg& input_lengths, const StridedArg& target_lengths, const StridedArg& nll,
                const StridedArg& grad);
void sort(const Shape& in_shape, int64_t dim, int64_t k, bool descending, const StridedArg& values,
          const StridedArg& indices, const StridedArg& in);
void layer_norm_forward(const LayerNormProblem& p, const LayerNormArgs& a);
void layer_norm_backward(const LayerNormProblem& p, const LayerNormArgs& a);
// index() without the index check: for callers that have checked them all already.
void index_unchecked(IndexOp op, const Shape& shape, int64_t dim, int64_t dim_size, const StridedArg& out,
                     const StridedArg& in, const StridedArg& index);
// Throws tg::Error naming `op` when an index of `index` (over `shape`) is outside [0, dim_size).
void check_indices(const Shape& shape, int64_t dim, int64_t dim_size, const StridedArg& index, const char* op);
}  // namespace ref

}  // namespace tg::kernels
