#pragma once
// Max and average pooling over 1-D [N, C, L] and 2-D [N, C, H, W] inputs (PyTorch's functional forms,
// floor mode: ceil_mode is not offered). Windows come from im2col and are reduced with tg::max / tg::sum,
// so gradients, ties included, are those of the reductions: a max shared by several elements of a window
// sends each of them an equal share.
#include <tensorgrad/ops/conv.h>

namespace tg {

// Padding reads -inf and is at most half the kernel size; stride `{}` (the default) is the kernel size.
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
