#pragma once
// Loss functions with PyTorch semantics (torch.nn.functional). Every loss reduces its per-element values
// with `reduction`: None keeps them, Sum adds them, Mean averages them (over the non-ignored targets for the
// class-index losses, so an all-ignored batch gives NaN, as in PyTorch).
#include <cstdint>

#include <tensorgrad/core/tensor.h>

namespace tg {

enum class Reduction { None, Mean, Sum };
const char* reduction_name(Reduction reduction);

struct CrossEntropyOptions {
  Reduction reduction = Reduction::Mean;
  // eps in [0, 1]: the target distribution is (1 - eps) * one_hot + eps / C.
  double label_smoothing = 0.0;
  // Targets equal to this contribute 0 and are not counted by Mean. May be any value, also one in [0, C).
  int64_t ignore_index = -100;
};

// logits [N, C] (float32/float64), targets int64 [N] of class indices in [0, C) or ignore_index.
// Fused: one stable log_softmax forward; the gradient is (softmax(logits) - smoothed one-hot) * upstream / count,
// written with tensor ops, so grad-of-grad works. Out-of-range targets throw naming the value and position.
// Example: tg::cross_entropy(logits, y, {.reduction = tg::Reduction::Sum, .label_smoothing = 0.1}).
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, const CrossEntropyOptions& options = {});

// log_probs [N, C], targets int64 [N]: loss_i = -log_probs[i, targets[i]] (0 where targets[i] == ignore_index).
Tensor nll_loss(const Tensor& log_probs, const Tensor& targets, Reduction reduction = Reduction::Mean,
                int64_t ignore_index = -100);

// (input - target)^2; input and target need the same shape (no silent broadcasting).
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);

// Stable: max(x, 0) - x * y + log1p(exp(-|x|)). With pos_weight (broadcast to the logits' shape, typically [C]):
// (1 - y) * x + (1 + (pos_weight - 1) * y) * softplus(-x). targets are floats of the logits' shape.
// Gradients flow to logits, targets and pos_weight.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& targets,
                                        Reduction reduction = Reduction::Mean, const Tensor& pos_weight = {});

}  // namespace tg
