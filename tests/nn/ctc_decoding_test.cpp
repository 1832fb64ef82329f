// CTC greedy decoding and prefix beam search against enumeration of every alignment path, and against ctc_loss;
// edit distance, WER and CER on hand-counted cases.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

#include <tensorgrad/tensorgrad.h>

#include "support/expect_error.h"

namespace {

using tg::DType;
using tg::Tensor;

// log_softmax of seeded values: [T, C].
Tensor random_log_probs(int64_t time, int64_t classes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<double> v(static_cast<size_t>(time * classes));
  for (auto& x : v) x = 3.0 * static_cast<double>(rng()) / 4294967296.0 - 1.5;
  return tg::log_softmax(tg::from_vector<double>(v, {time, classes}), 1);
}

// log p(labels) for every label sequence, by summing over all classes^time paths and collapsing each.
std::map<std::vector<int64_t>, double> brute_force(const Tensor& log_probs, int64_t blank) {
  const int64_t time = log_probs.size(0), classes = log_probs.size(1);
  const std::vector<double> lp = log_probs.contiguous().to_vector<double>();
  std::map<std::vector<int64_t>, double> prob;
  std::vector<int64_t> path(static_cast<size_t>(time), 0);
  for (;;) {
    double logp = 0;
    std::vector<int64_t> labels;
    int64_t previous = -1;
    for (int64_t t = 0; t < time; ++t) {
      const int64_t c = path[static_cast<size_t>(t)];
      logp += lp[static_cast<size_t>(t * classes + c)];
      if (c != blank && c != previous) labels.push_back(c);
      previous = c;
    }
    prob[labels] += std::exp(logp);
    int64_t t = 0;
    while (t < time && ++path[static_cast<size_t>(t)] == classes) path[static_cast<size_t>(t++)] = 0;
    if (t == time) break;
  }
  std::map<std::vector<int64_t>, double> out;
  for (const auto& [labels, p] : prob) out[labels] = std::log(p);
  return out;
}

TEST(CtcDecoding, GreedyMergesRepeatsDropsBlanksAndHonoursLengths) {
  // argmax per frame: sample 0 -> 1 1 0 1 2 2 (labels 1 1 2); sample 1 -> 3 0 3 | 3 3 3 (length 3: labels 3 3).
  const std::vector<std::vector<int64_t>> best = {{1, 1, 0, 1, 2, 2}, {3, 0, 3, 3, 3, 3}};
  Tensor lp = tg::full({6, 2, 4}, -5.0, DType::Float64);
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t t = 0; t < 6; ++t)
      tg::select(tg::select(tg::select(lp, 0, t), 0, n), 0, best[static_cast<size_t>(n)][static_cast<size_t>(t)])
          .fill_(-0.1);
  const auto out = tg::nn::ctc_greedy_decode(lp, tg::from_vector<int64_t>({6, 3}));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], (std::vector<int64_t>{1, 1, 2}));
  EXPECT_EQ(out[1], (std::vector<int64_t>{3, 3}));
  // Blank 3 instead: sample 1's frames 3 0 3 are now blank, 0, blank.
  EXPECT_EQ(tg::nn::ctc_greedy_decode(lp, tg::from_vector<int64_t>({6, 3}), 3)[1], (std::vector<int64_t>{0}));
  EXPECT_EQ(tg::nn::ctc_greedy_decode(lp.to(DType::BFloat16))[0], (std::vector<int64_t>{1, 1, 2}));
  EXPECT_TG_ERROR(tg::nn::ctc_greedy_decode(lp, tg::from_vector<int64_t>({7, 3})), "input_lengths[0] = 7");
  EXPECT_TG_ERROR(tg::nn::ctc_greedy_decode(tg::select(lp, 1, 0)), "rank 3");
  EXPECT_TG_ERROR(tg::nn::ctc_greedy_decode(lp, {}, 4), "blank 4");
}

