// CTC loss by dynamic programming in log space (Graves et al. 2006): the forward (alpha) recursion gives
// -log p(target | inputs); the backward (beta) recursion gives, with alpha, the gradient in closed form:
// d nll / d log_probs[t, c] = -exp(log sum_{s: l'_s = c} alpha_t(s) beta_t(s) + nll - log_probs[t, c]),
// alpha and beta both including the emission at t. (PyTorch returns that plus exp(log_probs), which is the
// gradient with respect to the logits of a log_softmax and the same once it has gone through one.)
// Accumulates in double whatever the input dtype.
#include <cmath>
#include <limits>
#include <vector>

#include "ref_kernels.h"

namespace tg::kernels::ref {

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

inline double log_add(double a, double b) {
  if (a == kNegInf) return b;
  if (b == kNegInf) return a;
  return a > b ? a + std::log1p(std::exp(b - a)) : b + std::log1p(std::exp(a - b));
}

// Where sample n's labels start in `targets`, and the stride between them.
std::pair<const int64_t*, int64_t> labels_of(const CtcProblem& p, int64_t n, const StridedArg& targets,
                                             const StridedArg& target_lengths) {
  const auto* base = static_cast<const int64_t*>(targets.data);
  if (!p.concatenated) return {base + n * targets.strides[0], targets.strides[1]};
  int64_t start = 0;
  for (int64_t i = 0; i < n; ++i) start += length_at(target_lengths, i);
  return {base + start * targets.strides[0], targets.strides[0]};
}

template <class T>
void sample(const CtcProblem& p, int64_t n, const StridedArg& log_probs, const StridedArg& targets,
            const StridedArg& input_lengths, const StridedArg& target_lengths, const StridedArg& nll_out,
            const StridedArg& grad_out) {
  const T* lp0 = static_cast<const T*>(log_probs.data);
  const int64_t st = log_probs.strides[0], sc = log_probs.strides[2];
  const T* lpn = lp0 + n * log_probs.strides[1];
  auto lp = [&](int64_t t, int64_t c) { return static_cast<double>(lpn[t * st + c * sc]); };
  const int64_t time = length_at(input_lengths, n), length = length_at(target_lengths, n);
  const std::vector<int64_t> ext = ctc_extended_labels(p, n, targets, target_lengths);
  const auto states = static_cast<int64_t>(ext.size());
  auto skip_allowed = [&](int64_t s) {  // may a path jump from s - 2 to s?
    return s >= 2 && ext[static_cast<size_t>(s)] != p.blank && ext[static_cast<size_t>(s)] != ext[static_cast<size_t>(s - 2)];
  };

  T* grad = static_cast<T*>(grad_out.data);
  auto grad_at = [&](int64_t t, int64_t c) -> T& {
    return grad[t * grad_out.strides[0] + n * grad_out.strides[1] + c * grad_out.strides[2]];
  };
  if (grad != nullptr)
    for (int64_t t = 0; t < p.time; ++t)
      for (int64_t c = 0; c < p.classes; ++c) grad_at(t, c) = T(0);
  T& nll = static_cast<T*>(nll_out.data)[n * nll_out.strides[0]];
  if (time == 0) {  // no frames: only the empty target has an alignment
    nll = length == 0 ? T(0) : std::numeric_limits<T>::infinity();
    return;
  }

  std::vector<double> alpha(static_cast<size_t>(time * states), kNegInf);
  auto a = [&](int64_t t, int64_t s) -> double& { return alpha[static_cast<size_t>(t * states + s)]; };
  a(0, 0) = lp(0, p.blank);
  if (states > 1) a(0, 1) = lp(0, ext[1]);
  for (int64_t t = 1; t < time; ++t)
    for (int64_t s = 0; s < states; ++s) {
      double v = a(t - 1, s);
      if (s >= 1) v = log_add(v, a(t - 1, s - 1));
      if (skip_allowed(s)) v = log_add(v, a(t - 1, s - 2));
      a(t, s) = v == kNegInf ? kNegInf : v + lp(t, ext[static_cast<size_t>(s)]);
    }
  double log_p = a(time - 1, states - 1);
  if (states > 1) log_p = log_add(log_p, a(time - 1, states - 2));
  nll = static_cast<T>(-log_p);
  if (grad == nullptr || log_p == kNegInf) return;  // an impossible alignment has a zero gradient

  std::vector<double> beta(static_cast<size_t>(time * states), kNegInf);
  auto b = [&](int64_t t, int64_t s) -> double& { return beta[static_cast<size_t>(t * states + s)]; };
  b(time - 1, states - 1) = lp(time - 1, ext[static_cast<size_t>(states - 1)]);
  if (states > 1) b(time - 1, states - 2) = lp(time - 1, ext[static_cast<size_t>(states - 2)]);
  for (int64_t t = time - 2; t >= 0; --t)
    for (int64_t s = 0; s < states; ++s) {
      double v = b(t + 1, s);
      if (s + 1 < states) v = log_add(v, b(t + 1, s + 1));
      if (s + 2 < states && skip_allowed(s + 2)) v = log_add(v, b(t + 1, s + 2));
      b(t, s) = v == kNegInf ? kNegInf : v + lp(t, ext[static_cast<size_t>(s)]);
    }
  std::vector<double> occupancy(static_cast<size_t>(p.classes));
  for (int64_t t = 0; t < time; ++t) {
    std::fill(occupancy.begin(), occupancy.end(), kNegInf);
    for (int64_t s = 0; s < states; ++s) {
      double& o = occupancy[static_cast<size_t>(ext[static_cast<size_t>(s)])];
      o = log_add(o, a(t, s) + b(t, s));
    }
    for (int64_t c = 0; c < p.classes; ++c) {
      const double o = occupancy[static_cast<size_t>(c)];
      if (o != kNegInf) grad_at(t, c) = static_cast<T>(-std::exp(o - log_p - lp(t, c)));
    }
  }
}

void ctc(const CtcProblem& p, const StridedArg& log_probs, const StridedArg& targets, const StridedArg& input_lengths,
         const StridedArg& target_lengths, const StridedArg& nll, const StridedArg& grad) {
  ctc_check(p, targets, input_lengths, target_lengths);
  for (int64_t n = 0; n < p.batch; ++n) ctc_sample(p, n, log_probs, targets, input_lengths, target_lengths, nll, grad);
}

}  // namespace

