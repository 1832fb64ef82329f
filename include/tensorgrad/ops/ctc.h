#pragma once
// CTC loss with torch.nn.functional.ctc_loss's signature and semantics.
#include <tensorgrad/core/tensor.h>
#include <tensorgrad/ops/loss.h>

namespace tg {

struct CtcLossOptions {
  int64_t blank = 0;
  // Mean: each sample's loss divided by its target length (at least 1), then the mean over the batch, as
  // PyTorch does; Sum; None: the per-sample losses [N].
  Reduction reduction = Reduction::Mean;
  bool zero_infinity = false;  // an impossible alignment gives loss 0 and gradient 0 instead of +inf
};

// log_probs [T, N, C] (float32 / float64: log-probabilities over C classes, blank included, e.g. from
// log_softmax); targets int64 [N, S] (padded) or 1-D (all targets concatenated); input_lengths and
// target_lengths int64 [N]. An impossible alignment (too few frames for the target and its repeats) gives
// +inf, never a NaN gradient. The gradient is d loss / d log_probs in closed form (alpha-beta); with a
// log_softmax before it, the end-to-end gradient is PyTorch's. Second-order gradients are not supported (an
// error, never a silent zero). Bad lengths, labels out of range or equal to blank are errors.
Tensor ctc_loss(const Tensor& log_probs, const Tensor& targets, const Tensor& input_lengths,
                const Tensor& target_lengths, const CtcLossOptions& options = {});

}  // namespace tg
