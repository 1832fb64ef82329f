// Neural-network functional ops: hand-computed values, the properties the op-spec table cannot express
// (fused backward, ignore_index counting, running-stat updates, dropout's mask statistics), and one test per
// class of bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>

#include <tensorgrad/base/threads.h>

#include "support/expect_error.h"
#include "support/oracle.h"

namespace tgtest {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

Tensor F(const Shape& shape, const std::vector<double>& values, DType dtype = DType::Float64) {
  return make_tensor(shape, values, dtype);
}
Tensor I(const Shape& shape, const std::vector<double>& values) { return make_tensor(shape, values, DType::Int64); }
Tensor Iota(const Shape& shape, DType dtype = DType::Float64) {
  std::vector<double> v(static_cast<size_t>(count(shape)));
  std::iota(v.begin(), v.end(), 0.0);
  return make_tensor(shape, v, dtype);
}
Tensor leaf(Tensor t) {
  t.requires_grad_(true);
  return t;
}

void expect_near_all(const std::vector<double>& got, const std::vector<double>& want, double tol,
                     const std::string& what = "") {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << what << " element " << i;
}

double lse(const std::vector<double>& row) {
  double m = row[0];
  for (double v : row) m = std::max(m, v);
  double s = 0;
  for (double v : row) s += std::exp(v - m);
  return m + std::log(s);
}

std::vector<double> softmax_row(const std::vector<double>& row) {
  const double l = lse(row);
  std::vector<double> out;
  for (double v : row) out.push_back(std::exp(v - l));
  return out;
}

// ============================================================== cross_entropy
TEST(NnCrossEntropy, KnownValues) {
  const Tensor x = F({2, 3}, {1, 2, 3, 1, 1, 1});
  const Tensor y = I({2}, {2, 0});
  const double l0 = lse({1, 2, 3}) - 3, l1 = std::log(3.0);
  EXPECT_NEAR(tg::cross_entropy(x, y).item(), (l0 + l1) / 2, 1e-12);
  EXPECT_NEAR(tg::cross_entropy(x, y, {.reduction = tg::Reduction::Sum}).item(), l0 + l1, 1e-12);
  expect_near_all(to_doubles(tg::cross_entropy(x, y, {.reduction = tg::Reduction::None})), {l0, l1}, 1e-12);
  // Label smoothing eps: (1 - eps) * nll + eps / C * sum_c (-log p_c).
  const double eps = 0.1;
  const double s0 = 3 * lse({1, 2, 3}) - 6, s1 = 3 * std::log(3.0);
  const double want = ((1 - eps) * l0 + eps / 3 * s0 + (1 - eps) * l1 + eps / 3 * s1) / 2;
  EXPECT_NEAR(tg::cross_entropy(x, y, {.label_smoothing = eps}).item(), want, 1e-12);
}

TEST(NnCrossEntropy, IgnoreIndexMeanDividesByCountedTargets) {
  const std::vector<double> xv = {0.5, -1, 2, 3, 0, 1, -2, 1.5, 0.25};
  const Tensor x = leaf(F({3, 3}, xv));
  const Tensor y = I({3}, {2, -100, 0});
  const double l0 = lse({0.5, -1, 2}) - 2, l2 = lse({-2, 1.5, 0.25}) + 2;
  const Tensor loss = tg::cross_entropy(x, y);
  EXPECT_NEAR(loss.item(), (l0 + l2) / 2, 1e-12);  // divided by 2 counted targets, not 3
  expect_near_all(to_doubles(tg::cross_entropy(x, y, {.reduction = tg::Reduction::None})), {l0, 0, l2}, 1e-12);
  loss.backward();
  // (softmax - one_hot) / count on counted rows, 0 on the ignored one.
  std::vector<double> want;
  const std::vector<int> targets = {2, -1, 0};
  for (int i = 0; i < 3; ++i) {
    const auto p = softmax_row({xv[3 * i], xv[3 * i + 1], xv[3 * i + 2]});
    for (int c = 0; c < 3; ++c) want.push_back(targets[i] < 0 ? 0.0 : (p[c] - (c == targets[i])) / 2);
  }
  expect_near_all(to_doubles(x.grad()), want, 1e-12);
}

TEST(NnCrossEntropy, CustomIgnoreIndexInsideTheClassRange) {
  const Tensor x = F({3, 2}, {1, 2, 3, 4, 0, 0});
  const Tensor y = I({3}, {1, 0, 1});
  // ignore_index 0 drops row 1.
  const double l0 = lse({1, 2}) - 2, l2 = std::log(2.0);
  EXPECT_NEAR(tg::cross_entropy(x, y, {.ignore_index = 0}).item(), (l0 + l2) / 2, 1e-12);
}

TEST(NnCrossEntropy, AllIgnoredMeanIsNaN) {
  const Tensor x = leaf(F({2, 3}, {1, 2, 3, 4, 5, 6}));
  const Tensor y = I({2}, {-100, -100});
  EXPECT_TRUE(std::isnan(tg::cross_entropy(x, y).item()));
  EXPECT_EQ(tg::cross_entropy(x, y, {.reduction = tg::Reduction::Sum}).item(), 0.0);
}

TEST(NnCrossEntropy, GradientIsSoftmaxMinusSmoothedOneHot) {
  const std::vector<double> xv = {0.1, 0.2, -0.3, 0.4, 1.0, -1.0, 0.0, 2.0};
  const Tensor x = leaf(F({2, 4}, xv));
  const Tensor y = I({2}, {3, 0});
  const double eps = 0.2;
  const Tensor loss = tg::cross_entropy(x, y, {.reduction = tg::Reduction::Sum, .label_smoothing = eps});
  const Tensor g = tg::grad({loss}, {x})[0];
  std::vector<double> want;
  for (int i = 0; i < 2; ++i) {
    const auto p = softmax_row({xv.begin() + 4 * i, xv.begin() + 4 * i + 4});
    const int t = i == 0 ? 3 : 0;
    for (int c = 0; c < 4; ++c) want.push_back(p[c] - ((c == t ? 1 - eps : 0) + eps / 4));
  }
  expect_near_all(to_doubles(g), want, 1e-12);
}

TEST(NnCrossEntropy, NoneReductionScalesRowsByUpstream) {
  const std::vector<double> xv = {0.3, -0.2, 1.1, 0.0, 0.5, -0.5};
  const Tensor x = leaf(F({2, 3}, xv));
  const Tensor loss = tg::cross_entropy(x, I({2}, {1, 2}), {.reduction = tg::Reduction::None});
  const Tensor g = tg::grad({loss}, {x}, {F({2}, {2.0, -3.0})})[0];
  std::vector<double> want;
  for (int i = 0; i < 2; ++i) {
    const auto p = softmax_row({xv.begin() + 3 * i, xv.begin() + 3 * i + 3});
    for (int c = 0; c < 3; ++c) want.push_back((p[c] - (c == i + 1)) * (i == 0 ? 2.0 : -3.0));
  }
  expect_near_all(to_doubles(g), want, 1e-12);
}

// One fused node straight onto the logits: no log_softmax / gather / scatter chain in the backward graph.
TEST(NnCrossEntropy, BackwardIsOneFusedNode) {
  const Tensor x = leaf(Iota({4, 5}));
  const Tensor loss = tg::cross_entropy(x, I({4}, {0, 1, 2, 3}), {.label_smoothing = 0.1});
  ASSERT_TRUE(loss.grad_fn());
  EXPECT_EQ(loss.grad_fn()->name(), "cross_entropy");
  ASSERT_EQ(loss.grad_fn()->next_edges().size(), 1u);
  EXPECT_EQ(loss.grad_fn()->next_edges()[0].node->name(), "AccumulateGrad");
}

TEST(NnCrossEntropy, MatchesLogSoftmaxThenNll) {
  std::mt19937 rng(7);
  const Tensor x = leaf(F({6, 5}, uniform(rng, 30, -3, 3)));
  const Tensor y = I({6}, {4, 0, 2, 2, 1, 3});
  const Tensor fused = tg::cross_entropy(x, y);
  const Tensor composed = tg::nll_loss(tg::log_softmax(x, 1), y);
  EXPECT_NEAR(fused.item(), composed.item(), 1e-12);
  expect_near_all(to_doubles(tg::grad({fused}, {x})[0]), to_doubles(tg::grad({composed}, {x})[0]), 1e-12);
}

TEST(NnCrossEntropy, StableForHugeAndInfiniteLogits) {
  const Tensor x = leaf(F({1, 3}, {1000, -1000, 0}, DType::Float32));
  const Tensor loss = tg::cross_entropy(x, I({1}, {1}));
  EXPECT_NEAR(loss.item(), 2000.0, 1e-3);
  loss.backward();
  expect_near_all(to_doubles(x.grad()), {1, -1, 0}, 1e-6);
  // A masked (-inf) class other than the target leaves the unsmoothed loss and its gradient finite.
  const Tensor m = leaf(F({1, 3}, {0, -kInf, 0}));
  const Tensor lm = tg::cross_entropy(m, I({1}, {0}));
  EXPECT_NEAR(lm.item(), std::log(2.0), 1e-12);
  lm.backward();
  expect_near_all(to_doubles(m.grad()), {-0.5, 0, 0.5}, 1e-12);
}

TEST(NnCrossEntropy, Float32KeepsDtype) {
  const Tensor x = F({2, 3}, {1, 2, 3, 1, 1, 1}, DType::Float32);
  const Tensor loss = tg::cross_entropy(x, I({2}, {2, 0}));
  EXPECT_EQ(loss.dtype(), DType::Float32);
  EXPECT_EQ(loss.dim(), 0);
}

// ============================================================== nll / mse / bce
TEST(NnNllLoss, KnownValuesAndGradient) {
  const Tensor lp = leaf(F({3, 2}, {-0.1, -2.3, -1.2, -0.4, -0.7, -0.7}));
  const Tensor y = I({3}, {0, 1, -100});
  const Tensor loss = tg::nll_loss(lp, y);
  EXPECT_NEAR(loss.item(), (0.1 + 0.4) / 2, 1e-12);
  loss.backward();
  expect_near_all(to_doubles(lp.grad()), {-0.5, 0, 0, -0.5, 0, 0}, 1e-12);
}

TEST(NnMseLoss, KnownValues) {
  const Tensor a = leaf(F({2, 2}, {1, 2, 3, 4}));
  const Tensor b = F({2, 2}, {0, 2, 5, 4});
  EXPECT_NEAR(tg::mse_loss(a, b).item(), (1 + 0 + 4 + 0) / 4.0, 1e-12);
  EXPECT_NEAR(tg::mse_loss(a, b, tg::Reduction::Sum).item(), 5.0, 1e-12);
  expect_near_all(to_doubles(tg::mse_loss(a, b, tg::Reduction::None)), {1, 0, 4, 0}, 1e-12);
  tg::mse_loss(a, b).backward();
  expect_near_all(to_doubles(a.grad()), {0.5, 0, -1, 0}, 1e-12);  // 2 (a - b) / n
}

TEST(NnBceWithLogits, StableForLargeLogits) {
  for (DType dt : {DType::Float32, DType::Float64}) {
    const Tensor x = leaf(F({4}, {-100, 100, 0, 30}, dt));
    const Tensor y = F({4}, {1, 1, 0.25, 0}, dt);
    const Tensor loss = tg::binary_cross_entropy_with_logits(x, y, tg::Reduction::None);
    // max(x, 0) - x y + log1p(exp(-|x|))
    expect_near_all(to_doubles(loss), {100, 0, std::log(2.0), 30}, 1e-5, tg::dtype_name(dt));
    tg::sum(loss).backward();
    // sigmoid(x) - y, and exactly 1/2 - y at x = 0.
    expect_near_all(to_doubles(x.grad()), {-1, 0, 0.25, 1}, 1e-6, tg::dtype_name(dt));
    EXPECT_EQ(to_doubles(x.grad())[2], 0.25);
  }
}

TEST(NnBceWithLogits, PosWeightScalesThePositiveTerm) {
  const Tensor x = leaf(F({2, 2}, {0.5, -1, 2, 0}));
  const Tensor y = leaf(F({2, 2}, {1, 0, 0.5, 1}));
  const Tensor pw = leaf(F({2}, {3, 0.5}));
  const Tensor loss = tg::binary_cross_entropy_with_logits(x, y, tg::Reduction::Sum, pw);
  auto sp = [](double v) { return std::log1p(std::exp(v)); };  // softplus
  const std::vector<double> xv = {0.5, -1, 2, 0}, yv = {1, 0, 0.5, 1}, pv = {3, 0.5, 3, 0.5};
  double want = 0;
  std::vector<double> gx, gy, gp = {0, 0};
  for (size_t i = 0; i < 4; ++i) {
    const double lw = 1 + (pv[i] - 1) * yv[i], sig = 1 / (1 + std::exp(-xv[i]));
    want += (1 - yv[i]) * xv[i] + lw * sp(-xv[i]);
    gx.push_back(lw * sig - pv[i] * yv[i]);
    gy.push_back(-xv[i] + (pv[i] - 1) * sp(-xv[i]));
    gp[i % 2] += yv[i] * sp(-xv[i]);
  }
  EXPECT_NEAR(loss.item(), want, 1e-12);
  loss.backward();
  expect_near_all(to_doubles(x.grad()), gx, 1e-12, "d/dx");
  expect_near_all(to_doubles(y.grad()), gy, 1e-12, "d/dy");
  expect_near_all(to_doubles(pw.grad()), gp, 1e-12, "d/dpos_weight");
}

// ============================================================== layer_norm
TEST(NnLayerNorm, RowsHaveZeroMeanAndUnitVariance) {
  std::mt19937 rng(3);
  const Tensor x = F({4, 16}, uniform(rng, 64, -5, 5));
  const auto y = to_doubles(tg::layer_norm(x, {16}));
  for (int r = 0; r < 4; ++r) {
    double m = 0, v = 0;
    for (int c = 0; c < 16; ++c) m += y[static_cast<size_t>(16 * r + c)] / 16;
    for (int c = 0; c < 16; ++c) v += (y[static_cast<size_t>(16 * r + c)] - m) * (y[static_cast<size_t>(16 * r + c)] - m) / 16;
    EXPECT_NEAR(m, 0, 1e-12);
    EXPECT_NEAR(v, 1, 1e-5);  // var / (var + eps)
  }
}

TEST(NnLayerNorm, WeightAndBiasGradientsSumOverTheBatch) {
  const Tensor x = F({3, 2}, {1, 3, 0, 2, 5, -5});
  const Tensor w = leaf(F({2}, {2, 3}));
  const Tensor b = leaf(F({2}, {0.5, -0.5}));
  const Tensor y = tg::layer_norm(x, {2}, w, b, 0.0);
  // Every row of two distinct values normalises to (-1, 1).
  expect_near_all(to_doubles(y), {-1.5, 2.5, -1.5, 2.5, 2.5, -3.5}, 1e-12);
  tg::sum(y).backward();
  expect_near_all(to_doubles(w.grad()), {-1 - 1 + 1, 1 + 1 - 1}, 1e-12);
  expect_near_all(to_doubles(b.grad()), {3, 3}, 1e-12);
}

// The fused kernels (a plain backward) and the composed VJP (a recorded one, create_graph) give the same
// gradients; a bfloat16 input with float32 parameters normalises in float32 either way.
TEST(NnLayerNorm, FusedBackwardAgreesWithTheRecordedOne) {
  tg::Generator gen(31);
  for (DType dt : {DType::Float32, DType::BFloat16}) {
    const Tensor x = leaf(tg::randn({6, 5, 40}, DType::Float32, gen).to(dt));
    const Tensor w = leaf(tg::randn({5, 40}, DType::Float32, gen)), b = leaf(tg::randn({5, 40}, DType::Float32, gen));
    const Tensor g = tg::randn({6, 5, 40}, DType::Float32, gen);
    const Tensor y = tg::layer_norm(x, {5, 40}, w, b, 1e-5);
    EXPECT_EQ(y.dtype(), DType::Float32);
    const tg::TensorList plain = tg::grad({tg::sum(y * g)}, {x, w, b});
    const tg::TensorList recorded = tg::grad({tg::sum(tg::layer_norm(x, {5, 40}, w, b, 1e-5) * g)}, {x, w, b}, {},
                                             tg::GradOptions{.create_graph = true});
    EXPECT_TRUE(recorded[0].requires_grad());
    for (size_t i = 0; i < 3; ++i) {
      const double scale = tg::max(tg::abs(recorded[i].to(DType::Float64))).item();
      const double tol = (dt == DType::BFloat16 && i == 0 ? 1e-2 : 1e-5) * scale;
      EXPECT_EQ(plain[i].dtype(), recorded[i].dtype()) << "input " << i;
      EXPECT_LE(tg::max(tg::abs(plain[i].to(DType::Float64) - recorded[i].to(DType::Float64))).item(), tol)
          << "input " << i << " " << tg::dtype_name(dt);
    }
  }
}

// ============================================================== batch_norm
TEST(NnBatchNorm, TrainingUpdatesRunningStatsInPlace) {
  // Channel 0: {1, 3, 5}: mean 3, biased var 8/3, unbiased 4. Channel 1: {2, 6, 10}: mean 6, unbiased 16.
  const Tensor x = leaf(F({3, 2}, {1, 2, 3, 6, 5, 10}));
  Tensor rm = F({2}, {0, 0});
  Tensor rv = F({2}, {1, 1});
  const uint64_t v0 = rm.version();
  const Tensor y = tg::batch_norm(x, rm, rv, {}, {}, /*training=*/true, /*momentum=*/0.1, /*eps=*/0.0);
  expect_near_all(to_doubles(rm), {0.3, 0.6}, 1e-12, "running_mean");
  expect_near_all(to_doubles(rv), {0.9 + 0.4, 0.9 + 1.6}, 1e-12, "running_var");
  EXPECT_GT(rm.version(), v0);
  EXPECT_FALSE(rm.requires_grad());
  EXPECT_FALSE(rv.requires_grad());
  EXPECT_FALSE(rm.grad_fn());
  // Batch statistics (biased) normalise the output.
  const double s0 = std::sqrt(8.0 / 3), s1 = std::sqrt(32.0 / 3);
  expect_near_all(to_doubles(y), {-2 / s0, -4 / s1, 0, 0, 2 / s0, 4 / s1}, 1e-12);
  // A second step moves them again from the updated values.
  tg::batch_norm(x, rm, rv, {}, {}, true, 0.5, 0.0);
  expect_near_all(to_doubles(rm), {0.15 + 1.5, 0.3 + 3}, 1e-12, "running_mean, step 2");
  expect_near_all(to_doubles(rv), {0.65 + 2, 1.25 + 8}, 1e-12, "running_var, step 2");
  // The update is outside autograd: backward through y works and never reaches the buffers.
  tg::sum(y * y).backward();
  EXPECT_TRUE(x.grad().defined());
  EXPECT_FALSE(rm.grad().defined());
}

TEST(NnBatchNorm, RunningVarianceCountsBatchAndSpatialElements) {
  // [N=2, C=1, L=2]: channel 0 holds {1, 2, 3, 4}: mean 2.5, unbiased var 5/3 (count 4, not N = 2).
  const Tensor x = F({2, 1, 2}, {1, 2, 3, 4}, DType::Float32);
  Tensor rm = F({1}, {1}, DType::Float32);
  Tensor rv = F({1}, {2}, DType::Float32);
  tg::batch_norm(x, rm, rv, {}, {}, true, 0.25);
  EXPECT_NEAR(rm.item(), 0.75 * 1 + 0.25 * 2.5, 1e-6);
  EXPECT_NEAR(rv.item(), 0.75 * 2 + 0.25 * 5.0 / 3.0, 1e-6);
  EXPECT_EQ(rm.dtype(), DType::Float32);
}

TEST(NnBatchNorm, EvalUsesRunningStatsAndLeavesThemAlone) {
  const Tensor x = leaf(F({2, 2}, {1, 2, 3, 4}));
  Tensor rm = F({2}, {1, 2});
  Tensor rv = F({2}, {4, 9});
  const Tensor w = leaf(F({2}, {2, 3}));
  const Tensor b = leaf(F({2}, {1, -1}));
  const uint64_t v0 = rm.version();
  const Tensor y = tg::batch_norm(x, rm, rv, w, b, /*training=*/false, 0.1, 0.0);
  // (x - rm) / sqrt(rv) * w + b
  expect_near_all(to_doubles(y), {1, -1, 3, 1}, 1e-12);
  EXPECT_EQ(rm.version(), v0);
  expect_near_all(to_doubles(rm), {1, 2}, 0);
  tg::sum(y).backward();
  expect_near_all(to_doubles(x.grad()), {1, 1, 1, 1}, 1e-12);  // w / sqrt(rv) = 2/2, 3/3
  expect_near_all(to_doubles(w.grad()), {0 + 1, 0 + 2.0 / 3}, 1e-12);
  expect_near_all(to_doubles(b.grad()), {2, 2}, 1e-12);
}

TEST(NnBatchNorm, EvalKeepsTheInputDtypeWhateverTheBuffers) {
  const Tensor x = F({2, 2}, {1, 2, 3, 4}, DType::Float32);
  const Tensor y = tg::batch_norm(x, F({2}, {1, 2}), F({2}, {4, 9}), {}, {}, false, 0.1, 0.0);
  EXPECT_EQ(y.dtype(), DType::Float32);
  expect_near_all(to_doubles(y), {0, 0, 1, 2.0 / 3}, 1e-6);
}

TEST(NnBatchNorm, TrainingWithoutRunningStats) {
  const Tensor x = F({2, 3, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  const auto y = to_doubles(tg::batch_norm(x, {}, {}, {}, {}, true));
  EXPECT_EQ(y.size(), 12u);
  // Channel 0 holds {1, 2, 7, 8}: mean 4.5.
  EXPECT_NEAR(y[0] + y[1] + y[6] + y[7], 0, 1e-12);
}

// ============================================================== dropout
TEST(NnDropout, SameSeedSameMaskAndTheGeneratorAdvances) {
  const Tensor x = tg::ones({1000}, DType::Float32);
  tg::Generator g1(99), g2(99);
  const auto a = to_doubles(tg::dropout(x, 0.4, true, g1));
  const auto b = to_doubles(tg::dropout(x, 0.4, true, g2));
  EXPECT_EQ(a, b);
  EXPECT_EQ(g1.offset(), 250u);  // one Philox block per 4 elements
  const auto c = to_doubles(tg::dropout(x, 0.4, true, g1));
  EXPECT_NE(a, c);
  tg::Generator g3(100);
  EXPECT_NE(a, to_doubles(tg::dropout(x, 0.4, true, g3)));
}

TEST(NnDropout, FractionKeptWithinBinomialBound) {
  const int64_t n = 200000;
  for (double p : {0.1, 0.5, 0.9}) {
    tg::Generator gen(2024);
    const auto y = to_doubles(tg::dropout(tg::ones({n}, DType::Float32), p, true, gen));
    int64_t kept = 0;
    for (double v : y) kept += v != 0;
    const double want = static_cast<double>(n) * (1 - p);
    const double sd = std::sqrt(static_cast<double>(n) * p * (1 - p));
    EXPECT_LT(std::abs(static_cast<double>(kept) - want), 6 * sd) << "p = " << p << ": kept " << kept;
  }
}

TEST(NnDropout, KeptValuesAreExactlyXOverKeepProbability) {
  std::mt19937 rng(5);
  const auto values = away_from_zero(rng, 4096, 0.1, 3);
  const double p = 0.3;
  for (DType dt : {DType::Float64, DType::Float32}) {
    const Tensor x = F({64, 64}, values, dt);
    tg::Generator gen(11);
    const auto xs = to_doubles(x);
    const auto y = to_doubles(tg::dropout(x, p, true, gen));
    int64_t kept = 0;
    for (size_t i = 0; i < y.size(); ++i) {
      if (y[i] == 0) continue;
      ++kept;
      const double want = dt == DType::Float64
                              ? xs[i] / (1 - p)
                              : static_cast<double>(static_cast<float>(xs[i]) / static_cast<float>(1 - p));
      ASSERT_EQ(y[i], want) << tg::dtype_name(dt) << " element " << i;
    }
    EXPECT_GT(kept, 0);
    EXPECT_LT(kept, 4096);
  }
}

TEST(NnDropout, GradientIsTheMaskOverKeepProbability) {
  const double p = 0.25;
  const Tensor x = leaf(tg::ones({2000}, DType::Float64));
  tg::Generator gen(3);
  const Tensor y = tg::dropout(x, p, true, gen);
  tg::sum(y).backward();
  const auto out = to_doubles(y), g = to_doubles(x.grad());
  for (size_t i = 0; i < g.size(); ++i) ASSERT_EQ(g[i], out[i] != 0 ? 1 / (1 - p) : 0.0) << i;
  // Second order: the backward pass is linear in the upstream gradient.
  const Tensor x2 = leaf(F({3}, {1, 2, 3}));
  EXPECT_TRUE(tg::gradgradcheck([&](const tg::TensorList& xs) {
    tg::Generator fresh(3);
    return tg::dropout(xs[0], 0.5, true, fresh);
  }, {x2}).ok);
}

TEST(NnDropout, IdentityInEvalOrWithPZeroAndZerosWithPOne) {
  const Tensor x = leaf(F({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}));
  tg::Generator gen(1);
  EXPECT_TRUE(tg::dropout(x, 0.5, false, gen).same(x));
  EXPECT_TRUE(tg::dropout(x, 0.0, true, gen).same(x));
  const Tensor z = tg::dropout(x, 1.0, true, gen);
  EXPECT_EQ(gen.offset(), 0u);  // nothing was drawn
  expect_near_all(to_doubles(z), std::vector<double>(9, 0.0), 0);
  tg::sum(z).backward();
  expect_near_all(to_doubles(x.grad()), std::vector<double>(9, 0.0), 0);
}

TEST(NnDropout, SameMaskForAnyThreadCount) {
  const int saved = tg::num_threads();
  const Tensor x = tg::ones({4099}, DType::Float32);
  std::vector<std::vector<double>> masks;
  for (int threads : {1, 2, 4}) {
    tg::set_num_threads(threads);
    tg::Generator gen(77);
    masks.push_back(to_doubles(tg::dropout(x, 0.5, true, gen)));
  }
  tg::set_num_threads(saved);
  EXPECT_EQ(masks[0], masks[1]);
  EXPECT_EQ(masks[0], masks[2]);
}

// ============================================================== embedding
TEST(NnEmbedding, GradientScatterAddsIntoRows) {
  const Tensor w = leaf(Iota({4, 3}));
  const Tensor idx = I({2, 2}, {0, 2, 2, 2});
  const Tensor out = tg::embedding(w, idx);
  EXPECT_EQ(out.shape(), (Shape{2, 2, 3}));
  expect_near_all(to_doubles(out), {0, 1, 2, 6, 7, 8, 6, 7, 8, 6, 7, 8}, 0);
  const Tensor up = Iota({2, 2, 3});
  out.backward(up);
  // Row 2 receives three upstream rows (1, 2 and 3), row 0 one, rows 1 and 3 none.
  expect_near_all(to_doubles(w.grad()), {0, 1, 2, 0, 0, 0, 3 + 6 + 9, 4 + 7 + 10, 5 + 8 + 11, 0, 0, 0}, 0);
}

TEST(NnLoss, ReductionNames) {
  EXPECT_STREQ(tg::reduction_name(tg::Reduction::None), "none");
  EXPECT_STREQ(tg::reduction_name(tg::Reduction::Mean), "mean");
  EXPECT_STREQ(tg::reduction_name(tg::Reduction::Sum), "sum");
}

// ============================================================== errors
TEST(NnErrors, CrossEntropy) {
  const std::string msg = error_message([] { tg::cross_entropy(Iota({32, 10}), I({16}, std::vector<double>(16, 0))); });
  EXPECT_EQ(msg.rfind("tg::cross_entropy: logits [32, 10] and targets [16] disagree on the batch size", 0), 0u) << msg;
  EXPECT_TG_ERROR(tg::cross_entropy(Iota({3, 4}), I({3}, {0, 7, 1})), "tg::cross_entropy", "target 7", "position 1",
                  "4 classes");
  EXPECT_TG_ERROR(tg::cross_entropy(Iota({3, 4}), I({3}, {0, 1, -1})), "tg::cross_entropy", "target -1",
                  "position 2");
  EXPECT_TG_ERROR(tg::cross_entropy(Iota({3, 4}), Iota({3})), "tg::cross_entropy", "int64", "float64");
  EXPECT_TG_ERROR(tg::cross_entropy(Iota({3, 4}), I({3, 1}, {0, 1, 2})), "tg::cross_entropy", "[3, 1]");
  EXPECT_TG_ERROR(tg::cross_entropy(Iota({2, 3, 4}), I({2}, {0, 1})), "tg::cross_entropy", "[2, 3, 4]");
  EXPECT_TG_ERROR(tg::cross_entropy(Iota({3, 4}, DType::Int64), I({3}, {0, 1, 2})), "tg::cross_entropy", "int64");
  EXPECT_TG_ERROR(tg::cross_entropy(Iota({3, 4}), I({3}, {0, 1, 2}), {.label_smoothing = 1.5}), "tg::cross_entropy",
                  "label_smoothing", "1.5");
}

TEST(NnErrors, NllLoss) {
  EXPECT_TG_ERROR(tg::nll_loss(Iota({4, 3}), I({5}, {0, 0, 0, 0, 0})), "tg::nll_loss", "[4, 3]", "[5]");
  EXPECT_TG_ERROR(tg::nll_loss(Iota({4, 3}), I({4}, {0, 3, 0, 0})), "tg::nll_loss", "target 3", "position 1");
  EXPECT_TG_ERROR(tg::nll_loss(Iota({4}), I({4}, {0, 0, 0, 0})), "tg::nll_loss", "2-D", "[4]");
}

TEST(NnErrors, MseLoss) {
  EXPECT_TG_ERROR(tg::mse_loss(Iota({3, 4}), Iota({4, 3})), "tg::mse_loss", "[3, 4]", "[4, 3]");
  EXPECT_TG_ERROR(tg::mse_loss(Iota({3}, DType::Int64), Iota({3})), "tg::mse_loss", "int64");
}

TEST(NnErrors, BceWithLogits) {
  EXPECT_TG_ERROR(tg::binary_cross_entropy_with_logits(Iota({3, 4}), Iota({3})), "tg::binary_cross_entropy_with_logits",
                  "[3, 4]", "[3]");
  EXPECT_TG_ERROR(tg::binary_cross_entropy_with_logits(Iota({3, 4}), Iota({3, 4}, DType::Int64)),
                  "tg::binary_cross_entropy_with_logits", "targets", "int64");
  EXPECT_TG_ERROR(tg::binary_cross_entropy_with_logits(Iota({3, 4}), Iota({3, 4}), tg::Reduction::Mean, Iota({3})),
                  "tg::binary_cross_entropy_with_logits", "pos_weight [3]", "[3, 4]");
}

TEST(NnErrors, LayerNorm) {
  EXPECT_TG_ERROR(tg::layer_norm(Iota({2, 3, 5}), {4}), "tg::layer_norm", "[4]", "[2, 3, 5]");
  EXPECT_TG_ERROR(tg::layer_norm(Iota({5}), {2, 5}), "tg::layer_norm", "[2, 5]", "[5]");
  EXPECT_TG_ERROR(tg::layer_norm(Iota({2, 5}), {}), "tg::layer_norm", "normalized_shape");
  EXPECT_TG_ERROR(tg::layer_norm(Iota({2, 5}), {5}, Iota({4})), "tg::layer_norm", "weight", "[4]", "[5]");
  EXPECT_TG_ERROR(tg::layer_norm(Iota({2, 5}), {5}, {}, Iota({5, 1})), "tg::layer_norm", "bias", "[5, 1]");
  EXPECT_TG_ERROR(tg::layer_norm(Iota({2, 5}, DType::Int64), {5}), "tg::layer_norm", "int64");
}

TEST(NnErrors, BatchNorm) {
  const Tensor rm = Iota({3}), rv = Iota({3});
  EXPECT_TG_ERROR(tg::batch_norm(Iota({6}), {}, {}, {}, {}, true), "tg::batch_norm", "[6]");
  EXPECT_TG_ERROR(tg::batch_norm(Iota({4, 3}), rm, rv, Iota({4})), "tg::batch_norm", "weight", "[4]", "[4, 3]");
  EXPECT_TG_ERROR(tg::batch_norm(Iota({4, 3}), Iota({2}), rv), "tg::batch_norm", "running_mean", "[2]");
  EXPECT_TG_ERROR(tg::batch_norm(Iota({4, 3}), rm, {}), "tg::batch_norm", "running_var");
  EXPECT_TG_ERROR(tg::batch_norm(Iota({1, 3}), rm, rv, {}, {}, true), "tg::batch_norm", "more than 1 value",
                  "[1, 3]");
  EXPECT_TG_ERROR(tg::batch_norm(Iota({4, 3}), {}, {}, {}, {}, false), "tg::batch_norm", "evaluation mode");
  EXPECT_TG_ERROR(tg::batch_norm(Iota({4, 3}, DType::Int64), rm, rv), "tg::batch_norm", "int64");
}

TEST(NnErrors, Dropout) {
  tg::Generator gen(0);
  EXPECT_TG_ERROR(tg::dropout(Iota({3}), -0.1, true, gen), "tg::dropout", "[0, 1]", "-0.1");
  EXPECT_TG_ERROR(tg::dropout(Iota({3}), 1.5, true, gen), "tg::dropout", "1.5");
  EXPECT_TG_ERROR(tg::dropout(Iota({3}), std::nan(""), true, gen), "tg::dropout", "nan");
  EXPECT_TG_ERROR(tg::dropout(Iota({3}, DType::Int64), 0.5, true, gen), "tg::dropout", "int64");
}

TEST(NnErrors, Embedding) {
  EXPECT_TG_ERROR(tg::embedding(Iota({5, 3}), I({2, 3}, {0, 1, 2, 3, 4, 7})), "tg::embedding", "index 7",
                  "position [1, 2]", "5 rows");
  EXPECT_TG_ERROR(tg::embedding(Iota({5, 3}), I({2}, {-1, 0})), "tg::embedding", "index -1", "position [0]");
  EXPECT_TG_ERROR(tg::embedding(Iota({5, 3}), Iota({2})), "tg::embedding", "int64", "float64");
  EXPECT_TG_ERROR(tg::embedding(Iota({5}), I({2}, {0, 1})), "tg::embedding", "2-D", "[5]");
}

TEST(NnErrors, InvalidReductionValue) {
  EXPECT_TG_ERROR(tg::mse_loss(Iota({2}), Iota({2}), static_cast<tg::Reduction>(7)), "tg::mse_loss", "reduction");
}

}  // namespace
}  // namespace tgtest
