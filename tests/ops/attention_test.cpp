// scaled_dot_product_attention against a direct double-precision loop (softmax written out per row), with
// boolean, additive and causal masks, broadcast batch/head dims, fully masked rows (zeros, finite gradients),
// gradients (gradcheck, gradgradcheck), forward mode, dropout and the errors.
#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include <tensorgrad/tensorgrad.h>

#include "../support/expect_error.h"

namespace {

using tg::AttentionOptions;
using tg::DType;
using tg::Tensor;

// out[b, i, :] = sum_j w_ij v[b, j, :] with w the softmax over allowed j of scale * q_i . k_j (+ bias_ij);
// q [B, L, E], k [B, S, E], v [B, S, F] contiguous float64; allowed(b, i, j) and bias(b, i, j) given.
template <class Allowed, class Bias>
std::vector<double> reference(const Tensor& q, const Tensor& k, const Tensor& v, double scale, Allowed allowed,
                              Bias bias) {
  const int64_t B = q.size(0), L = q.size(1), E = q.size(2), S = k.size(1), F = v.size(2);
  const auto qv = q.to_vector<double>(), kv = k.to_vector<double>(), vv = v.to_vector<double>();
  std::vector<double> out(static_cast<size_t>(B * L * F), 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < L; ++i) {
      std::vector<double> s(static_cast<size_t>(S), -INFINITY);
      double m = -INFINITY;
      for (int64_t j = 0; j < S; ++j) {
        if (!allowed(b, i, j)) continue;
        double dot = 0;
        for (int64_t e = 0; e < E; ++e) dot += qv[static_cast<size_t>((b * L + i) * E + e)] * kv[static_cast<size_t>((b * S + j) * E + e)];
        s[static_cast<size_t>(j)] = scale * dot + bias(b, i, j);
        m = std::max(m, s[static_cast<size_t>(j)]);
      }
      if (m == -INFINITY) continue;  // nothing allowed: zeros
      double z = 0;
      for (double& x : s) z += (x = std::exp(x - m));
      for (int64_t j = 0; j < S; ++j)
        for (int64_t f = 0; f < F; ++f)
          out[static_cast<size_t>((b * L + i) * F + f)] += s[static_cast<size_t>(j)] / z * vv[static_cast<size_t>((b * S + j) * F + f)];
    }
  return out;
}

void expect_near(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "at " << i;
}

struct Inputs {
  Tensor q, k, v;
};
Inputs make(int64_t B, int64_t L, int64_t S, int64_t E, int64_t F, uint64_t seed) {
  tg::Generator gen(seed);
  return {tg::randn({B, L, E}, DType::Float64, gen), tg::randn({B, S, E}, DType::Float64, gen),
          tg::randn({B, S, F}, DType::Float64, gen)};
}

TEST(OpsAttention, MatchesTheDefinitionWithoutMask) {
  const Inputs x = make(2, 5, 7, 4, 3, 1);
  const Tensor out = tg::scaled_dot_product_attention(x.q, x.k, x.v);
  EXPECT_EQ(out.shape(), (tg::Shape{2, 5, 3}));
  expect_near(out.to_vector<double>(),
              reference(x.q, x.k, x.v, 0.5, [](auto...) { return true; }, [](auto...) { return 0.0; }), 1e-12);
}

TEST(OpsAttention, BoolAdditiveAndCausalMasks) {
  const Inputs x = make(2, 4, 6, 3, 2, 2);
  tg::Generator gen(9);
  // Key padding: batch 0 keeps 6 keys, batch 1 keeps 4; as [B, 1, S] broadcast over the queries.
  const Tensor keep = tg::from_vector<bool>({1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0}, {2, 1, 6});
  AttentionOptions o;
  o.attn_mask = keep;
  o.scale = 0.7;
  expect_near(tg::scaled_dot_product_attention(x.q, x.k, x.v, o).to_vector<double>(),
              reference(x.q, x.k, x.v, 0.7, [](int64_t b, int64_t, int64_t j) { return b == 0 || j < 4; },
                        [](auto...) { return 0.0; }),
              1e-12);
  const Tensor bias = tg::randn({4, 6}, DType::Float64, gen);
  const auto bv = bias.to_vector<double>();
  AttentionOptions additive;
  additive.attn_mask = bias;
  additive.is_causal = true;
  expect_near(tg::scaled_dot_product_attention(x.q, x.k, x.v, additive).to_vector<double>(),
              reference(x.q, x.k, x.v, 1.0 / std::sqrt(3.0), [](int64_t, int64_t i, int64_t j) { return j <= i; },
                        [&](int64_t, int64_t i, int64_t j) { return bv[static_cast<size_t>(i * 6 + j)]; }),
              1e-12);
}

TEST(OpsAttention, BroadcastHeadsAndBatch) {
  tg::Generator gen(3);
  const Tensor q = tg::randn({2, 3, 4, 5}, DType::Float64, gen);  // [N, H, L, E]
  const Tensor k = tg::randn({1, 3, 6, 5}, DType::Float64, gen);  // shared across the batch
  const Tensor v = tg::randn({2, 1, 6, 2}, DType::Float64, gen);  // shared across the heads
  const Tensor out = tg::scaled_dot_product_attention(q, k, v);
  EXPECT_EQ(out.shape(), (tg::Shape{2, 3, 4, 2}));
  const Tensor direct = tg::matmul(tg::softmax(tg::matmul(q, k.transpose(-2, -1)) / std::sqrt(5.0), -1), v);
  expect_near(out.to_vector<double>(), direct.to_vector<double>(), 1e-12);
}

TEST(OpsAttention, AFullyMaskedRowGivesZerosAndFiniteGradients) {
  Inputs x = make(1, 3, 4, 2, 2, 4);
  x.q.requires_grad_();
  x.k.requires_grad_();
  x.v.requires_grad_();
  AttentionOptions o;
  o.attn_mask = tg::from_vector<bool>({1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1}, {3, 4});  // row 1 sees nothing
  const Tensor out = tg::scaled_dot_product_attention(x.q, x.k, x.v, o);
  const auto values = out.to_vector<double>();
  EXPECT_EQ(values[2], 0.0);
  EXPECT_EQ(values[3], 0.0);
  tg::sum(out * out).backward();
  for (const Tensor& t : {x.q, x.k, x.v})
    for (double g : t.grad().to_vector<double>()) EXPECT_TRUE(std::isfinite(g));
  EXPECT_EQ(x.q.grad().to_vector<double>()[2], 0.0);  // query 1 took part in nothing
}

TEST(OpsAttention, GradientsOfFirstAndSecondOrder) {
  const Inputs x = make(2, 3, 4, 2, 3, 5);
  const Tensor keep = tg::from_vector<bool>({1, 1, 1, 0, 1, 1, 1, 1}, {2, 1, 4});
  auto fn = [&](const tg::TensorList& in) {
    AttentionOptions o;
    o.attn_mask = keep;
    o.is_causal = true;
    return tg::scaled_dot_product_attention(in[0], in[1], in[2], o);
  };
  tg::TensorList inputs{x.q.clone().requires_grad_(), x.k.clone().requires_grad_(), x.v.clone().requires_grad_()};
  const auto first = tg::gradcheck(fn, inputs);
  EXPECT_TRUE(first.ok) << first.message;
  const auto second = tg::gradgradcheck(fn, inputs);
  EXPECT_TRUE(second.ok) << second.message;
}

TEST(OpsAttention, ForwardModeMatchesReverseMode) {
  const Inputs x = make(1, 3, 5, 4, 2, 6);
  tg::Generator gen(7);
  const Tensor dq = tg::randn(x.q.shape(), DType::Float64, gen);
  auto f = [&](const Tensor& q) { return tg::scaled_dot_product_attention(q, x.k, x.v); };
  const auto [out, tangent] = tg::jvp(f, x.q, dq);
  // <J dq, u> == <dq, J^T u>
  const Tensor u = tg::randn(out.shape(), DType::Float64, gen);
  const tg::VjpResult r = tg::vjp(f, x.q);
  const double lhs = tg::sum(tangent * u).item(), rhs = tg::sum(dq * r.pullback(u)).item();
  EXPECT_NEAR(lhs, rhs, 1e-10 * (1 + std::abs(lhs)));
}

TEST(OpsAttention, DropoutOfOneGivesZeros) {
  const Inputs x = make(1, 2, 3, 2, 2, 8);
  AttentionOptions o;
  o.dropout_p = 1.0;
  for (double v : tg::scaled_dot_product_attention(x.q, x.k, x.v, o).to_vector<double>()) EXPECT_EQ(v, 0.0);
}

TEST(OpsAttention, Errors) {
  const Inputs x = make(1, 2, 3, 4, 2, 10);
  EXPECT_TG_ERROR(tg::scaled_dot_product_attention(x.q, x.k.narrow(2, 0, 3), x.v), "tg::scaled_dot_product_attention",
                  "embedding size E");
  EXPECT_TG_ERROR(tg::scaled_dot_product_attention(x.q, x.k, x.v.narrow(1, 0, 2)), "number of keys S");
  EXPECT_TG_ERROR(tg::scaled_dot_product_attention(x.q, x.k, x.v.to(DType::Float32)), "one floating dtype");
  AttentionOptions o;
  o.attn_mask = tg::ones({5, 3}, DType::Bool);
  EXPECT_TG_ERROR(tg::scaled_dot_product_attention(x.q, x.k, x.v, o), "attn_mask [5, 3]");
}

}  // namespace
