#pragma once
// The kernel layer's entry points (implemented in src/kernels/kernels.cpp). Kernels see raw pointers, shapes
// and strides, never Tensor or autograd. Each entry point looks up (op, device, dtype) in its family's table
// (kernel_tables.h), the device being the output operand's, so a faster kernel or another device's plugs in
// by registering, without any change above this layer. Operands on different devices are an error.
#include <cstdint>

#include <tensorgrad/kernels/strided_loop.h>

namespace tg::kernels {

// The complete op lists of each family; each count sits beside its enum and sizes the family's table and
// name list (a static_assert in kernel_tables.cpp fails when they disagree).
enum class UnaryOp : uint8_t {
  Neg, Abs, Exp, Log, Log1p, Sqrt, Rsqrt, Sin, Cos, Tanh, Sigmoid, Relu, Gelu, Silu, Square, Reciprocal, Sign, Erf,
  Floor, Ceil, Round,  // Round: half to even, as torch.round
};
inline constexpr int kUnaryOpCount = 21;
// ReluGrad(g, x) = x > 0 ? g : 0, relu's gradient in one pass (no mask tensor, no cast). SiluGrad(g, x) =
// g * s (1 + x (1 - s)) with s = sigmoid(x), silu's gradient in one pass (floating dtypes only); it comes after
// the comparisons so that ops 0-13 keep the codes the CUDA kernels were built for (src/cuda/elementwise.cu).
enum class BinaryOp : uint8_t {
  Add, Sub, Mul, Div, Pow, Maximum, Minimum, ReluGrad, Eq, Ne, Lt, Le, Gt, Ge, SiluGrad,
};
inline constexpr int kBinaryOpCount = 15;
enum class ReduceOp : uint8_t { Sum, Prod, Max, Min, ArgMax, ArgMin };
inline constexpr int kReduceOpCount = 6;
enum class SoftmaxOp : uint8_t { Softmax, LogSoftmax };
inline constexpr int kSoftmaxOpCount = 2;
enum class IndexOp : uint8_t { Gather, ScatterAdd, ScatterAddIntoZeros };
inline constexpr int kIndexOpCount = 3;
enum class WindowOp : uint8_t { Im2col, Col2im, MaxPoolIndices };
inline constexpr int kWindowOpCount = 3;
// Convolution as an implicit GEMM (see conv_gemm()).
enum class ConvGemmOp : uint8_t { Forward, WeightGrad };
inline constexpr int kConvGemmOpCount = 2;
// Counter-based random fills (see random()).
enum class RandomOp : uint8_t { Uniform, Normal, Integer, Bernoulli };
inline constexpr int kRandomOpCount = 4;

const char* op_name(UnaryOp op);
const char* op_name(BinaryOp op);
const char* op_name(ReduceOp op);
const char* op_name(SoftmaxOp op);
const char* op_name(IndexOp op);
const char* op_name(WindowOp op);
const char* op_name(ConvGemmOp op);
const char* op_name(RandomOp op);
inline bool is_comparison(BinaryOp op) { return op >= BinaryOp::Eq && op <= BinaryOp::Ge; }
// Which unary ops are defined on int64 (the rest need a floating input).
bool unary_supports_integers(UnaryOp op);

// out = src (cast to out's dtype), or out += src when `accumulate`; both over `shape`.
void copy(const Shape& shape, const StridedArg& out, const StridedArg& src, bool accumulate = false);
void fill(const Shape& shape, const StridedArg& out, double value);
// out = op(in); out and in share a dtype.
void unary(UnaryOp op, const Shape& shape, const StridedArg& out, const StridedArg& in);
// out = op(a, b); a and b share a dtype; out has it too, or bool for comparisons.
void binary(BinaryOp op, const Shape& shape, const StridedArg& out, const StridedArg& a, const StridedArg& b);
// out = cond ? a : b; cond is bool, a/b/out share a dtype.
void where(const Shape& shape, const StridedArg& out, const StridedArg& cond, const StridedArg& a,
           const StridedArg& b);
// out = keep ? x / divisor : +0 (keep bool; x and out one floating dtype, the divisor rounded to it; any strides):
// inverted dropout's forward and its backward in one pass, a division as the composed x / (1 - p) divides.
void masked_divide(const Shape& shape, const StridedArg& out, const StridedArg& keep, const StridedArg& x,
                   double divisor);
// Reduces `in` over the dims where reduce_dims[d] is true. out's strides are given over in_shape with 0 in
// the reduced dims. Sum/Prod/Max/Min keep the dtype; ArgMax/ArgMin write int64 (row-major position within
// the reduced dims).
void reduce(ReduceOp op, const Shape& in_shape, const std::vector<bool>& reduce_dims, const StridedArg& out,
            const StridedArg& in);
// Numerically stable (log-)softmax along `dim`.
void softmax(SoftmaxOp op, const Shape& shape, int64_t dim, const StridedArg& out, const StridedArg& in);
// C[b, m, n] = sum_k A[b, m, k] B[b, k, n]; strides are (batch dims..., row, col) for each operand.
void matmul(const Shape& batch_shape, int64_t m, int64_t n, int64_t k, const StridedArg& c, const StridedArg& a,
            const StridedArg& b);
// What a fused matmul does to each element of C as it writes it: C[b, i, j] = act(sum_k A B + bias[j]), so a
// linear layer's forward is one pass over C. The activations are the unary ops' formulas (GELU with erf).
enum class Activation : uint8_t { None, Relu, Gelu };
struct MatmulEpilogue {
  const void* bias = nullptr;  // one value per column of C (n of them, C's dtype, bias_stride apart); null: none
  int64_t bias_stride = 1;
  Activation activation = Activation::None;
};
const char* activation_name(Activation act);
// matmul followed by the epilogue, in one pass over C where the kernel fuses it (the CPU's float32/float64
// GEMM), else the reference (matmul, then the epilogue over C).
void matmul_fused(const Shape& batch_shape, int64_t m, int64_t n, int64_t k, const StridedArg& c,
                  const StridedArg& a, const StridedArg& b, const MatmulEpilogue& epilogue);
// out[i..] = in[i.., index[i..] at dim, i..]; index is int64 with out's shape; `in` strides over out's shape.
void gather(const Shape& shape, int64_t dim, int64_t dim_size, const StridedArg& out, const StridedArg& in,
            const StridedArg& index);
// out[i.., index[i..] at dim, i..] += src[i..]; the dual of gather.
void scatter_add(const Shape& shape, int64_t dim, int64_t dim_size, const StridedArg& out, const StridedArg& src,
                 const StridedArg& index);
// scatter_add into zeros: every element of out (over `shape` with dim_size along dim) is written, 0 where no
// index points, in one pass where the kernel zeroes each row just before adding into it (gather's VJP: max
// pooling's gradient). Same sums, in the same order, as zeros then scatter_add. A bad index throws the same error as
// scatter_add's, but out may then be partly written (it was to be overwritten whole): the CPU kernel checks each
// row's indices as it writes the row rather than in a pass of their own.
void scatter_add_into_zeros(const Shape& shape, int64_t dim, int64_t dim_size, const StridedArg& out,
                            const StridedArg& src, const StridedArg& index);

// Sliding-window geometry shared by im2col and col2im. Always 2-D: a 1-D op passes height 1 with kernel 1,
// stride 1, padding 0 and dilation 1 along it. out_h/out_w are the number of window positions.
struct WindowGeometry {
  int64_t batch = 0, channels = 0;
  int64_t in_h = 1, in_w = 1, out_h = 1, out_w = 1;
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;
};
// cols[n, (c*KH + kh)*KW + kw, oh*OW + ow] = x[n, c, oh*SH - PH + kh*DH, ow*SW - PW + kw*DW], or pad_value
// where that position lies in the padding. x strides are [N, C, H, W], cols strides [N, C*KH*KW, OH*OW].
void im2col(const WindowGeometry& g, const StridedArg& cols, const StridedArg& x, double pad_value);
// The adjoint of im2col: x (overwritten) = the sum of every cols entry that im2col reads from each position.
void col2im(const WindowGeometry& g, const StridedArg& x, const StridedArg& cols);

// A convolution's GEMMs over the im2col matrix without writing it out (implicit GEMM: its panels are packed
// straight from the image). `window` is im2col's geometry over the whole input (channels = Cin); with G groups,
// Q = Cin / G * KH * KW and P = N * OH * OW, cols[g] is the Q x P matrix with
//   cols[g][(c * KH + kh) * KW + kw, (n * OH + oh) * OW + ow] = x[n, g * Cin / G + c, oh*SH - PH + kh*DH,
//                                                                 ow*SW - PW + kw*DW]   (0 in the padding)
// (im2col's rows over the group's channels, its columns over the whole batch) and, for M = Cout / G,
//   Forward:    out[g] (M x P) = a[g] (M x Q) cols[g] (+ bias)  a: the weight, out: the output by group
//   WeightGrad: out[g] (M x Q) = a[g] (M x P) cols[g]^T          a: the output's gradient, out: the weight's
// The weight and the weight's gradient are 3-D with (group, row, col) strides. The output (Forward's out) and its
// gradient (WeightGrad's a) are 4-D with (group, row, image, position) strides, a column p = n L + l of the
// M x P matrix being (n, l) (L = OH OW): the NC(H)W output [N, Cout, L] is strides (M s_C, s_C, s_N, s_L), so the
// op hands over the tensors the rest of the model uses, and a kernel that needs [G, M, N L] copies into it where
// that pass is cheapest (the CPU's: conv_gemm.cpp). x is
// 4-D [N, C, H, W]. bias (Forward only; data null: none) is 1-D, one value per output channel (Cout of them), added
// to each output element. All of one floating dtype.
struct ConvGemmProblem {
  WindowGeometry window;
  int64_t groups = 1;
  int64_t out_channels = 0;  // Cout (M * G)
};
void conv_gemm(ConvGemmOp op, const ConvGemmProblem& p, const StridedArg& out, const StridedArg& a,
               const StridedArg& x, const StridedArg& bias = {});
// Whether conv_gemm computes p (Forward and WeightGrad) by Winograd's F(2x2, 3x3) where the device has it (the
// CPU: cpu/conv_winograd.cpp), within float32 rounding of the definition but not the implicit GEMM's bits:
// float32, a 3x3 kernel, stride and dilation 1, and at least 16 channels a group on both sides (below that the
// transforms' passes over the image and the result cost more than the multiplies saved), and the image's padded
// copy (about Cin N (OH + 3) (OW + 3) floats) within 256 MiB, so peak memory stays bounded. The op layer routes an
// input gradient through a Forward where this holds for that Forward.
bool conv_gemm_is_winograd(const ConvGemmProblem& p, DType dtype);

// index[n, c, oh*OW + ow] = the position ih*W + iw in x's [H, W] plane of the largest value in window
// (oh, ow), the first one on ties; a NaN counts as the largest. Padding is never chosen (every window holds
// at least one input element). x strides are [N, C, H, W], index (int64) strides [N, C, OH*OW].
void max_pool_indices(const WindowGeometry& g, const StridedArg& index, const StridedArg& x);
// Max pooling in one pass over x: index as max_pool_indices, and values[n, c, l] = that maximum (values
// strides [N, C, OH*OW], x's dtype), so the values need no gather from the positions.
void max_pool(const WindowGeometry& g, const StridedArg& values, const StridedArg& index, const StridedArg& x);

// Counter-based random numbers (Philox4x32-10, core/random.h) into a contiguous `out` of `shape`. A Philox
// block gives four 32-bit draws; float32 values and bools take one draw each, float64 and int64 two, so
// element i comes from block first_block + i / per_block and every element is a pure function of (seed,
// first_block, i): the same for any thread count and device.
//   Uniform: [0, 1).  Normal: N(0, 1) by Box-Muller (a block's draws pair up).  Integer (int64): low + the 64
//   drawn bits modulo range.  Bernoulli (bool): uniform >= threshold (dropout's keep mask, threshold = p).
struct RandomParams {
  uint64_t seed = 0;
  uint64_t first_block = 0;
  double threshold = 0;
  int64_t low = 0;
  uint64_t range = 0;
};
// The number of Philox blocks a fill of n elements of `dtype` consumes (what the generator must reserve).
uint64_t random_blocks(RandomOp op, DType dtype, int64_t n);
void random(RandomOp op, const Shape& shape, const StridedArg& out, const RandomParams& params);
// out[i] = start + i * step over a 1-D `out` of any stride (arange; linspace fills its second half backwards
// from `end` with a negative stride).
void sequence(const Shape& shape, const StridedArg& out, double start, double step);

// CTC (connectionist temporal classification) for a batch: for each sample n, nll[n] = -log p(target_n |
// log_probs[:input_lengths[n], n, :]) summed over every alignment (log-space alpha recursion), +inf when no
// alignment exists; and, when grad.data is not null, grad[t, n, c] = d nll[n] / d log_probs[t, n, c] in
// closed form from alpha and beta (zeros for an infinite nll and for t >= input_lengths[n]). log_probs is
// [T, N, C] (float32 / float64, any strides); targets int64 [N, max_target] padded, or 1-D with the targets
// concatenated; lengths int64 [N]; nll [N] and grad [T, N, C] of log_probs' dtype. Labels must be in [0, C)
// and not `blank`, lengths in range: otherwise tg::Error before anything is written.
struct CtcProblem {
  int64_t time = 0, batch = 0, classes = 0;
  int64_t max_target = 0;     // the padded targets' second dim (unused when concatenated)
  bool concatenated = false;  // targets 1-D: sample n's labels follow sample n-1's
  int64_t blank = 0;
};
void ctc_loss(const CtcProblem& problem, const StridedArg& log_probs, const StridedArg& targets,
              const StridedArg& input_lengths, const StridedArg& target_lengths, const StridedArg& nll,
              const StridedArg& grad);

// Depthwise 1-D convolution: out[n, c, o] = sum_k w[c, k] x[n, c, o * stride - padding + k * dilation] (x read
// as zero outside [0, length)); out [N, C, out_length], x [N, C, length], w [C, K], any strides.
struct DepthwiseProblem {
  int64_t batch = 0, channels = 0, length = 0, out_length = 0, kernel = 0;
  int64_t stride = 1, padding = 0, dilation = 1;
};
void depthwise_conv1d(const DepthwiseProblem& p, const StridedArg& out, const StridedArg& x, const StridedArg& w);

// Fused scaled dot-product attention (flash attention): out = softmax(q k^T * scale + mask) v without ever
// holding the [L, S] score matrix. Operands' strides are (batch dims..., row, col) over `batch` (0 where an
// operand is broadcast): q [L, E], k [S, E], v [S, Ev], out and grad_out [L, Ev]; lse [L] (strides (batch...,
// row)), the per-row log-sum-exp of the masked, scaled scores, +inf for a row whose keys are all excluded (so
// its output, and every gradient through it, is zero). mask (data null: none) is over [L, S]: bool (true: the
// key takes part) or of q's dtype (added to the scores). `causal`: query i sees keys 0..i.
//   forward: writes out and lse.
//   backward: from q, k, v, mask, out, grad_out and lse writes grad_q, grad_k, grad_v (every batch entry of the
//   broadcast shape: the caller sums over broadcast dims), recomputing the scores block by block.
// q, k, v, out and the gradients share a dtype; lse is float32 for 16-bit inputs, else of that dtype.
struct AttentionProblem {
  Shape batch;
  int64_t queries = 0, keys = 0, head_dim = 0, value_dim = 0;  // L, S, E, Ev
  double scale = 1.0;
  bool causal = false;
};
struct AttentionArgs {
  StridedArg q = {}, k = {}, v = {}, mask = {}, out = {}, lse = {};
  StridedArg grad_out = {}, grad_q = {}, grad_k = {}, grad_v = {};  // backward only
};
void attention_forward(const AttentionProblem& p, const AttentionArgs& a);
void attention_backward(const AttentionProblem& p, const AttentionArgs& a);

// Layer normalisation of `rows` rows of `cols` values (the biased variance): y = (x - mean) rstd w + b with
// rstd = 1 / sqrt(var + eps). x, y, grad_out and grad_x are contiguous [rows, cols]; weight, bias, grad_weight and
// grad_bias contiguous [cols]; mean and rstd contiguous [rows]; an operand whose data is null is absent (no
// weight: w = 1; no bias: b = 0; a gradient not wanted). Every operand has x's dtype.
//   forward: writes y, mean and rstd.
//   backward: from grad_out (g), x, mean, rstd and weight writes, with xhat = (x - mean) rstd and gw = g w,
//   grad_x = rstd (gw - mean(gw) - xhat mean(gw xhat)) (row means), grad_weight = the sum over rows of g xhat
//   and grad_bias = the sum over rows of g, both in an order fixed by the shape (not by the thread count).
struct LayerNormProblem {
  int64_t rows = 0, cols = 0;
  double eps = 0;
};
struct LayerNormArgs {
  StridedArg x = {}, weight = {}, bias = {}, y = {}, mean = {}, rstd = {};
  StridedArg grad_out = {}, grad_x = {}, grad_weight = {}, grad_bias = {};  // backward only
};
void layer_norm_forward(const LayerNormProblem& p, const LayerNormArgs& a);
void layer_norm_backward(const LayerNormProblem& p, const LayerNormArgs& a);

// Sorting along `dim` of `in` (in_shape): the first k of each row in ascending (or descending) order into
// values (in's dtype) and indices (int64), both strided over in_shape with k along dim. Stable (equal values
// keep their order); NaN sorts above every number, as torch.sort.
void sort(const Shape& in_shape, int64_t dim, int64_t k, bool descending, const StridedArg& values,
          const StridedArg& indices, const StridedArg& in);

// Optimizer updates, one pass over contiguous buffers of n elements of one float dtype (the element formulas
// are torch.optim's, foreach / fused off); coefficients are computed once, in double, by the caller.
struct SgdCoefficients {
  double lr = 0, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;
};
// d = grad (+ weight_decay * p); with momentum: buf = momentum * buf + (1 - dampening) d,
// d = nesterov ? d + momentum * buf : buf; then p -= lr * d. buf.data may be null when momentum is 0.
void sgd_update(int64_t n, const SgdCoefficients& c, const StridedArg& param, const StridedArg& grad,
                const StridedArg& momentum_buffer);
struct AdamCoefficients {
  double lr_over_bias_correction1 = 0;  // lr / (1 - beta1^t)
  double one_minus_beta1 = 0, one_minus_beta2 = 0;
  double bias_correction2_sqrt = 1;  // sqrt(1 - beta2^t)
  double eps = 0;
  double weight_decay = 0;  // L2 (added to the gradient) unless `decoupled`
  double decoupled_decay = 1;  // AdamW: the parameter is first multiplied by this (1 - lr * weight_decay)
  bool decoupled = false;
};
// g = grad (+ weight_decay * p); m += (1 - b1)(g - m); v += (1 - b2)(g^2 - v); vmax = max(vmax, v) when given
// (max_exp_avg_sq.data not null); p -= lr / bc1 * m / (sqrt(vmax or v) / sqrt(bc2) + eps).
void adam_update(int64_t n, const AdamCoefficients& c, const StridedArg& param, const StridedArg& grad,
                 const StridedArg& exp_avg, const StridedArg& exp_avg_sq, const StridedArg& max_exp_avg_sq);

}  // namespace tg::kernels
