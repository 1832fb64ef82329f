// The entry points of kernels.h: check that the operands share a device, look the kernel up by (op, device,
// dtype) and call it. Nothing else happens here: threading, fast paths and fallbacks belong to the kernels a
// device registers (src/kernels/cpu/register.cpp for the CPU).
#include <tensorgrad/kernels/kernel_tables.h>

#include <initializer_list>

namespace tg::kernels {

namespace {

const KernelTables& tables() { return kernel_tables(); }

// Every operand must live on the output's device; a kernel never reads another device's memory.
template <class... Args>
DeviceType device_of(const char* op, const StridedArg& out, const Args&... in) {
  if (((in.device == out.device) && ...)) [[likely]] return out.device;
  DeviceType other = out.device;
  ((other = in.device != out.device ? in.device : other), ...);
  TG_FAIL("tg::", op, ": operands on different devices (", device_type_name(out.device), " and ",
          device_type_name(other), "); move them to one device with .to(device) first");
}

// device_of for optional operands (a null data pointer: absent): each present one must be on `ref`'s device.
template <class... Args>
void check_present_on(const char* op, const StridedArg& ref, const Args&... optional) {
  for (const StridedArg* a : {&optional...})
    if (a->data != nullptr) device_of(op, ref, *a);
}

}  // namespace

void copy(const Shape& shape, const StridedArg& out, const StridedArg& src, bool accumulate) {
  tables().copy.find(device_of("copy", out, src), src.dtype)(shape, out, src, accumulate);
}
void fill(const Shape& shape, const StridedArg& out, double value) {
  tables().fill.find(out.device, out.dtype)(shape, out, value);
}
void unary(UnaryOp op, const Shape& shape, const StridedArg& out, const StridedArg& in) {
  tables().unary.find(op, device_of(op_name(op), out, in), in.dtype, op_name(op))(op, shape, out, in);
}
void binary(BinaryOp op, const Shape& shape, const StridedArg& out, const StridedArg& a, const StridedArg& b) {
  tables().binary.find(op, device_of(op_name(op), out, a, b), a.dtype, op_name(op))(op, shape, out, a, b);
}
void where(const Shape& shape, const StridedArg& out, const StridedArg& cond, const StridedArg& a,
           const StridedArg& b) {
  tables().where.find(device_of("where", out, cond, a, b), a.dtype)(shape, out, cond, a, b);
}
void masked_divide(const Shape& shape, const StridedArg& out, const StridedArg& keep, const StridedArg& x,
                   double divisor) {
  tables().masked_divide.find(device_of("masked_divide", out, keep, x), x.dtype)(shape, out, keep, x, divisor);
}
void reduce(ReduceOp op, const Shape& in_shape, const std::vector<bool>& reduce_dims, const StridedArg& out,
            const StridedArg& in) {
  tables().reduce.find(op, device_of(op_name(op), out, in), in.dtype, op_name(op))(op, in_shape, reduce_dims, out,
                                                                                   in);
}
void softmax(SoftmaxOp op, const Shape& shape, int64_t dim, const StridedArg& out, const StridedArg& in) {
  tables().softmax.find(op, device_of(op_name(op), out, in), in.dtype, op_name(op))(op, shape, dim, out, in);
}
void matmul(const Shape& batch_shape, int64_t m, int64_t n, int64_t k, const StridedArg& c, const StridedArg& a,
            const StridedArg& b) {
  tables().matmul.find(device_of("matmul", c, a, b), a.dtype)(batch_shape, m, n, k, c, a, b, MatmulEpilogue{});
}
void matmul_fused(const Shape& batch_shape, int64_t m, int64_t n, int64_t k, const StridedArg& c,
                  const StridedArg& a, const StridedArg& b, const MatmulEpilogue& epilogue) {
  tables().matmul.find(device_of("matmul", c, a, b), a.dtype)(batch_shape, m, n, k, c, a, b, epilogue);
}
void gather(const Shape& shape, int64_t dim, int64_t dim_size, const StridedArg& out, const StridedArg& in,
            const StridedArg& index) {
  constexpr IndexOp op = IndexOp::Gather;
  tables().index.find(op, device_of("gather", out, in, index), in.dtype, "gather")(op, shape, dim, dim_size, out, in,
                                                                                   index);
}
void scatter_add(const Shape& shape, int64_t dim, int64_t dim_size, const StridedArg& out, const StridedArg& src,
                 const StridedArg& index) {
  constexpr IndexOp op = IndexOp::ScatterAdd;
  tables().index.find(op, device_of("scatter_add", out, src, index), src.dtype, "scatter_add")(op, shape, dim,
                                                                                               dim_size, out, src,
                                                                                               index);
}
void scatter_add_into_zeros(const Shape& shape, int64_t dim, int64_t dim_size, const StridedArg& out,
                            const StridedArg& src, const StridedArg& index) {
  constexpr IndexOp op = IndexOp::ScatterAddIntoZeros;
  tables().index.find(op, device_of(op_name(op), out, src, index), src.dtype, op_name(op))(op, shape, dim, dim_size,
                                                                                          out, src, index);
}
void im2col(const WindowGeometry& g, const StridedArg& cols, const StridedArg& x, double pad_value) {
  constexpr WindowOp op = WindowOp::Im2col;
  tables().window.find(op, device_of("im2col", cols, x), x.dtype, "im2col")(op, g, cols, x, pad_value);
}
void col2im(const WindowGeometry& g, const StridedArg& x, const StridedArg& cols) {
  constexpr WindowOp op = WindowOp::Col2im;
  tables().window.find(op, device_of("col2im", x, cols), cols.dtype, "col2im")(op, g, x, cols, 0.0);
}
void conv_gemm(ConvGemmOp op, const ConvGemmProblem& p, const StridedArg& out, const StridedArg& a,
               const StridedArg& x, const StridedArg& bias) {
  TG_CHECK(bias.data == nullptr || op == ConvGemmOp::Forward, op_name(op), ": a bias is the forward's only");
  TG_CHECK(bias.data == nullptr || (bias.dtype == x.dtype && bias.strides.size() == 1), op_name(op), ": the bias (",
           dtype_name(bias.dtype), ", rank ", bias.strides.size(), ") must be 1-D of the input's dtype (",
           dtype_name(x.dtype), ")");
  const DeviceType device =
      bias.data == nullptr ? device_of(op_name(op), out, a, x) : device_of(op_name(op), out, a, x, bias);
  tables().conv_gemm.find(op, device, x.dtype, op_name(op))(op, p, out, a, x, bias);
}
bool conv_gemm_is_winograd(const ConvGemmProblem& p, const DType dtype) {
  constexpr int64_t kMinChannels = 16;
  const WindowGeometry& g = p.window;
  return dtype == DType::Float32 && g.kernel_h == 3 && g.kernel_w == 3 && g.stride_h == 1 && g.stride_w == 1 &&
         g.dilation_h == 1 && g.dilation_w == 1 && p.groups > 0 && g.channels / p.groups >= kMinChannels &&
         p.out_channels / p.groups >= kMinChannels &&
         // The image's padded copy (2x2 tiles, 4x4 patches) within 256 MiB, as the implicit GEMM's: peak memory
         // stays bounded (and a channel's 32-bit tile offsets fit).
         g.channels * g.batch * ((g.out_h + 1) / 2 * 2 + 2) * ((g.out_w + 1) / 2 * 2 + 2) * 4 <= (int64_t{1} << 28);
}
void max_pool_indices(const WindowGeometry& g, const StridedArg& index, const StridedArg& x) {
  constexpr WindowOp op = WindowOp::MaxPoolIndices;
  tables().window.find(op, device_of("max_pool_indices", index, x), x.dtype, "max_pool_indices")(op, g, index, x,
                                                                                                 0.0);
}

void max_pool(const WindowGeometry& g, const StridedArg& values, const StridedArg& index, const StridedArg& x) {
  tables().max_pool.find(device_of("max_pool", values, index, x), x.dtype)(g, values, index, x);
}

uint64_t random_blocks(RandomOp op, DType dtype, int64_t n) {
  // Draws per element: float64 and int64 values take two 32-bit draws, the rest one; a block has four.
  const bool wide = dtype == DType::Float64 || op == RandomOp::Integer;
  const int64_t per_block = wide ? 2 : 4;
  return static_cast<uint64_t>((n + per_block - 1) / per_block);
}
void random(RandomOp op, const Shape& shape, const StridedArg& out, const RandomParams& params) {
  tables().random.find(op, out.device, out.dtype, op_name(op))(op, shape, out, params);
}
void sequence(const Shape& shape, const StridedArg& out, double start, double step) {
  tables().sequence.find(out.device, out.dtype)(shape, out, start, step);
}

void ctc_loss(const CtcProblem& problem, const StridedArg& log_probs, const StridedArg& targets,
              const StridedArg& input_lengths, const StridedArg& target_lengths, const StridedArg& nll,
              const StridedArg& grad) {
  const DeviceType device = device_of("ctc_loss", nll, log_probs, targets, input_lengths, target_lengths);
  check_present_on("ctc_loss", nll, grad);
  tables().ctc.find(device, log_probs.dtype)(problem, log_probs, targets, input_lengths, target_lengths, nll, grad);
}

void depthwise_conv1d(const DepthwiseProblem& p, const StridedArg& out, const StridedArg& x, const StridedArg& w) {
  tables().depthwise.find(device_of("depthwise_conv1d", out, x, w), x.dtype)(p, out, x, w);
}

void attention_forward(const AttentionProblem& p, const AttentionArgs& a) {
  const DeviceType device = device_of("attention_forward", a.out, a.lse, a.q, a.k, a.v);
  check_present_on("attention_forward", a.out, a.mask);
  tables().attention_forward.find(device, a.q.dtype)(p, a);
}
void attention_backward(const AttentionProblem& p, const AttentionArgs& a) {
  const DeviceType device = device_of("attention_backward", a.grad_q, a.grad_k, a.grad_v, a.grad_out, a.out, a.lse,
                                      a.q, a.k, a.v);
  check_present_on("attention_backward", a.grad_q, a.mask);
  tables().attention_backward.find(device, a.q.dtype)(p, a);
}

void layer_norm_forward(const LayerNormProblem& p, const LayerNormArgs& a) {
  const DeviceType device = device_of("layer_norm", a.y, a.x, a.mean, a.rstd);
  check_present_on("layer_norm", a.y, a.weight, a.bias);
  tables().layer_norm_forward.find(SingleOp::Kernel, device, a.x.dtype, "layer_norm")(p, a);
}
void layer_norm_backward(const LayerNormProblem& p, const LayerNormArgs& a) {
  const DeviceType device = device_of("layer_norm_backward", a.x, a.grad_out, a.mean, a.rstd);
  check_present_on("layer_norm_backward", a.x, a.weight, a.grad_x, a.grad_weight, a.grad_bias);
  tables().layer_norm_backward.find(SingleOp::Kernel, device, a.x.dtype, "layer_norm_backward")(p, a);
}

void sort(const Shape& in_shape, int64_t dim, int64_t k, bool descending, const StridedArg& values,
          const StridedArg& indices, const StridedArg& in) {
  tables().sort.find(device_of("sort", values, indices, in), in.dtype)(in_shape, dim, k, descending, values, indices,
                                                                       in);
}

void sgd_update(int64_t n, const SgdCoefficients& c, const StridedArg& param, const StridedArg& grad,
                const StridedArg& momentum_buffer) {
  const DeviceType device = momentum_buffer.data != nullptr ? device_of("sgd_update_", param, grad, momentum_buffer)
                                                            : device_of("sgd_update_", param, grad);
  tables().sgd_update.find(device, param.dtype)(n, c, param, grad, momentum_buffer);
}
void adam_update(int64_t n, const AdamCoefficients& c, const StridedArg& param, const StridedArg& grad,
                 const StridedArg& exp_avg, const StridedArg& exp_avg_sq, const StridedArg& max_exp_avg_sq) {
  const DeviceType device =
      max_exp_avg_sq.data != nullptr ? device_of("adam_update_", param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq)
                                     : device_of("adam_update_", param, grad, exp_avg, exp_avg_sq);
  tables().adam_update.find(device, param.dtype)(n, c, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq);
}

}  // namespace tg::kernels