TEST(CtcDecoding, PrefixBeamSearchIsExactWithAWideBeam) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    const Tensor lp = random_log_probs(5, 3, seed);
    for (int64_t blank : {0, 2}) {
      const auto want = brute_force(lp, blank);
      tg::nn::CtcBeamOptions options;
      options.beam_width = 1000;
      options.n_best = 1000;
      options.blank = blank;
      const auto got = tg::nn::ctc_prefix_beam_search(lp, options);
      ASSERT_EQ(got.size(), want.size()) << "seed " << seed;
      double total = 0;
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_TRUE(want.count(got[i].labels)) << "seed " << seed;
        EXPECT_NEAR(got[i].log_prob, want.at(got[i].labels), 1e-10) << "seed " << seed << " hypothesis " << i;
        if (i > 0) {
          EXPECT_GE(got[i - 1].log_prob, got[i].log_prob);
        }
        total += std::exp(got[i].log_prob);
      }
      EXPECT_NEAR(total, 1.0, 1e-10) << "every path is some label sequence";
      // The best hypothesis's probability is the CTC likelihood of its labels.
      const auto& top = got[0];
      if (!top.labels.empty()) {
        const auto s = static_cast<int64_t>(top.labels.size());
        tg::CtcLossOptions loss_options;
        loss_options.blank = blank;
        loss_options.reduction = tg::Reduction::Sum;
        const double nll = tg::ctc_loss(tg::unsqueeze(lp, 1), tg::from_vector<int64_t>(top.labels, {1, s}),
                                        tg::from_vector<int64_t>({5}), tg::from_vector<int64_t>({s}), loss_options)
                               .item();
        EXPECT_NEAR(-nll, top.log_prob, 1e-10);
      }
    }
  }
}

TEST(CtcDecoding, NarrowBeamsAndPruning) {
  const Tensor lp = random_log_probs(12, 5, 7);
  tg::nn::CtcBeamOptions wide;
  wide.beam_width = 64;
  wide.n_best = 3;
  const auto best = tg::nn::ctc_prefix_beam_search(lp, wide);
  ASSERT_EQ(best.size(), 3u);
  // A beam of one keeps the single best prefix each frame: never more likely than the wide search's best.
  tg::nn::CtcBeamOptions narrow;
  narrow.beam_width = 1;
  const auto one = tg::nn::ctc_prefix_beam_search(lp, narrow);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_LE(one[0].log_prob, best[0].log_prob + 1e-12);
  // Pruning to classes within 1e-9 of each frame's best keeps only the argmax path: greedy's labels.
  tg::nn::CtcBeamOptions pruned;
  pruned.prune_threshold = 1e-9;
  const auto greedy = tg::nn::ctc_greedy_decode(tg::unsqueeze(lp, 1));
  EXPECT_EQ(tg::nn::ctc_prefix_beam_search(lp, pruned)[0].labels, greedy[0]);
  EXPECT_TG_ERROR(tg::nn::ctc_prefix_beam_search(lp, {.beam_width = 0}), "beam_width");
}

TEST(ErrorRate, EditDistanceWerAndCer) {
  using tg::nn::edit_distance;
  EXPECT_EQ(edit_distance(std::vector<int64_t>{}, std::vector<int64_t>{}), 0);
  EXPECT_EQ(edit_distance(std::vector<int64_t>{1, 2, 3}, std::vector<int64_t>{}), 3);
  EXPECT_EQ(edit_distance(std::vector<int64_t>{}, std::vector<int64_t>{4, 5}), 2);
  // kitten -> sitting: two substitutions and an insertion.
  EXPECT_EQ(edit_distance(std::vector<int64_t>{'k', 'i', 't', 't', 'e', 'n'},
                          std::vector<int64_t>{'s', 'i', 't', 't', 'i', 'n', 'g'}),
            3);
  EXPECT_EQ(tg::nn::split_words("  the  cat\tsat\n"), (std::vector<std::string>{"the", "cat", "sat"}));
  // One insertion ("down") and one deletion ("world") over 5 reference words.
  EXPECT_DOUBLE_EQ(tg::nn::word_error_rate({"the cat sat", "hello world"}, {"the cat sat down", "hello"}), 0.4);
  EXPECT_DOUBLE_EQ(tg::nn::word_error_rate({"a b"}, {"a b"}), 0.0);
  // "héllo" has 5 characters (é is two UTF-8 bytes); one substitution.
  EXPECT_DOUBLE_EQ(tg::nn::char_error_rate({"h\xc3\xa9llo"}, {"hello"}), 0.2);
  EXPECT_DOUBLE_EQ(tg::nn::char_error_rate({"ab", "c d"}, {"ab", "cd"}), 1.0 / 5.0);
  EXPECT_EQ(tg::nn::word_error_rate({""}, {""}), 0.0);
  EXPECT_TRUE(std::isinf(tg::nn::word_error_rate({""}, {"x"})));
  EXPECT_TG_ERROR(tg::nn::word_error_rate({"a"}, {}), "1 references but 0 hypotheses");
}

}  // namespace
