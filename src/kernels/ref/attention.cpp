// The reference scaled dot-product attention: the definition in double, one query row at a time (the scores
// of one row, never the [L, S] matrix), the oracle the fused CPU kernel is checked against (see kernels.h).
#include <cmath>
#include <limits>
#include <vector>

#include "ref_kernels.h"

namespace tg::kernels::ref {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Row i's scaled, masked scores against every key: -inf where a key is excluded.
template <class T>
void row_scores(const AttentionProblem& p, const AttentionArgs& a, int64_t b, int64_t i, std::vector<double>& s) {
  const T* q = static_cast<const T*>(a.q.data) + batch_offset(p.batch, b, a.q.strides) + i * a.q.strides[p.batch.size()];
  const T* k = static_cast<const T*>(a.k.data) + batch_offset(p.batch, b, a.k.strides);
  const size_t nb = p.batch.size();
  for (int64_t j = 0; j < p.keys; ++j) {
    double acc = 0;
    for (int64_t e = 0; e < p.head_dim; ++e)
      acc += static_cast<double>(q[e * a.q.strides[nb + 1]]) *
             static_cast<double>(k[j * a.k.strides[nb] + e * a.k.strides[nb + 1]]);
    acc *= p.scale;
    if (a.mask.data != nullptr) {
      const int64_t at = batch_offset(p.batch, b, a.mask.strides) + i * a.mask.strides[nb] + j * a.mask.strides[nb + 1];
      if (a.mask.dtype == DType::Bool) acc = static_cast<const bool*>(a.mask.data)[at] ? acc : -kInf;
      else acc += static_cast<double>(static_cast<const T*>(a.mask.data)[at]);
    }
    if (p.causal && j > i) acc = -kInf;
    s[static_cast<size_t>(j)] = acc;
  }
}

template <class T>
T& at2(const StridedArg& x, const AttentionProblem& p, int64_t b, int64_t r, int64_t c) {
  const size_t nb = p.batch.size();
  return static_cast<T*>(x.data)[batch_offset(p.batch, b, x.strides) + r * x.strides[nb] + c * x.strides[nb + 1]];
}

template <class T>
void forward_typed(const AttentionProblem& p, const AttentionArgs& a) {
  std::vector<double> s(static_cast<size_t>(p.keys)), acc(static_cast<size_t>(p.value_dim));
  const size_t nb = p.batch.size();
  for (int64_t b = 0; b < numel_of(p.batch); ++b)
    for (int64_t i = 0; i < p.queries; ++i) {
      row_scores<T>(p, a, b, i, s);
      double m = -kInf;
      for (double x : s) m = std::max(m, x);
      std::fill(acc.begin(), acc.end(), 0.0);
      double l = 0;
      if (m > -kInf)
        for (int64_t j = 0; j < p.keys; ++j) {
          const double w = std::exp(s[static_cast<size_t>(j)] - m);
          l += w;
          for (int64_t c = 0; c < p.value_dim; ++c) acc[static_cast<size_t>(c)] += w * static_cast<double>(at2<T>(a.v, p, b, j, c));
        }
      for (int64_t c = 0; c < p.value_dim; ++c) at2<T>(a.out, p, b, i, c) = static_cast<T>(l > 0 ? acc[static_cast<size_t>(c)] / l : 0.0);
      static_cast<T*>(a.lse.data)[batch_offset(p.batch, b, a.lse.strides) + i * a.lse.strides[nb]] =
          static_cast<T>(l > 0 ? m + std::log(l) : kInf);
    }
}

template <class T>
void backward_typed(const AttentionProblem& p, const AttentionArgs& a) {
  const auto L_ = static_cast<size_t>(p.queries), S = static_cast<size_t>(p.keys);
  const auto E = static_cast<size_t>(p.head_dim), Ev = static_cast<size_t>(p.value_dim);
  const size_t nb = p.batch.size();
  std::vector<double> s(S), dq(L_ * E), dk(S * E), dv(S * Ev);
  for (int64_t b = 0; b < numel_of(p.batch); ++b) {
    std::fill(dq.begin(), dq.end(), 0.0);
    std::fill(dk.begin(), dk.end(), 0.0);
    std::fill(dv.begin(), dv.end(), 0.0);
    for (size_t i = 0; i < L_; ++i) {
      const auto ii = static_cast<int64_t>(i);
      const double lse = static_cast<double>(static_cast<const T*>(a.lse.data)[batch_offset(p.batch, b, a.lse.strides) + ii * a.lse.strides[nb]]);
      if (lse == kInf) continue;  // every key excluded: no gradient
      double D = 0;  // rowsum(dO * O): softmax's backward without the [L, S] weights
      for (size_t c = 0; c < Ev; ++c)
        D += static_cast<double>(at2<T>(a.grad_out, p, b, ii, static_cast<int64_t>(c))) *
             static_cast<double>(at2<T>(a.out, p, b, ii, static_cast<int64_t>(c)));
      row_scores<T>(p, a, b, ii, s);
      for (size_t j = 0; j < S; ++j) {
        const auto jj = static_cast<int64_t>(j);
        const double w = std::exp(s[j] - lse);
        if (w == 0) continue;
        double dp = 0;
        for (size_t c = 0; c < Ev; ++c) {
          const double go = static_cast<double>(at2<T>(a.grad_out, p, b, ii, static_cast<int64_t>(c)));
          dp += go * static_cast<double>(at2<T>(a.v, p, b, jj, static_cast<int64_t>(c)));
          dv[j * Ev + c] += w * go;
        }
        const double ds = w * (dp - D) * p.scale;
        for (size_t e = 0; e < E; ++e) {
          dq[i * E + e] += ds * static_cast<double>(at2<T>(a.k, p, b, jj, static_cast<int64_t>(e)));
          dk[j * E + e] += ds * static_cast<double>(at2<T>(a.q, p, b, ii, static_cast<int64_t>(e)));
        }
      }
    }
    for (size_t i = 0; i < L_; ++i)
      for (size_t e = 0; e < E; ++e) at2<T>(a.grad_q, p, b, static_cast<int64_t>(i), static_cast<int64_t>(e)) = static_cast<T>(dq[i * E + e]);
    for (size_t j = 0; j < S; ++j) {
      for (size_t e = 0; e < E; ++e) at2<T>(a.grad_k, p, b, static_cast<int64_t>(j), static_cast<int64_t>(e)) = static_cast<T>(dk[j * E + e]);
      for (size_t c = 0; c < Ev; ++c) at2<T>(a.grad_v, p, b, static_cast<int64_t>(j), static_cast<int64_t>(c)) = static_cast<T>(dv[j * Ev + c]);
    }
  }
}

void forward(const AttentionProblem& p, const AttentionArgs& a) {
  visit_floating(a.q.dtype, "tg::attention_forward", [&]<class T>(TypeTag<T>) { forward_typed<T>(p, a); });
}
void backward(const AttentionProblem& p, const AttentionArgs& a) {
  visit_floating(a.q.dtype, "tg::attention_backward", [&]<class T>(TypeTag<T>) { backward_typed<T>(p, a); });
}

}  // namespace

void register_attention(KernelTables& t) {
  for (DType d : {DType::Float32, DType::Float64}) {
    t.attention_forward.add(DeviceType::CPU, d, &forward);
    t.attention_backward.add(DeviceType::CPU, d, &backward);
  }
}

}  // namespace tg::kernels::ref
