#pragma once
// Turning a CTC model's per-frame log-probabilities into label sequences: greedy (best path) decoding and prefix
// beam search. Not differentiable; they read the log-probabilities on the host.
#include <cstdint>
#include <vector>

#include <tensorgrad/core/tensor.h>

namespace tg::nn {

// Greedy decoding of a batch: the most likely class of each frame, repeats merged, blanks dropped.
// log_probs [T, N, C] (any floating dtype, as ctc_loss takes them), input_lengths int64 [N] (frames of each
// sample; an undefined tensor means T for every sample). Returns one label sequence per sample.
std::vector<std::vector<int64_t>> ctc_greedy_decode(const Tensor& log_probs, const Tensor& input_lengths = {},
                                                    int64_t blank = 0);

struct CtcHypothesis {
  std::vector<int64_t> labels;
  double log_prob = 0;  // log p(labels | x): the sum over every alignment that collapses to labels
};

struct CtcBeamOptions {
  int64_t beam_width = 8;  // prefixes kept after each frame
  int64_t n_best = 1;      // hypotheses returned, most likely first
  int64_t blank = 0;
  // Per frame, only the classes whose log-probability is within this of the frame's best are extended
  // (infinity: all of them).
  double prune_threshold = 1e30;
};

// Prefix beam search over one utterance: log_probs [T, C] (log-softmax output). Each prefix carries the
// probabilities of its alignments ending in blank and in its last label, so a label repeated across a blank is
// a new label and one repeated without is not. With a beam as wide as the number of prefixes, the returned
// log-probabilities are exact (tests/nn/ctc_decoding_test.cpp checks them against enumerating every path).
std::vector<CtcHypothesis> ctc_prefix_beam_search(const Tensor& log_probs, const CtcBeamOptions& options = {});

}  // namespace tg::nn
