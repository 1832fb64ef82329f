#include <tensorgrad/nn/attention.h>

#include <cmath>

#include <tensorgrad/base/error.h>
#include <tensorgrad/core/graph.h>
#include <tensorgrad/nn/init.h>
#include <tensorgrad/ops/attention.h>
#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/linalg.h>
#include <tensorgrad/ops/reduce.h>
#include <tensorgrad/ops/view.h>

namespace tg::nn {

MultiheadAttention::MultiheadAttention(int64_t embed_dim, int64_t num_heads, MultiheadAttentionOptions options,
                                       Generator& gen)
    : Module("MultiheadAttention"), embed_dim_(embed_dim), num_heads_(num_heads), options_(options), gen_(&gen) {
  TG_CHECK(embed_dim > 0 && num_heads > 0 && embed_dim % num_heads == 0,
           "nn::MultiheadAttention: embed_dim must be a positive multiple of num_heads, got embed_dim=", embed_dim,
           ", num_heads=", num_heads);
  TG_CHECK(options.dropout >= 0.0 && options.dropout <= 1.0, "nn::MultiheadAttention: dropout must be in [0, 1], got ",
           options.dropout);
  // torch's initialisation: xavier_uniform_ in-projection, zero biases, out_proj a Linear with a zero bias.
  in_proj_weight = register_parameter("in_proj_weight", empty({3 * embed_dim, embed_dim}, options.dtype));
  init::xavier_uniform_(in_proj_weight, gen);
  if (options.bias) in_proj_bias = register_parameter("in_proj_bias", zeros({3 * embed_dim}, options.dtype));
  out_proj = register_module("out_proj", std::make_shared<Linear>(embed_dim, embed_dim,
                                                                  LinearOptions{.bias = options.bias, .dtype = options.dtype}, gen));
  if (options.bias) {
    tg::NoGradGuard no_grad;
    out_proj->bias.zero_();
  }
}

MultiheadAttention::Output MultiheadAttention::forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                                       const Tensor& key_padding_mask, bool need_weights,
                                                       const Tensor& attn_mask, bool average_attn_weights) {
  const char* op = "nn::MultiheadAttention";
  TG_CHECK(query.dim() == 3 && key.dim() == 3 && value.dim() == 3, op,
           ": query, key and value must be 3-D ([L, N, E], or [N, L, E] with batch_first), got ", query.shape(), ", ",
           key.shape(), ", ", value.shape());
  // Work batch-first: [N, L, E].
  const Tensor q_in = options_.batch_first ? query : transpose(query, 0, 1);
  const Tensor k_in = options_.batch_first ? key : transpose(key, 0, 1);
  const Tensor v_in = options_.batch_first ? value : transpose(value, 0, 1);
  const int64_t N = q_in.size(0), L = q_in.size(1), S = k_in.size(1), E = embed_dim_, H = num_heads_, D = E / H;
  TG_CHECK(q_in.size(2) == E && k_in.size(2) == E && v_in.size(2) == E, op, ": expected embedding size ", E,
           ", got query ", query.shape(), ", key ", key.shape(), ", value ", value.shape());
  TG_CHECK(k_in.size(0) == N && v_in.size(0) == N && v_in.size(1) == S, op, ": query ", query.shape(), ", key ",
           key.shape(), " and value ", value.shape(), " disagree on the batch size or the number of keys");

  // The three projections: rows [0, E), [E, 2E), [2E, 3E) of the packed weight, as torch packs them.
  auto project = [&](const Tensor& x, int64_t part) {
    const Tensor w = in_proj_weight.narrow(0, part * E, E);
    const Tensor b = in_proj_bias.defined() ? in_proj_bias.narrow(0, part * E, E) : Tensor();
    // [N, T, E] -> [N, H, T, D]
    return transpose(linear(x, w, b).reshape({N, x.size(1), H, D}), 1, 2);
  };
  const Tensor q = project(q_in, 0), k = project(k_in, 1), v = project(v_in, 2);

  // One additive or boolean mask over [N, H, L, S] in SDPA's convention (bool: true = take part).
  AttentionOptions attention;
  auto combine = [&](Tensor mask) {
    if (!mask.defined()) return;
    if (mask.dtype() == DType::Bool) mask = eq(mask, Scalar(false));  // torch MHA: true = excluded
    if (!attention.attn_mask.defined()) {
      attention.attn_mask = mask;
    } else if (mask.dtype() == DType::Bool && attention.attn_mask.dtype() == DType::Bool) {
      attention.attn_mask = minimum(attention.attn_mask, mask);  // bool: and
    } else {
      auto additive = [&](const Tensor& m) {
        return m.dtype() == DType::Bool ? where(m, zeros({}, q.dtype(), q.device()), Scalar(-INFINITY)) : m.to(q.dtype());
      };
      attention.attn_mask = additive(attention.attn_mask) + additive(mask);
    }
  };
  if (attn_mask.defined()) {
    TG_CHECK((attn_mask.dim() == 2 && attn_mask.size(0) == L && attn_mask.size(1) == S) ||
                 (attn_mask.dim() == 3 && attn_mask.size(0) == N * H && attn_mask.size(1) == L && attn_mask.size(2) == S),
             op, ": attn_mask must be [L, S] = [", L, ", ", S, "] or [N * H, L, S] = [", N * H, ", ", L, ", ", S,
             "], got ", attn_mask.shape());
    combine(attn_mask.dim() == 2 ? attn_mask : attn_mask.reshape({N, H, L, S}));
  }
  if (key_padding_mask.defined()) {
    TG_CHECK(key_padding_mask.dim() == 2 && key_padding_mask.size(0) == N && key_padding_mask.size(1) == S, op,
             ": key_padding_mask must be [N, S] = [", N, ", ", S, "], got ", key_padding_mask.shape());
    combine(key_padding_mask.reshape({N, 1, 1, S}));
  }
  attention.dropout_p = is_training() ? options_.dropout : 0.0;

  Output out;
  Tensor context;  // [N, H, L, D]
  if (need_weights) {
    const Tensor w = attention_weights(q, k, attention, *gen_);  // [N, H, L, S]
    context = matmul(w, v);
    out.weights = average_attn_weights ? mean(w, {1}) : w;
  } else {
    context = scaled_dot_product_attention(q, k, v, attention, *gen_);
  }
  Tensor y = out_proj->forward(transpose(context, 1, 2).reshape({N, L, E}));
  out.output = options_.batch_first ? y : transpose(y, 0, 1);
  return out;
}

Tensor MultiheadAttention::forward(const Tensor& x) { return forward(x, x, x, {}, /*need_weights=*/false).output; }

std::string MultiheadAttention::extra_repr() const {
  return detail::concat("embed_dim=", embed_dim_, ", num_heads=", num_heads_, ", dropout=", options_.dropout,
                        ", batch_first=", options_.batch_first ? "true" : "false");
}

}  // namespace tg::nn
