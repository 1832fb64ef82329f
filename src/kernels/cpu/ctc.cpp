// CTC by the scaled forward-backward recursions (Rabiner's scaling, as in Graves' thesis, section 7.3.1): alpha
// and beta in probability space, each frame's vector divided by its sum, so no frame's values leave double's
// range and each step is multiply-adds over the states (vectorisable) instead of a log-add per state. Per frame
// the emissions are exp(log_probs - m_t), m_t the frame's largest over the labels used, so a frame's best label
// has probability 1 there; the logarithms of the normalisers and the m_t add up to log p.
//   nll = -(sum_t (log c_t + m_t) + log(alpha_hat_{T-1}(S'-1) + alpha_hat_{T-1}(S'-2)))
//   d nll / d log_probs[t, c] = -sum_{s: l'_s = c} w_t(s) / sum_s w_t(s),  w_t(s) = alpha_hat_t(s) beta_hat_t(s) / y_t(l'_s)
// (alpha and beta both include the emission at t; the frame's scale factors cancel in the ratio). That is the
// reference's -exp(lcab + nll - log_probs) in other terms. A label far below its frame's best (more than ~700
// nats) underflows to probability 0 here; if that leaves a normaliser at 0, the sample is recomputed by the
// reference log-space recursion, so an alignment only the log space can see is never lost.
#include "ctc.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace tg::kernels::cpu {

