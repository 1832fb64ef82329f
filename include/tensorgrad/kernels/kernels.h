#pragma once
// The kernel layer's entry points. Kernels see raw pointers, shapes and strides, never Tensor or autograd.
// Each entry point looks up (op, device, dtype) in its family's table, so a faster or another device's
// kernel plugs in by registering, without any change above this layer.
#include <cstdint>

#include <tensorgrad/kernels/strided_loop.h>

namespace tg::kernels {

// The complete op lists; kUnaryOpCount / kBinaryOpCount keep name tables and registrations in step.
enum class UnaryOp : uint8_t {
  Neg, Abs, Exp, Log, Log1p, Sqrt, Rsqrt, Sin, Cos, Tanh, Sigmoid, Relu, Gelu, Silu, Square, Reciprocal, Sign, Erf,
};
inline constexpr int kUnaryOpCount = 18;
// ReluGrad(g, x) = x > 0 ? g : 0, relu's gradient in one pass (no mask tensor, no cast).
enum class BinaryOp : uint8_t { Add, Sub, Mul, Div, Pow, Maximum, Minimum, ReluGrad, Eq, Ne, Lt, Le, Gt, Ge };
inline constexpr int kBinaryOpCount = 14;
enum class ReduceOp : uint8_t { Sum, Prod, Max, Min, ArgMax, ArgMin };

const char* op_name(UnaryOp op);
const char* op_name(BinaryOp op);
const char* op_name(ReduceOp op);
inline bool is_comparison(BinaryOp op) { return op >= BinaryOp::Eq; }
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
// Reduces `in` over the dims where reduce_dims[d] is true. out's strides are given over in_shape with 0 in
// the reduced dims. Sum/Prod/Max/Min keep the dtype; ArgMax/ArgMin write int64 (row-major position within
// the reduced dims).
void reduce(ReduceOp op, const Shape& in_shape, const std::vector<bool>& reduce_dims, const StridedArg& out,
            const StridedArg& in);
// Numerically stable (log-)softmax along `dim`.
void softmax(const Shape& shape, int64_t dim, bool log, const StridedArg& out, const StridedArg& in);
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
// matmul followed by the epilogue, in one kernel where the dtype has one (float32/float64 GEMM), else the
// reference (matmul, then the epilogue over C).
void matmul_fused(const Shape& batch_shape, int64_t m, int64_t n, int64_t k, const StridedArg& c,
                  const StridedArg& a, const StridedArg& b, const MatmulEpilogue& epilogue);
// out[i..] = in[i.., index[i..] at dim, i..]; index is int64 with out's shape; `in` strides over out's shape.
void gather(const Shape& shape, int64_t dim, int64_t dim_size, const StridedArg& out, const StridedArg& in,
            const StridedArg& index);
// out[i.., index[i..] at dim, i..] += src[i..]; the dual of gather.
void scatter_add(const Shape& shape, int64_t dim, int64_t dim_size, const StridedArg& out, const StridedArg& src,
                 const StridedArg& index);

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

// index[n, c, oh*OW + ow] = the position ih*W + iw in x's [H, W] plane of the largest value in window
// (oh, ow), the first one on ties; a NaN counts as the largest. Padding is never chosen (every window holds
// at least one input element). x strides are [N, C, H, W], index (int64) strides [N, C, OH*OW].
void max_pool_indices(const WindowGeometry& g, const StridedArg& index, const StridedArg& x);

}  // namespace tg::kernels
