#pragma once
// The boundary between the host side of the backend (register.cpp, allocator.cpp: compiled as C++20 with the
// rest of the library) and its kernels (*.cu, compiled by nvcc): plain structs and functions only, so nvcc
// never parses tensorgrad's headers. Op and dtype codes are the values of tg::kernels' enums and tg::DType.
#include <cstddef>
#include <cstdint>

namespace tg::cuda::detail {

constexpr int kMaxDims = 8;

// DType's values (core/dtype.h). Copies, fills and matmul take all six; the other kernels the first four.
enum DTypeCode : int { kBool = 0, kInt64 = 1, kFloat32 = 2, kFloat64 = 3, kBFloat16 = 4, kFloat16 = 5 };

struct Geometry {
  int ndim = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t numel = 1;
};

struct Operand {
  void* data = nullptr;
  int64_t strides[kMaxDims] = {};  // in elements, one per Geometry dimension
  int dtype = kFloat32;
};

// Each launch queues its kernel on the current stream and returns; errors of the launch itself throw
// std::runtime_error (register.cpp turns them into tg::Error).
void launch_copy(const Geometry& g, const Operand& out, const Operand& src, bool accumulate);
void launch_fill(const Geometry& g, const Operand& out, double value);
void launch_unary(int op, const Geometry& g, const Operand& out, const Operand& in);
void launch_binary(int op, const Geometry& g, const Operand& out, const Operand& a, const Operand& b);
void launch_where(const Geometry& g, const Operand& out, const Operand& cond, const Operand& a, const Operand& b);
void launch_sequence(int64_t n, const Operand& out, double start, double step);
// Philox fills of n contiguous elements: the CPU's Philox words and mapping (kernels/ref/creation.cpp), so
// uniform, integer and Bernoulli fills are the CPU's bits; normals go through the device's log/sin/cos and may
// differ from the CPU's in the last bits.
void launch_random(int op, int64_t n, const Operand& out, uint64_t seed, uint64_t first_block, double threshold,
                   int64_t low, uint64_t range);
// One output element per (outer) position, reducing `inner` (the reduced dimensions, strides in
// inner_strides) from in's element at that position.
void launch_reduce(int op, const Geometry& outer, const Operand& out, const Operand& in, const Geometry& inner,
                   const int64_t* inner_strides);
// Softmax over rows of n elements, one row per `rows` position (the softmax dimension set to size 1).
void launch_softmax(bool log, const Geometry& rows, int64_t n, const Operand& out, int64_t out_stride,
                    const Operand& in, int64_t in_stride);

struct MatmulOperand {
  void* data = nullptr;
  int64_t batch_strides[kMaxDims] = {};
  int64_t row_stride = 0, col_stride = 0;
};
// Which GEMM kernel launch_matmul runs: Auto chooses (gemm.cu); the others force one, for the benchmark that
// compares the rungs (Fast throws where the operands' layout does not allow it).
enum class MatmulKernel { Auto, Strided, Fast };
// The fast kernels' variants, for the benchmark that compares them: float32 (gemm_simt.cu): the k slice (8 or
// 16) and the blocks per multiprocessor its registers are cut for (1 or 2); tensor cores (gemm_mma.cu): the
// tile's width (128 or 256). Zeros: the ones Auto uses.
struct FastVariant {
  int slice = 0, min_blocks = 0, tile_n = 0;
};
// C = A B (+ bias per column, then activation 0 none / 1 ReLU / 2 GELU) for every batch position; float32,
// float64, bf16 or fp16 (dtype; the 16-bit ones accumulate in float32).
void launch_matmul(int dtype, const Geometry& batch, int64_t m, int64_t n, int64_t k, const MatmulOperand& c,
                   const MatmulOperand& a, const MatmulOperand& b, const void* bias, int64_t bias_stride,
                   int activation, MatmulKernel kernel = MatmulKernel::Auto, FastVariant variant = {});

// kernels::WindowGeometry's fields. Operand strides: an image [N, C, H, W]; im2col's columns and max pooling's
// values and positions [N, C*KH*KW or C, OH*OW].
struct Window {
  int64_t batch = 0, channels = 0, in_h = 1, in_w = 1, out_h = 1, out_w = 1, kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1;
};
// op: kernels::WindowOp's order (im2col: out = columns, in = image; col2im: out = image, in = columns;
// max_pool_indices: out = positions, in = image). int64, float32, float64.
void launch_window(int op, const Window& w, const Operand& out, const Operand& in, double pad_value);
// Max pooling's values and positions in one pass (float32, float64).
void launch_max_pool(const Window& w, const Operand& values, const Operand& index, const Operand& x);
// op: kernels::IndexOp's order (gather, scatter_add, scatter_add into zeros), over the index tensor's shape;
// `indexed` (gather's input, scatter's output) has strides over that shape whose dim entry is its real stride
// along dim. Out-of-range indices are skipped (gather writes 0): the GPU cannot raise the CPU's error without
// waiting for the kernel. scatter_add adds atomically, so float sums may differ in order from the CPU's.
void launch_index(int op, const Geometry& shape, int dim, int64_t dim_size, const Operand& out, const Operand& in,
                  const Operand& index);
// kernels::SgdCoefficients / AdamCoefficients, and the fused updates over n contiguous elements (float32,
// float64: dtype); a null momentum buffer / max_exp_avg_sq means none.
struct SgdArgs {
  double lr = 0, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;
};
struct AdamArgs {
  double lr_over_bias_correction1 = 0, one_minus_beta1 = 0, one_minus_beta2 = 0, bias_correction2_sqrt = 1, eps = 0;
  double weight_decay = 0, decoupled_decay = 1;
  bool decoupled = false;
};
void launch_sgd(int dtype, int64_t n, const SgdArgs& c, void* param, const void* grad, void* momentum_buffer);
void launch_adam(int dtype, int64_t n, const AdamArgs& c, void* param, const void* grad, void* exp_avg,
                 void* exp_avg_sq, void* max_exp_avg_sq);

// The runtime, behind plain functions (allocator.cpp, register.cpp).
int device_count() noexcept;
void check(int cuda_error, const char* what);  // throws std::runtime_error naming `what` and the CUDA error

}  // namespace tg::cuda::detail
