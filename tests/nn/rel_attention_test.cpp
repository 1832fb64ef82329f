// Relative-position multi-head attention against the direct formula
//   score(i, j) = ((q_i + u) . k_j + (q_i + v) . p_{i-j}) / sqrt(d_k)
// written as loops over every (n, h, i, j) here, with and without key padding; the encoding's values; gradcheck.
#include <gtest/gtest.h>

#include <cmath>

#include <tensorgrad/tensorgrad.h>

#include "support/expect_error.h"
#include "support/oracle.h"

namespace {

using tg::DType;
using tg::Tensor;

TEST(RelPositionalEncoding, SinesAndCosinesOfRelativePositions) {
  const Tensor pe = tg::nn::relative_positional_encoding(3, 4, DType::Float64);
  ASSERT_EQ(pe.shape(), (tg::Shape{1, 5, 4}));
  const auto v = pe.to_vector<double>();
  for (int64_t m = 0; m < 5; ++m) {
    const double r = 2.0 - static_cast<double>(m);  // positions 2, 1, 0, -1, -2
    for (int64_t i = 0; i < 2; ++i) {
      const double angle = r / std::pow(10000.0, 2.0 * static_cast<double>(i) / 4.0);
      EXPECT_NEAR(v[static_cast<size_t>(m * 4 + 2 * i)], std::sin(angle), 1e-15);
      EXPECT_NEAR(v[static_cast<size_t>(m * 4 + 2 * i + 1)], std::cos(angle), 1e-15);
    }
  }
  EXPECT_TG_ERROR(tg::nn::relative_positional_encoding(3, 5), "even d_model");
}

// The module's output by loops over the definition (projections by matmul, everything after by hand).
Tensor direct(tg::nn::RelPositionMultiHeadAttention& m, const Tensor& x, const std::vector<int64_t>& lengths,
              int64_t heads) {
  const int64_t n = x.size(0), t = x.size(1), d = x.size(2), dk = d / heads;
  const auto q = m.linear_q->forward(x).to_vector<double>(), k = m.linear_k->forward(x).to_vector<double>(),
             v = m.linear_v->forward(x).to_vector<double>();
  const auto p = m.linear_pos->forward(tg::nn::relative_positional_encoding(t, d, DType::Float64)).to_vector<double>();
  const auto u = m.pos_bias_u.to_vector<double>(), w = m.pos_bias_v.to_vector<double>();
  std::vector<double> ctx(static_cast<size_t>(n * t * d), 0.0);
  auto at = [](int64_t i) { return static_cast<size_t>(i); };
  for (int64_t b = 0; b < n; ++b)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < t; ++i) {
        std::vector<double> score(at(t), -INFINITY);
        double best = -INFINITY;
        for (int64_t j = 0; j < lengths[at(b)]; ++j) {
          const int64_t rel_row = (t - 1) - (i - j);  // pos_emb row of relative position i - j
          double s = 0;
          for (int64_t e = 0; e < dk; ++e) {
            const double qi = q[at((b * t + i) * d + h * dk + e)];
            s += (qi + u[at(h * dk + e)]) * k[at((b * t + j) * d + h * dk + e)];
            s += (qi + w[at(h * dk + e)]) * p[at(rel_row * d + h * dk + e)];
          }
          score[at(j)] = s / std::sqrt(static_cast<double>(dk));
          best = std::max(best, score[at(j)]);
        }
        double z = 0;
        for (int64_t j = 0; j < lengths[at(b)]; ++j) z += std::exp(score[at(j)] - best);
        for (int64_t j = 0; j < lengths[at(b)]; ++j)
          for (int64_t e = 0; e < dk; ++e)
            ctx[at((b * t + i) * d + h * dk + e)] +=
                std::exp(score[at(j)] - best) / z * v[at((b * t + j) * d + h * dk + e)];
      }
  return m.linear_out->forward(tg::from_vector<double>(ctx, {n, t, d}));
}

TEST(RelPositionMultiHeadAttention, MatchesTheDirectFormulaWithAndWithoutPadding) {
  tg::Generator gen(8);
  tg::nn::RelPositionMultiHeadAttention m(6, 2, {.dtype = DType::Float64}, gen);
  m.pos_bias_u.detach().copy_(tg::randn({2, 3}, DType::Float64, gen));  // non-zero, so they act
  m.pos_bias_v.detach().copy_(tg::randn({2, 3}, DType::Float64, gen));
  const Tensor x = tg::randn({2, 5, 6}, DType::Float64, gen);
  const Tensor pe = tg::nn::relative_positional_encoding(5, 6, DType::Float64);
  for (const std::vector<int64_t>& lengths : {std::vector<int64_t>{5, 5}, std::vector<int64_t>{5, 3}}) {
    Tensor mask;
    if (lengths[1] < 5) mask = tg::nn::padding_mask(tg::from_vector<int64_t>(lengths), 5);
    const Tensor got = m.forward(x, pe, mask);
    const std::string diff = tgtest::compare(tgtest::to_ref(got), tgtest::to_ref(direct(m, x, lengths, 2)), {1e-12, 1e-12});
    EXPECT_TRUE(diff.empty()) << "lengths " << lengths[0] << ", " << lengths[1] << ": " << diff;
  }
  EXPECT_EQ(m.named_parameters().size(), 11u);  // q, k, v, out (weight and bias), pos (weight), u, v
  EXPECT_TG_ERROR(m.forward(x, tg::nn::relative_positional_encoding(4, 6, DType::Float64), {}), "pos_emb must be");
}

TEST(RelPositionMultiHeadAttention, Gradcheck) {
  tg::Generator gen(9);
  tg::nn::RelPositionMultiHeadAttention m(4, 2, {.dtype = DType::Float64}, gen);
  m.pos_bias_u.detach().copy_(tg::randn({2, 2}, DType::Float64, gen));
  const Tensor x = tg::randn({1, 3, 4}, DType::Float64, gen).requires_grad_(true);
  const Tensor pe = tg::nn::relative_positional_encoding(3, 4, DType::Float64);
  const tg::GradcheckResult r = tg::gradcheck([&](const tg::TensorList& xs) { return m.forward(xs[0], pe, {}); }, {x});
  EXPECT_TRUE(r.ok) << r.message;
  // Every parameter gets a gradient.
  tg::sum(m.forward(x, pe, {})).backward();
  for (const auto& [name, p] : m.named_parameters()) EXPECT_TRUE(p.grad().defined()) << name;
}

}  // namespace
