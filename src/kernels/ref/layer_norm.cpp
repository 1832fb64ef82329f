// Layer normalisation, the oracle: each row's statistics and every sum in double, in index order, one element
// at a time; results rounded once to the operands' dtype.
#include <cmath>
#include <vector>

#include "ref_kernels.h"

namespace tg::kernels::ref {

namespace {

template <class T>
const T* ptr(const StridedArg& a) {
  return static_cast<const T*>(a.data);
}
template <class T>
T* mut(const StridedArg& a) {
  return static_cast<T*>(a.data);
}

template <class T>
void forward_typed(const LayerNormProblem& p, const LayerNormArgs& a) {
  const int64_t n = p.cols;
  const T *w = ptr<T>(a.weight), *b = ptr<T>(a.bias);
  for (int64_t r = 0; r < p.rows; ++r) {
    const T* x = ptr<T>(a.x) + r * n;
    double sum = 0;
    for (int64_t c = 0; c < n; ++c) sum += static_cast<double>(x[c]);
    const double mean = sum / static_cast<double>(n);
    double squares = 0;
    for (int64_t c = 0; c < n; ++c) squares += (x[c] - mean) * (x[c] - mean);
    const double rstd = 1.0 / std::sqrt(squares / static_cast<double>(n) + p.eps);
    T* y = mut<T>(a.y) + r * n;
    for (int64_t c = 0; c < n; ++c) {
      double v = (x[c] - mean) * rstd;
      if (w != nullptr) v *= static_cast<double>(w[c]);
      if (b != nullptr) v += static_cast<double>(b[c]);
      y[c] = static_cast<T>(v);
    }
    mut<T>(a.mean)[r] = static_cast<T>(mean);
    mut<T>(a.rstd)[r] = static_cast<T>(rstd);
  }
}

template <class T>
void backward_typed(const LayerNormProblem& p, const LayerNormArgs& a) {
  const int64_t n = p.cols;
  const T* w = ptr<T>(a.weight);
  std::vector<double> dw(static_cast<size_t>(n)), db(static_cast<size_t>(n));
  for (int64_t r = 0; r < p.rows; ++r) {
    const T *x = ptr<T>(a.x) + r * n, *g = ptr<T>(a.grad_out) + r * n;
    const double mean = static_cast<double>(ptr<T>(a.mean)[r]), rstd = static_cast<double>(ptr<T>(a.rstd)[r]);
    double sum_gw = 0, sum_gw_xhat = 0;
    for (int64_t c = 0; c < n; ++c) {
      const double xhat = (x[c] - mean) * rstd, gw = g[c] * (w != nullptr ? static_cast<double>(w[c]) : 1.0);
      sum_gw += gw;
      sum_gw_xhat += gw * xhat;
      dw[static_cast<size_t>(c)] += g[c] * xhat;
      db[static_cast<size_t>(c)] += static_cast<double>(g[c]);
    }
    if (a.grad_x.data == nullptr) continue;
    const double mean_gw = sum_gw / static_cast<double>(n), mean_gw_xhat = sum_gw_xhat / static_cast<double>(n);
    T* dx = mut<T>(a.grad_x) + r * n;
    for (int64_t c = 0; c < n; ++c) {
      const double xhat = (x[c] - mean) * rstd, gw = g[c] * (w != nullptr ? static_cast<double>(w[c]) : 1.0);
      dx[c] = static_cast<T>(rstd * (gw - mean_gw - xhat * mean_gw_xhat));
    }
  }
  for (int64_t c = 0; c < n; ++c) {
    if (a.grad_weight.data != nullptr) mut<T>(a.grad_weight)[c] = static_cast<T>(dw[static_cast<size_t>(c)]);
    if (a.grad_bias.data != nullptr) mut<T>(a.grad_bias)[c] = static_cast<T>(db[static_cast<size_t>(c)]);
  }
}

}  // namespace

void layer_norm_forward(const LayerNormProblem& p, const LayerNormArgs& a) {
  if (a.x.dtype == DType::Float32) return forward_typed<float>(p, a);
  forward_typed<double>(p, a);
}

void layer_norm_backward(const LayerNormProblem& p, const LayerNormArgs& a) {
  if (a.x.dtype == DType::Float32) return backward_typed<float>(p, a);
  backward_typed<double>(p, a);
}

void register_layer_norm(KernelTables& t) {
  for (DType d : {DType::Float32, DType::Float64}) {
    t.layer_norm_forward.add(DeviceType::CPU, d, &layer_norm_forward);
    t.layer_norm_backward.add(DeviceType::CPU, d, &layer_norm_backward);
  }
}

}  // namespace tg::kernels::ref
