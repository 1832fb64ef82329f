#pragma once
// Max and average pooling over 1-D [N, C, L] and 2-D [N, C, H, W] inputs (PyTorch's functional forms,
// floor mode: ceil_mode is not offered). Max pooling gathers each window's first maximum (as PyTorch), so
// its gradient goes to that one element, ties included; average pooling sums im2col's windows.
#include <tensorgrad/ops/conv.h>

namespace tg {

// Padding is never chosen as a maximum and is at most half the kernel size; stride `{}` (the default) is the kernel size.
Tensor max_pool1d(const Tensor& x, const SpatialArg& kernel_size, const SpatialArg& stride = {},
                  const SpatialArg& padding = 0, const SpatialArg& dilation = 1);
Tensor max_pool2d(const Tensor& x, const SpatialArg& kernel_size, const SpatialArg& stride = {},
                  const SpatialArg& padding = 0, const SpatialArg& dilation = 1);

// Padding reads 0 and is at most half the kernel size. count_include_pad: divide by the kernel size
// (true) or by the number of non-padding elements in each window (false).
Tensor avg_pool1d(const Tensor& x, const SpatialArg& kernel_size, const SpatialArg& stride = {},
                  const SpatialArg& padding = 0, bool count_include_pad = true);
Tensor avg_pool2d(const Tensor& x, const SpatialArg& kernel_size, const SpatialArg& stride = {},
                  const SpatialArg& padding = 0, bool count_include_pad = true);

}  // namespace tg
