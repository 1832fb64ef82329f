// nn::MultiheadAttention: torch's parameter names and shapes, and its output and averaged weights against the
// formula written out per head (in float64), with torch's mask conventions (true = excluded).
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include <tensorgrad/tensorgrad.h>

#include "../support/expect_error.h"

namespace {

using tg::DType;
using tg::Tensor;
using tg::nn::MultiheadAttention;

TEST(NnMultiheadAttention, TorchNamesAndShapes) {
  MultiheadAttention mha(8, 2);
  const auto named = mha.named_parameters();
  ASSERT_EQ(named.size(), 4u);
  EXPECT_EQ(named[0].first, "in_proj_weight");
  EXPECT_EQ(named[0].second.shape(), (tg::Shape{24, 8}));
  EXPECT_EQ(named[1].first, "in_proj_bias");
  EXPECT_EQ(named[2].first, "out_proj.weight");
  EXPECT_EQ(named[3].first, "out_proj.bias");
  for (double b : named[1].second.to_vector<float>()) EXPECT_EQ(b, 0.0);  // torch initialises biases to zero
  EXPECT_TG_ERROR(MultiheadAttention(10, 3), "multiple of num_heads");
}

// The module's computation written out head by head with plain ops: x W^T + b, softmax per head, the
// masked entries set to -inf, out_proj.
TEST(NnMultiheadAttention, MatchesThePerHeadFormulaWithMasks) {
  tg::Generator gen(4);
  const int64_t L = 3, S = 5, N = 2, E = 6, H = 3, D = 2;
  MultiheadAttention mha(E, H, {.dtype = DType::Float64}, gen);
  {
    tg::NoGradGuard no_grad;
    mha.in_proj_bias.copy_(tg::randn({3 * E}, DType::Float64, gen));
    mha.out_proj->bias.copy_(tg::randn({E}, DType::Float64, gen));
  }
  const Tensor q = tg::randn({L, N, E}, DType::Float64, gen), k = tg::randn({S, N, E}, DType::Float64, gen),
               v = tg::randn({S, N, E}, DType::Float64, gen);
  const Tensor padding = tg::from_vector<bool>({0, 0, 0, 0, 0, 0, 0, 0, 1, 1}, {N, S});  // batch 1: 3 keys
  const Tensor attn_mask = tg::from_vector<bool>({0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}, {L, S});
  const auto result = mha.forward(q, k, v, padding, /*need_weights=*/true, attn_mask);
  ASSERT_EQ(result.output.shape(), (tg::Shape{L, N, E}));
  ASSERT_EQ(result.weights.shape(), (tg::Shape{N, L, S}));

  const Tensor W = mha.in_proj_weight, B = mha.in_proj_bias;
  const auto pad = padding.to_vector<bool>(), am = attn_mask.to_vector<bool>();
  std::vector<double> want_out, want_w(static_cast<size_t>(N * L * S), 0.0);
  for (int64_t n = 0; n < N; ++n) {
    auto proj = [&](const Tensor& x, int64_t part) {  // [T, E] -> [T, E]
      return tg::matmul(tg::select(x, 1, n), W.narrow(0, part * E, E).t()) + B.narrow(0, part * E, E);
    };
    const Tensor qn = proj(q, 0), kn = proj(k, 1), vn = proj(v, 2);
    std::vector<Tensor> heads;
    for (int64_t h = 0; h < H; ++h) {
      Tensor s = tg::matmul(qn.narrow(1, h * D, D), kn.narrow(1, h * D, D).t()) / std::sqrt(double(D));
      std::vector<double> sv = s.contiguous().to_vector<double>();
      for (int64_t i = 0; i < L; ++i)
        for (int64_t j = 0; j < S; ++j)
          if (pad[static_cast<size_t>(n * S + j)] || am[static_cast<size_t>(i * S + j)]) sv[static_cast<size_t>(i * S + j)] = -INFINITY;
      const Tensor w = tg::softmax(tg::from_vector<double>(sv, {L, S}), 1);
      const auto wv = w.to_vector<double>();
      for (size_t i = 0; i < wv.size(); ++i) want_w[static_cast<size_t>(n * L * S) + i] += wv[i] / double(H);
      heads.push_back(tg::matmul(w, vn.narrow(1, h * D, D)));
    }
    const Tensor y = mha.out_proj->forward(tg::cat(heads, 1));  // [L, E]
    for (double x : y.to_vector<double>()) want_out.push_back(x);
  }
  const auto got = tg::transpose(result.output, 0, 1).contiguous().to_vector<double>();
  ASSERT_EQ(got.size(), want_out.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want_out[i], 1e-12) << i;
  const auto got_w = result.weights.to_vector<double>();
  for (size_t i = 0; i < got_w.size(); ++i) EXPECT_NEAR(got_w[i], want_w[i], 1e-12) << i;
}

TEST(NnMultiheadAttention, BatchFirstIsTheSameComputationAndGradientsFlow) {
  tg::Generator g1(7), g2(7), gen(8);
  MultiheadAttention seq_first(4, 2, {.dtype = DType::Float64}, g1);
  MultiheadAttention batch_first(4, 2, {.batch_first = true, .dtype = DType::Float64}, g2);
  const Tensor x = tg::randn({3, 2, 4}, DType::Float64, gen);  // [L, N, E]
  const Tensor a = seq_first.forward(x);
  const Tensor b = batch_first.forward(tg::transpose(x, 0, 1));
  const auto av = a.contiguous().to_vector<double>(), bv = tg::transpose(b, 0, 1).contiguous().to_vector<double>();
  for (size_t i = 0; i < av.size(); ++i) EXPECT_NEAR(av[i], bv[i], 1e-14);
  tg::sum(a * a).backward();
  for (const Tensor& p : seq_first.parameters()) {
    ASSERT_TRUE(p.grad().defined());
    EXPECT_GT(tg::sum(tg::abs(p.grad())).item(), 0.0);
  }
}

TEST(NnMultiheadAttention, BadShapesAreErrors) {
  MultiheadAttention mha(4, 2);
  const Tensor x = tg::randn({3, 2, 4});
  EXPECT_TG_ERROR(mha.forward(x, x, x, tg::ones({2, 5}, DType::Bool)), "key_padding_mask must be [N, S] = [2, 3]");
  EXPECT_TG_ERROR(mha.forward(x, x, x, {}, true, tg::ones({2, 2}, DType::Bool)), "attn_mask must be [L, S]");
  EXPECT_TG_ERROR(mha.forward(tg::randn({3, 2, 5})), "expected embedding size 4");
}

}  // namespace
