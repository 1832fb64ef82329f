#pragma once
// Sliding windows (im2col / col2im, PyTorch's unfold / fold generalised to 1-D and 2-D) and convolution
// built on them: conv = im2col + matmul (+ bias), so its gradients are those of its parts and every order
// of derivative works. Layouts are channels-first: [N, C, L] for 1-D, [N, C, H, W] for 2-D. Inputs must
// carry the batch dimension.
#include <initializer_list>
#include <utility>
#include <vector>

#include <tensorgrad/core/tensor.h>

namespace tg {

// PyTorch's `int or tuple` argument (kernel_size, stride, padding, dilation): one value used for every
// spatial dimension (`2`, `{2}`), or one value per spatial dimension (`{2, 1}` is height 2, width 1).
// Default-constructed (`{}`) means "not given", which only pooling's stride accepts (it then equals the
// kernel size).
class SpatialArg {
 public:
  SpatialArg() = default;
  SpatialArg(int64_t value) : values_{value} {}  // NOLINT: implicit by design, as PyTorch's int-or-tuple
  SpatialArg(std::initializer_list<int64_t> values) : values_(values) {}
  SpatialArg(std::vector<int64_t> values) : values_(std::move(values)) {}  // NOLINT
  bool empty() const { return values_.empty(); }
  const std::vector<int64_t>& values() const { return values_; }

 private:
  std::vector<int64_t> values_;
};

// x [N, C, *spatial] -> [N, C * prod(kernel_size), L], L = the number of window positions (row-major over
// the output grid); row c * prod(kernel_size) + k holds channel c at kernel offset k (row-major over the
// kernel). Each output size is (in + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1 and must be
// at least 1. Positions in the padding read `pad_value` (0 as in torch.nn.functional.unfold; -inf gives
// max-pooling windows). Floating and int64 (finite pad_value) inputs. The VJP is col2im.
Tensor im2col(const Tensor& x, const SpatialArg& kernel_size, const SpatialArg& dilation = 1,
              const SpatialArg& padding = 0, const SpatialArg& stride = 1, double pad_value = 0.0);

// The adjoint of im2col (torch.nn.functional.fold): cols [N, C * prod(kernel_size), L] -> [N, C,
// *output_size], summing the entries of overlapping windows; output_size has one entry per spatial
// dimension (1 or 2) and must give exactly L window positions. The VJP is im2col.
Tensor col2im(const Tensor& cols, const Shape& output_size, const SpatialArg& kernel_size,
              const SpatialArg& dilation = 1, const SpatialArg& padding = 0, const SpatialArg& stride = 1);

// torch.nn.functional.conv1d: x [N, Cin, L], weight [Cout, Cin / groups, K], bias [Cout] or undefined (`{}`)
// -> [N, Cout, Lout] (contiguous). Zero padding. x, weight and bias share a floating dtype.
// Depthwise 1-D convolution: x [N, C, L], weight [C, 1, K] (one filter per channel), bias [C] optional; output
// length (L + 2 padding - dilation (K - 1) - 1) / stride + 1. Its own kernel (no im2col, no per-channel GEMM);
// its VJPs are depthwise convolutions again (stride 1), so every order of derivative runs on that kernel (a
// strided one that needs derivatives goes through conv1d's grouped path).
// conv1d uses it for groups == in_channels == out_channels, stride 1 and padding <= dilation (K - 1).
Tensor depthwise_conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, int64_t stride = 1,
                        int64_t padding = 0, int64_t dilation = 1);

Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, const SpatialArg& stride = 1,
              const SpatialArg& padding = 0, const SpatialArg& dilation = 1, int64_t groups = 1);

// torch.nn.functional.conv2d: x [N, Cin, H, W], weight [Cout, Cin / groups, KH, KW], bias [Cout] or
// undefined (`{}`) -> [N, Cout, Hout, Wout] (contiguous). stride / padding / dilation: an int or {h, w}.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, const SpatialArg& stride = 1,
              const SpatialArg& padding = 0, const SpatialArg& dilation = 1, int64_t groups = 1);

}  // namespace tg
