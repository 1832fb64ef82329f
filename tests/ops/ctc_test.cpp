// ctc_loss against brute force (every alignment of a few frames enumerated and collapsed), the two-frame case
// in closed form, gradcheck in float64, impossible alignments (+inf, zero_infinity, no NaN), empty targets,
// padded vs concatenated targets, the same bits on any thread count, and the errors.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include <tensorgrad/base/threads.h>
#include <tensorgrad/tensorgrad.h>

#include "../support/expect_error.h"

namespace {

using tg::CtcLossOptions;
using tg::DType;
using tg::Reduction;
using tg::Tensor;

Tensor lengths(std::vector<int64_t> v) { return tg::from_vector<int64_t>(v); }

// -log of the summed probability of every path over C classes whose collapse (merge repeats, drop blank 0)
// is `target`; lp is [T, C] log-probabilities of one sample.
double brute_force_nll(const std::vector<double>& lp, int64_t T, int64_t C, const std::vector<int64_t>& target) {
  double p = 0;
  std::vector<int64_t> path(static_cast<size_t>(T), 0);
  for (int64_t code = 0; code < static_cast<int64_t>(std::pow(C, T)); ++code) {
    int64_t rest = code;
    double logp = 0;
    for (int64_t t = 0; t < T; ++t) {
      path[static_cast<size_t>(t)] = rest % C;
      rest /= C;
      logp += lp[static_cast<size_t>(t * C + path[static_cast<size_t>(t)])];
    }
    std::vector<int64_t> collapsed;
    for (int64_t t = 0; t < T; ++t) {
      const int64_t c = path[static_cast<size_t>(t)];
      if (c != 0 && (t == 0 || c != path[static_cast<size_t>(t - 1)])) collapsed.push_back(c);
    }
    if (collapsed == target) p += std::exp(logp);
  }
  return -std::log(p);
}

TEST(OpsCtcLoss, MatchesBruteForceEnumeration) {
  tg::Generator gen(1);
  const int64_t T = 5, C = 3;
  const std::vector<std::vector<int64_t>> cases = {{}, {1}, {2, 1}, {1, 1}, {1, 2, 1}};
  const Tensor lp = tg::log_softmax(tg::randn({T, static_cast<int64_t>(cases.size()), C}, DType::Float64, gen), 2);
  std::vector<int64_t> flat, lens;
  for (const auto& c : cases) {
    flat.insert(flat.end(), c.begin(), c.end());
    lens.push_back(static_cast<int64_t>(c.size()));
  }
  const Tensor nll = tg::ctc_loss(lp, tg::from_vector<int64_t>(flat), lengths(std::vector<int64_t>(cases.size(), T)),
                                  lengths(lens), {.reduction = Reduction::None});
  const auto got = nll.to_vector<double>();
  for (size_t n = 0; n < cases.size(); ++n) {
    const Tensor sample = tg::select(lp, 1, static_cast<int64_t>(n)).contiguous();
    EXPECT_NEAR(got[n], brute_force_nll(sample.to_vector<double>(), T, C, cases[n]), 1e-12) << "case " << n;
  }
}

TEST(OpsCtcLoss, TwoFramesInClosedForm) {
  // Target [1] over two frames: paths 11, 01, 10.
  const std::vector<double> y = {0.2, 0.5, 0.3, 0.6, 0.1, 0.3};  // [T=2, C=3] probabilities
  std::vector<double> logy;
  for (double v : y) logy.push_back(std::log(v));
  const Tensor lp = tg::from_vector<double>(logy, {2, 1, 3});
  const double p = y[1] * y[4] + y[0] * y[4] + y[1] * y[3];
  const Tensor nll = tg::ctc_loss(lp, tg::from_vector<int64_t>({1}, {1, 1}), lengths({2}), lengths({1}),
                                  {.reduction = Reduction::Sum});
  EXPECT_NEAR(nll.item(), -std::log(p), 1e-15);
}

TEST(OpsCtcLoss, GradcheckInFloat64) {
  tg::Generator gen(2);
  const Tensor targets = tg::from_vector<int64_t>({1, 2, 2, 3, 1, 0}, {2, 3});  // padded, lengths 3 and 2
  for (Reduction r : {Reduction::Mean, Reduction::Sum}) {
    // Raw values (not normalised): the gradient is with respect to log_probs themselves.
    tg::TensorList inputs{tg::randn({6, 2, 4}, DType::Float64, gen).requires_grad_()};
    auto fn = [&](const tg::TensorList& in) {
      return tg::ctc_loss(in[0], targets, lengths({6, 5}), lengths({3, 2}), {.reduction = r});
    };
    const auto result = tg::gradcheck(fn, inputs);
    EXPECT_TRUE(result.ok) << tg::reduction_name(r) << ": " << result.message;
  }
  // Through log_softmax (how it is used), with concatenated targets.
  tg::TensorList logits{tg::randn({5, 2, 3}, DType::Float64, gen).requires_grad_()};
  auto through = [&](const tg::TensorList& in) {
    return tg::ctc_loss(tg::log_softmax(in[0], 2), tg::from_vector<int64_t>({1, 2, 2}), lengths({5, 4}),
                        lengths({2, 1}));
  };
  const auto r2 = tg::gradcheck(through, logits);
  EXPECT_TRUE(r2.ok) << r2.message;
}

TEST(OpsCtcLoss, ImpossibleAlignmentIsInfiniteOrZeroAndNeverNaN) {
  tg::Generator gen(3);
  // [1, 1] needs three frames (a blank between the repeats); two are given.
  Tensor lp = tg::log_softmax(tg::randn({2, 1, 3}, DType::Float64, gen), 2).detach().requires_grad_();
  const Tensor t = tg::from_vector<int64_t>({1, 1}, {1, 2});
  const Tensor inf = tg::ctc_loss(lp, t, lengths({2}), lengths({2}), {.reduction = Reduction::Sum});
  EXPECT_TRUE(std::isinf(inf.item()) && inf.item() > 0);
  inf.backward();
  for (double g : lp.grad().to_vector<double>()) EXPECT_EQ(g, 0.0);
  lp.zero_grad();
  const Tensor zero = tg::ctc_loss(lp, t, lengths({2}), lengths({2}), {.reduction = Reduction::Sum, .zero_infinity = true});
  EXPECT_EQ(zero.item(), 0.0);
  zero.backward();
  for (double g : lp.grad().to_vector<double>()) EXPECT_EQ(g, 0.0);
}

TEST(OpsCtcLoss, EmptyTargetIsAllBlanks) {
  tg::Generator gen(4);
  const Tensor lp = tg::log_softmax(tg::randn({4, 1, 3}, DType::Float64, gen), 2);
  const Tensor nll = tg::ctc_loss(lp, tg::zeros({1, 0}, DType::Int64), lengths({3}), lengths({0}),
                                  {.reduction = Reduction::Sum});
  const auto v = lp.to_vector<double>();
  EXPECT_NEAR(nll.item(), -(v[0] + v[3] + v[6]), 1e-14);  // frames 0..2 blank; frame 3 is past the length
}

TEST(OpsCtcLoss, PaddedAndConcatenatedAgreeAndMeanDividesByTargetLength) {
  tg::Generator gen(5);
  const Tensor lp = tg::log_softmax(tg::randn({8, 3, 5}, DType::Float32, gen), 2);
  const Tensor padded = tg::from_vector<int64_t>({1, 2, 3, 4, 4, 0, 0, 0, 2, 0, 0, 0}, {3, 4});
  const Tensor concatenated = tg::from_vector<int64_t>({1, 2, 3, 4, 4, 2});
  const Tensor il = lengths({8, 7, 6}), tl = lengths({4, 1, 1});
  const auto a = tg::ctc_loss(lp, padded, il, tl, {.reduction = Reduction::None}).to_vector<float>();
  const auto b = tg::ctc_loss(lp, concatenated, il, tl, {.reduction = Reduction::None}).to_vector<float>();
  EXPECT_EQ(a, b);
  const double mean = tg::ctc_loss(lp, padded, il, tl).item();
  EXPECT_NEAR(mean, (a[0] / 4.0 + a[1] / 1.0 + a[2] / 1.0) / 3.0, 1e-5);
}

TEST(OpsCtcLoss, SameBitsOnAnyThreadCount) {
  tg::Generator gen(6);
  const int64_t T = 60, N = 16, C = 12, S = 10;
  Tensor lp = tg::log_softmax(tg::randn({T, N, C}, DType::Float32, gen), 2).detach().requires_grad_();
  const Tensor targets = tg::randint(1, C, {N, S}, gen);
  const Tensor il = tg::randint(40, T + 1, {N}, gen), tl = tg::randint(0, S + 1, {N}, gen);
  std::vector<float> loss[2], grad[2];
  const int saved = tg::num_threads();
  for (int i = 0; i < 2; ++i) {
    tg::set_num_threads(i + 1);
    lp.zero_grad();
    const Tensor l = tg::ctc_loss(lp, targets, il, tl, {.reduction = Reduction::None});
    tg::sum(l).backward();
    loss[i] = l.to_vector<float>();
    grad[i] = lp.grad().to_vector<float>();
  }
  tg::set_num_threads(saved);
  EXPECT_EQ(loss[0], loss[1]);
  EXPECT_EQ(grad[0], grad[1]);
}

TEST(OpsCtcLoss, Errors) {
  const Tensor lp = tg::log_softmax(tg::randn({4, 2, 3}, DType::Float64), 2);
  const Tensor t = tg::from_vector<int64_t>({1, 2, 1, 0}, {2, 2});
  EXPECT_TG_ERROR(tg::ctc_loss(lp, tg::from_vector<int64_t>({1, 0, 1, 1}, {2, 2}), lengths({4, 4}), lengths({2, 2})),
                  "tg::ctc_loss", "target 0 at position 1 of sample 0", "not the blank");
  EXPECT_TG_ERROR(tg::ctc_loss(lp, tg::from_vector<int64_t>({1, 3, 1, 1}, {2, 2}), lengths({4, 4}), lengths({2, 2})),
                  "target 3", "[0, 3)");
  EXPECT_TG_ERROR(tg::ctc_loss(lp, t, lengths({5, 4}), lengths({2, 1})), "input_lengths[0] = 5");
  EXPECT_TG_ERROR(tg::ctc_loss(lp, t, lengths({4, 4}), lengths({2, 3})), "target_lengths[1] = 3");
  EXPECT_TG_ERROR(tg::ctc_loss(lp, t, lengths({4}), lengths({2, 1})), "input_lengths must be int64 [N] with N = 2");
  EXPECT_TG_ERROR(tg::ctc_loss(tg::select(lp, 2, 0), t, lengths({4, 4}), lengths({2, 1})), "log_probs must be float [T, N, C]");
  Tensor x = lp.detach().requires_grad_();
  const Tensor loss = tg::ctc_loss(x, t, lengths({4, 4}), lengths({2, 1}));
  // A recorded first-order gradient works (create_graph) ...
  const Tensor g = tg::grad({loss}, {x}, {}, {.create_graph = true})[0];
  EXPECT_TRUE(g.requires_grad());
  // ... but its derivative would need the recursion's own derivative: asking for it is an error.
  EXPECT_TG_ERROR(tg::grad({tg::sum(g * g)}, {x}), "second-order gradients are not supported");
}

}  // namespace
