#pragma once
// Gradient clipping, as torch.nn.utils.clip_grad_norm_.
#include <limits>
#include <vector>

#include <tensorgrad/core/tensor.h>

namespace tg::optim {

inline constexpr double kInfNorm = std::numeric_limits<double>::infinity();

// The norm of all gradients together, as if concatenated into one vector: (sum_i sum |g|^p)^(1/p), or
// max |g| for norm_type = kInfNorm. Parameters without a gradient are skipped (none at all: 0).
// Accumulated in double. norm_type must be > 0 or infinite.
double grad_norm(const std::vector<Tensor>& params, double norm_type = 2.0);

// Scales every gradient in place by max_norm / (total + 1e-6) when that factor is below 1 (torch's rule;
// in effect when total > max_norm), and returns the total norm from before clipping. max_norm must be
// >= 0. With error_if_nonfinite, a NaN or infinite total throws tg::Error instead (gradients untouched);
// otherwise such gradients are scaled by the resulting NaN/0 factor, as torch does.
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0,
                      bool error_if_nonfinite = false);

}  // namespace tg::optim