namespace {

using ref::length_at;

// Returns false when a normaliser underflowed (the caller falls back to the log-space reference).
template <class T>
bool scaled_sample(const CtcProblem& p, int64_t n, const StridedArg& log_probs, const StridedArg& targets,
                   const StridedArg& input_lengths, const StridedArg& target_lengths, const StridedArg& nll_out,
                   const StridedArg& grad_out) {
  const T* lpn = static_cast<const T*>(log_probs.data) + n * log_probs.strides[1];
  const int64_t st = log_probs.strides[0], sc = log_probs.strides[2];
  auto lp = [&](int64_t t, int64_t c) { return static_cast<double>(lpn[t * st + c * sc]); };
  const int64_t time = length_at(input_lengths, n);
  const std::vector<int64_t> ext = ref::ctc_extended_labels(p, n, targets, target_lengths);
  const auto states = static_cast<int64_t>(ext.size());
  const auto S = static_cast<size_t>(states);
  // skip[s] = 1 where a path may jump from s - 2 to s.
  std::vector<double> skip(S, 0.0);
  for (size_t s = 2; s < S; ++s) skip[s] = ext[s] != p.blank && ext[s] != ext[s - 2] ? 1.0 : 0.0;

  // Emissions y_t(l'_s) scaled by the frame's best, and the logs of the scales: one exp per class in use per
  // frame (a target of 40 has 81 states but at most 41 classes).
  std::vector<int64_t> used;
  {
    std::vector<bool> seen(static_cast<size_t>(p.classes), false);
    for (int64_t c : ext)
      if (!seen[static_cast<size_t>(c)]) {
        seen[static_cast<size_t>(c)] = true;
        used.push_back(c);
      }
  }
  std::vector<double> e(static_cast<size_t>(time) * S), ey(static_cast<size_t>(p.classes));
  double log_scale = 0;
  for (int64_t t = 0; t < time; ++t) {
    double m = -std::numeric_limits<double>::infinity();
    for (int64_t c : used) m = std::max(m, lp(t, c));
    if (!std::isfinite(m)) return false;
    log_scale += m;
    for (int64_t c : used) ey[static_cast<size_t>(c)] = std::exp(lp(t, c) - m);
    double* et = e.data() + static_cast<size_t>(t) * S;
    for (size_t s = 0; s < S; ++s) et[s] = ey[static_cast<size_t>(ext[s])];
  }

  std::vector<double> alpha(static_cast<size_t>(time) * S, 0.0);
  alpha[0] = e[0];
  if (S > 1) alpha[1] = e[1];
  for (int64_t t = 0; t < time; ++t) {
    double* a = alpha.data() + static_cast<size_t>(t) * S;
    const double* et = e.data() + static_cast<size_t>(t) * S;
    if (t > 0) {
      const double* prev = a - S;
      a[0] = prev[0] * et[0];
      if (S > 1) a[1] = (prev[1] + prev[0]) * et[1];
      for (size_t s = 2; s < S; ++s) a[s] = (prev[s] + prev[s - 1] + skip[s] * prev[s - 2]) * et[s];
    }
    double sum = 0;
    for (size_t s = 0; s < S; ++s) sum += a[s];
    if (!(sum > 0) || !std::isfinite(sum)) return false;
    log_scale += std::log(sum);
    const double inv = 1.0 / sum;
    for (size_t s = 0; s < S; ++s) a[s] *= inv;
  }
  const double* last = alpha.data() + static_cast<size_t>(time - 1) * S;
  const double tail = last[S - 1] + (S > 1 ? last[S - 2] : 0.0);
  T& nll = static_cast<T*>(nll_out.data)[n * nll_out.strides[0]];
  if (!(tail > 0)) return false;  // no alignment in the scaled space: let the log space decide (inf or not)
  nll = static_cast<T>(-(log_scale + std::log(tail)));
  if (grad_out.data == nullptr) return true;

  std::vector<double> beta(static_cast<size_t>(time) * S, 0.0);
  {
    double* b = beta.data() + static_cast<size_t>(time - 1) * S;
    const double* et = e.data() + static_cast<size_t>(time - 1) * S;
    b[S - 1] = et[S - 1];
    if (S > 1) b[S - 2] = et[S - 2];
  }
  for (int64_t t = time - 1; t >= 0; --t) {
    double* b = beta.data() + static_cast<size_t>(t) * S;
    const double* et = e.data() + static_cast<size_t>(t) * S;
    if (t < time - 1) {
      const double* next = b + S;
      for (size_t s = 0; s + 2 < S; ++s) b[s] = (next[s] + next[s + 1] + skip[s + 2] * next[s + 2]) * et[s];
      if (S >= 2) b[S - 2] = (next[S - 2] + next[S - 1]) * et[S - 2];
      b[S - 1] = next[S - 1] * et[S - 1];
    }
    double sum = 0;
    for (size_t s = 0; s < S; ++s) sum += b[s];
    if (!(sum > 0) || !std::isfinite(sum)) return false;
    const double inv = 1.0 / sum;
    for (size_t s = 0; s < S; ++s) b[s] *= inv;
  }

  T* grad = static_cast<T*>(grad_out.data);
  const int64_t gt = grad_out.strides[0], gn = grad_out.strides[1], gc = grad_out.strides[2];
  std::vector<double> w(S), occupancy(static_cast<size_t>(p.classes));
  for (int64_t t = 0; t < time; ++t) {
    const double* a = alpha.data() + static_cast<size_t>(t) * S;
    const double* b = beta.data() + static_cast<size_t>(t) * S;
    const double* et = e.data() + static_cast<size_t>(t) * S;
    double z = 0;
    for (size_t s = 0; s < S; ++s) {
      w[s] = et[s] > 0 ? a[s] * b[s] / et[s] : 0.0;
      z += w[s];
    }
    if (!(z > 0)) return false;
    std::fill(occupancy.begin(), occupancy.end(), 0.0);
    for (size_t s = 0; s < S; ++s) occupancy[static_cast<size_t>(ext[s])] += w[s];
    const double inv = 1.0 / z;
    for (int64_t c = 0; c < p.classes; ++c)
      grad[t * gt + n * gn + c * gc] = static_cast<T>(-occupancy[static_cast<size_t>(c)] * inv);
  }
  for (int64_t t = time; t < p.time; ++t)
    for (int64_t c = 0; c < p.classes; ++c) grad[t * gt + n * gn + c * gc] = T(0);
  return true;
}

}  // namespace

void ctc_sample(const CtcProblem& p, int64_t n, const StridedArg& log_probs, const StridedArg& targets,
                const StridedArg& input_lengths, const StridedArg& target_lengths, const StridedArg& nll,
                const StridedArg& grad) {
  const bool done = length_at(input_lengths, n) > 0 && visit_floating(log_probs.dtype, "tg::ctc_loss", [&]<class T>(TypeTag<T>) {
    return scaled_sample<T>(p, n, log_probs, targets, input_lengths, target_lengths, nll, grad);
  });
  if (!done) ref::ctc_sample(p, n, log_probs, targets, input_lengths, target_lengths, nll, grad);
}

}  // namespace tg::kernels::cpu
