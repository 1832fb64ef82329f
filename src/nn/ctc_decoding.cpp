// CTC greedy decoding and prefix beam search (see ctc_decoding.h).
#include <tensorgrad/nn/ctc_decoding.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <tensorgrad/base/error.h>
#include <tensorgrad/ops/view.h>

namespace tg::nn {

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

double log_add(double a, double b) {
  if (a == kNegInf) return b;
  if (b == kNegInf) return a;
  const double m = std::max(a, b);
  return m + std::log1p(std::exp(-std::abs(a - b)));
}

// The values of a floating tensor as float64, row-major.
std::vector<double> host_values(const Tensor& t) { return to(contiguous(t), DType::Float64).to_vector<double>(); }

void check_log_probs(const Tensor& log_probs, int64_t rank, const char* op) {
  TG_CHECK(log_probs.defined() && log_probs.dim() == rank, op, ": expected log_probs of rank ", rank,
           rank == 3 ? " [T, N, C]" : " [T, C]", ", got ",
           log_probs.defined() ? detail::concat(log_probs.shape()) : std::string("an undefined tensor"));
  TG_CHECK(is_floating(log_probs.dtype()), op, ": log_probs must be floating, got ", dtype_name(log_probs.dtype()));
}

}  // namespace

std::vector<std::vector<int64_t>> ctc_greedy_decode(const Tensor& log_probs, const Tensor& input_lengths,
                                                    int64_t blank) {
  const char* op = "tg::nn::ctc_greedy_decode";
  check_log_probs(log_probs, 3, op);
  const int64_t time = log_probs.size(0), batch = log_probs.size(1), classes = log_probs.size(2);
  TG_CHECK(blank >= 0 && blank < classes, op, ": blank ", blank, " is not a class of ", classes);
  std::vector<int64_t> lengths(static_cast<size_t>(batch), time);
  if (input_lengths.defined()) {
    TG_CHECK(input_lengths.dtype() == DType::Int64 && input_lengths.shape() == Shape{batch}, op,
             ": input_lengths must be int64 [", batch, "], got ", dtype_name(input_lengths.dtype()),
             input_lengths.shape());
    lengths = contiguous(input_lengths).to_vector<int64_t>();
  }
  const std::vector<double> lp = host_values(log_probs);
  std::vector<std::vector<int64_t>> out(static_cast<size_t>(batch));
  for (int64_t n = 0; n < batch; ++n) {
    const int64_t frames = lengths[static_cast<size_t>(n)];
    TG_CHECK(frames >= 0 && frames <= time, op, ": input_lengths[", n, "] = ", frames, " is outside [0, ", time, "]");
    int64_t previous = -1;
    for (int64_t t = 0; t < frames; ++t) {
      const double* row = lp.data() + (t * batch + n) * classes;
      const auto best = static_cast<int64_t>(std::max_element(row, row + classes) - row);  // first on ties
      if (best != blank && best != previous) out[static_cast<size_t>(n)].push_back(best);
      previous = best;
    }
  }
  return out;
}

std::vector<CtcHypothesis> ctc_prefix_beam_search(const Tensor& log_probs, const CtcBeamOptions& options) {
  const char* op = "tg::nn::ctc_prefix_beam_search";
  check_log_probs(log_probs, 2, op);
  const int64_t time = log_probs.size(0), classes = log_probs.size(1), blank = options.blank;
  TG_CHECK(blank >= 0 && blank < classes, op, ": blank ", blank, " is not a class of ", classes);
  TG_CHECK(options.beam_width >= 1 && options.n_best >= 1, op, ": beam_width and n_best must be >= 1, got ",
           options.beam_width, " and ", options.n_best);
  const std::vector<double> lp = host_values(log_probs);

  struct Scores {
    double blank = kNegInf;      // alignments of the prefix ending in blank
    double non_blank = kNegInf;  // ... ending in the prefix's last label
    double total() const { return log_add(blank, non_blank); }
  };
  using Beam = std::map<std::vector<int64_t>, Scores>;
  Beam beam;
  beam[{}].blank = 0.0;  // the empty prefix, probability 1
  for (int64_t t = 0; t < time; ++t) {
    const double* row = lp.data() + t * classes;
    const double best = *std::max_element(row, row + classes);
    Beam next;
    for (const auto& [prefix, s] : beam) {
      const double total = s.total();
      for (int64_t c = 0; c < classes; ++c) {
        const double p = row[c];
        if (p == kNegInf || p < best - options.prune_threshold) continue;
        if (c == blank) {
          Scores& same = next[prefix];
          same.blank = log_add(same.blank, total + p);
          continue;
        }
        std::vector<int64_t> extended = prefix;
        extended.push_back(c);
        Scores& grown = next[extended];
        if (!prefix.empty() && prefix.back() == c) {
          // c again right after c: the same label (from alignments ending in c), or a new one after a blank.
          Scores& same = next[prefix];
          same.non_blank = log_add(same.non_blank, s.non_blank + p);
          grown.non_blank = log_add(grown.non_blank, s.blank + p);
        } else {
          grown.non_blank = log_add(grown.non_blank, total + p);
        }
      }
    }
    // Keep the beam_width most likely prefixes (ties: the shorter, then the smaller labels, so runs repeat).
    // (A prefix reached only through impossible alignments, e.g. c c with no blank between, is dropped.)
    std::vector<std::pair<std::vector<int64_t>, Scores>> ranked;
    for (const auto& entry : next)
      if (entry.second.total() != kNegInf) ranked.push_back(entry);
    const auto keep = std::min<size_t>(ranked.size(), static_cast<size_t>(options.beam_width));
    std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(keep), ranked.end(),
                      [](const auto& a, const auto& b) {
                        const double ta = a.second.total(), tb = b.second.total();
                        if (ta != tb) return ta > tb;
                        return a.first < b.first;
                      });
    ranked.resize(keep);
    beam = Beam(ranked.begin(), ranked.end());
  }
  std::vector<CtcHypothesis> out;
  for (const auto& [prefix, s] : beam) out.push_back({prefix, s.total()});
  std::sort(out.begin(), out.end(), [](const CtcHypothesis& a, const CtcHypothesis& b) {
    return a.log_prob != b.log_prob ? a.log_prob > b.log_prob : a.labels < b.labels;
  });
  if (out.size() > static_cast<size_t>(options.n_best)) out.resize(static_cast<size_t>(options.n_best));
  return out;
}

}  // namespace tg::nn
