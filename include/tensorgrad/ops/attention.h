#pragma once
// Scaled dot-product attention, as torch.nn.functional.scaled_dot_product_attention:
//   out = softmax(q k^T * scale + mask) v
// over q [..., L, E], k [..., S, E], v [..., S, Ev] (leading batch and head dims broadcast), giving
// [..., L, Ev].
#include <optional>

#include <tensorgrad/core/random.h>
#include <tensorgrad/core/tensor.h>

namespace tg {

struct AttentionOptions {
  // Broadcastable to [..., L, S]: bool (true: the key takes part, as torch's SDPA) or a floating tensor added
  // to the scores (-inf: excluded). Undefined: no mask.
  Tensor attn_mask;
  double dropout_p = 0.0;  // applied to the attention weights (inverted dropout), as in training
  bool is_causal = false;  // query i sees keys 0..i (the upper-left L x S triangle); combines with attn_mask
  std::optional<double> scale;  // default 1 / sqrt(E)
};

// The attention weights alone: softmax(q k^T * scale + mask) [..., L, S], after dropout when dropout_p > 0.
// A row whose keys are all excluded has zero weights.
Tensor attention_weights(const Tensor& q, const Tensor& k, const AttentionOptions& options = {},
                         Generator& gen = default_generator());

// attention_weights(q, k) v. A query row whose keys are all excluded gives zeros (PyTorch gives NaN there), and no NaN in any gradient.
// Composed of differentiable ops, so gradients of every order and forward mode work. Dropout draws from `gen`.
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const AttentionOptions& options = {}, Generator& gen = default_generator());

}  // namespace tg
