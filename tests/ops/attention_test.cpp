// scaled_dot_product_attention against a direct double-precision loop (softmax written out per row), with
// boolean, additive and causal masks, broadcast batch/head dims, fully masked rows (zeros, finite gradients),
// gradients (gradcheck, gradgradcheck), forward mode, dropout and the errors.
#include <cmath>
#include <functional>
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

// The fused kernels (the path every call without dropout takes) against the composed formulation
// matmul(attention_weights(q, k), v): outputs and the gradients of q, k and v, on shapes that cross the
// kernel's blocks, with key padding broadcast over heads and queries, a causal mask, an additive mask holding
// -inf, and k / v shared across heads (their gradients summed over the broadcast).
TEST(OpsAttention, FusedKernelAndComposedFormAgree) {
  tg::Generator gen(21);
  const int64_t N = 2, H = 3, L = 100, S = 300, E = 16, F = 8;
  const Tensor q = tg::randn({N, H, L, E}, DType::Float64, gen);
  const Tensor k = tg::randn({N, 1, S, E}, DType::Float64, gen);
  const Tensor v = tg::randn({N, 1, S, F}, DType::Float64, gen);
  const Tensor go = tg::randn({N, H, L, F}, DType::Float64, gen);
  Tensor additive = tg::randn({L, S}, DType::Float64, gen);
  additive = tg::where(tg::gt(additive, tg::Scalar(1.0)), tg::Scalar(-INFINITY), additive);
  std::vector<AttentionOptions> variants(3);
  variants[0].attn_mask = tg::lt(tg::rand({N, 1, 1, S}, DType::Float64, gen), tg::Scalar(0.7));
  variants[1].is_causal = true;
  variants[1].scale = 0.2;
  variants[2].attn_mask = additive;
  for (DType dt : {DType::Float64, DType::BFloat16}) {
    for (const AttentionOptions& base : variants) {
      AttentionOptions o = base;
      if (o.attn_mask.defined() && o.attn_mask.dtype() != DType::Bool) o.attn_mask = o.attn_mask.to(dt);
      // bfloat16: against the composed form in float32 on the same (rounded) inputs.
      const DType ref_dt = dt == DType::Float64 ? dt : DType::Float32;
      const auto leaf = [](const Tensor& t, DType d) { return t.to(d).detach().requires_grad_(); };
      const Tensor fq = leaf(q, dt), fk = leaf(k, dt), fv = leaf(v, dt);
      const Tensor rq = leaf(fq, ref_dt), rk = leaf(fk, ref_dt), rv = leaf(fv, ref_dt);
      const Tensor fused = tg::scaled_dot_product_attention(fq, fk, fv, o);
      fused.backward(go.to(dt));
      AttentionOptions ro = o;
      if (ro.attn_mask.defined() && ro.attn_mask.dtype() != DType::Bool) ro.attn_mask = ro.attn_mask.to(ref_dt);
      const Tensor composed = tg::matmul(tg::attention_weights(rq, rk, ro), rv);
      composed.backward(go.to(ref_dt));
      const double tol = dt == DType::Float64 ? 1e-12 : 0.05;
      const auto check = [&](const Tensor& got, const Tensor& want, const char* what) {
        const double err = tg::max(tg::abs(got.to(DType::Float64) - want.to(DType::Float64))).item();
        const double size = tg::max(tg::abs(want.to(DType::Float64))).item();
        EXPECT_LE(err, tol * (1 + size)) << what << " " << tg::dtype_name(dt);
      };
      check(fused, composed, "out");
      check(fq.grad(), rq.grad(), "grad q");
      check(fk.grad(), rk.grad(), "grad k");
      check(fv.grad(), rv.grad(), "grad v");
      EXPECT_EQ(fk.grad().shape(), k.shape());
    }
  }
}

// The fused forward and backward hold O(L + S) extra memory, never the [L, S] scores: the allocator's peak
// over a forward and backward is at most a quarter of the composed form's (the benchmark's 2048 case is in
// docs/PERFORMANCE.md; here L = S = 512, small enough for the sanitizer run).
TEST(OpsAttention, FusedPathNeverHoldsTheScoreMatrix) {
  tg::Generator gen(22);
  const Tensor q = tg::randn({2, 2, 512, 32}, DType::Float32, gen).requires_grad_();
  const Tensor k = tg::randn({2, 2, 512, 32}, DType::Float32, gen).requires_grad_();
  const Tensor v = tg::randn({2, 2, 512, 32}, DType::Float32, gen).requires_grad_();
  const auto peak_of = [&](const std::function<Tensor()>& run) {
    for (const Tensor* t : {&q, &k, &v}) t->zero_grad();
    tg::Allocator& a = tg::cpu_allocator();
    const int64_t before = a.stats().current_bytes;
    a.reset_peak();
    tg::sum(run()).backward();
    return a.stats().peak_bytes - before;
  };
  const int64_t fused = peak_of([&] { return tg::scaled_dot_product_attention(q, k, v); });
  const int64_t composed = peak_of([&] { return tg::matmul(tg::attention_weights(q, k), v); });
  const int64_t scores = 2 * 2 * 512 * 512 * 4;
  EXPECT_LT(fused, scores / 2) << "fused " << fused << " bytes, composed " << composed;
  EXPECT_LE(4 * fused, composed) << "fused " << fused << " bytes, composed " << composed;
}

// A floating mask that needs a gradient takes the composed path, and gets its gradient.
TEST(OpsAttention, AnAdditiveMaskCanBeDifferentiated) {
  const Inputs x = make(2, 3, 4, 2, 3, 11);
  tg::Generator gen(12);
  const Tensor bias = tg::randn({3, 4}, DType::Float64, gen).requires_grad_();
  auto fn = [&](const tg::TensorList& in) {
    AttentionOptions o;
    o.attn_mask = in[3];
    return tg::scaled_dot_product_attention(in[0], in[1], in[2], o);
  };
  const auto r = tg::gradcheck(fn, {x.q.clone().requires_grad_(), x.k.clone().requires_grad_(),
                                     x.v.clone().requires_grad_(), bias});
  EXPECT_TRUE(r.ok) << r.message;
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