void ctc_check(const CtcProblem& p, const StridedArg& targets, const StridedArg& input_lengths,
               const StridedArg& target_lengths) {
  int64_t total = 0;
  for (int64_t n = 0; n < p.batch; ++n) {
    const int64_t time = length_at(input_lengths, n), length = length_at(target_lengths, n);
    TG_CHECK(time >= 0 && time <= p.time, "tg::ctc_loss: input_lengths[", n, "] = ", time, " is outside [0, ", p.time,
             "] (log_probs has ", p.time, " frames)");
    TG_CHECK(length >= 0 && (p.concatenated || length <= p.max_target), "tg::ctc_loss: target_lengths[", n, "] = ",
             length, p.concatenated ? " is negative" : " is outside [0, max target length]",
             p.concatenated ? "" : "", " (targets have ", p.max_target, " columns)");
    const auto [labels, stride] = labels_of(p, n, targets, target_lengths);
    for (int64_t i = 0; i < length; ++i) {
      const int64_t c = labels[i * stride];
      TG_CHECK(c >= 0 && c < p.classes && c != p.blank, "tg::ctc_loss: target ", c, " at position ", i, " of sample ",
               n, " is not a label: labels are in [0, ", p.classes, ") and not the blank (", p.blank, ")");
    }
    total += length;
  }
  TG_CHECK(!p.concatenated || total <= p.max_target, "tg::ctc_loss: target_lengths sum to ", total,
           " but the concatenated targets hold ", p.max_target);
}

int64_t length_at(const StridedArg& lengths, int64_t n) {
  return static_cast<const int64_t*>(lengths.data)[n * lengths.strides[0]];
}

std::vector<int64_t> ctc_extended_labels(const CtcProblem& p, int64_t n, const StridedArg& targets,
                                         const StridedArg& target_lengths) {
  const int64_t length = length_at(target_lengths, n);
  const auto [labels, label_stride] = labels_of(p, n, targets, target_lengths);
  std::vector<int64_t> ext(static_cast<size_t>(2 * length + 1), p.blank);
  for (int64_t i = 0; i < length; ++i) ext[static_cast<size_t>(2 * i + 1)] = labels[i * label_stride];
  return ext;
}

void ctc_sample(const CtcProblem& p, int64_t n, const StridedArg& log_probs, const StridedArg& targets,
                const StridedArg& input_lengths, const StridedArg& target_lengths, const StridedArg& nll,
                const StridedArg& grad) {
  visit_floating(log_probs.dtype, "tg::ctc_loss", [&]<class T>(TypeTag<T>) {
    sample<T>(p, n, log_probs, targets, input_lengths, target_lengths, nll, grad);
  });
}

void register_ctc(KernelTables& t) {
  for (DType d : {DType::Float32, DType::Float64}) t.ctc.add(DeviceType::CPU, d, &ctc);
}

}  // namespace tg::kernels::ref
