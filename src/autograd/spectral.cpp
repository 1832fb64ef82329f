// Hutchinson's trace estimator and Lanczos, both driven by matrix-vector products only.
#include <tensorgrad/autograd/spectral.h>

#include <algorithm>
#include <cmath>

#include <tensorgrad/core/graph.h>
#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/reduce.h>
#include <tensorgrad/ops/view.h>

namespace tg {

namespace {

Tensor draw_probe(const Shape& shape, DType dtype, Generator& gen, Probe probe) {
  if (probe == Probe::Gaussian) return randn(shape, dtype, gen);
  return to(randint(0, 2, shape, gen) * 2 - 1, dtype);
}

std::vector<double> as_doubles(const Tensor& t) { return to(t.detach(), DType::Float64).contiguous().to_vector<double>(); }

Tensor from_doubles(const std::vector<double>& v, const Shape& shape, DType dtype) {
  Tensor t = Tensor::empty({static_cast<int64_t>(v.size())}, DType::Float64);
  std::copy(v.begin(), v.end(), t.data<double>());
  return reshape(to(t, dtype), shape);
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

void axpy(double alpha, const std::vector<double>& x, std::vector<double>& y) {
  for (size_t i = 0; i < x.size(); ++i) y[i] += alpha * x[i];
}

LinearOperator hessian_operator(const TensorFn& f, const Tensor& x) {
  return [f, x](const Tensor& v) { return hvp(f, x, v, HvpMode::ForwardOverReverse); };
}

}  // namespace

TraceEstimate hutchinson_trace(const LinearOperator& matvec, const Shape& shape, DType dtype, int64_t samples,
                               Generator& gen, Probe probe) {
  TG_CHECK(samples >= 2, "tg::hutchinson_trace: needs at least 2 probes for a standard error, got ", samples);
  TG_CHECK(is_floating(dtype), "tg::hutchinson_trace: probes must be floating, got ", dtype_name(dtype));
  std::vector<double> quad;
  NoGradGuard no_grad;
  for (int64_t i = 0; i < samples; ++i) {
    const Tensor v = draw_probe(shape, dtype, gen, probe);
    const Tensor av = matvec(v);
    TG_CHECK(av.defined() && av.shape() == shape, "tg::hutchinson_trace: the operator returned shape ",
             av.defined() ? av.shape() : Shape{}, " for a probe of shape ", shape);
    quad.push_back(sum(to(v, DType::Float64) * to(av.detach(), DType::Float64)).item());
  }
  TraceEstimate r;
  r.samples = samples;
  double mean = 0;
  for (double q : quad) mean += q;
  mean /= static_cast<double>(samples);
  double var = 0;
  for (double q : quad) var += (q - mean) * (q - mean);
  var /= static_cast<double>(samples - 1);
  r.estimate = mean;
  r.standard_error = std::sqrt(var / static_cast<double>(samples));
  return r;
}

TraceEstimate hessian_trace(const TensorFn& f, const Tensor& x, int64_t samples, Generator& gen, Probe probe) {
  return hutchinson_trace(hessian_operator(f, x), x.shape(), x.dtype(), samples, gen, probe);
}

std::vector<double> tridiagonal_eigenvalues(const std::vector<double>& diagonal,
                                            const std::vector<double>& off_diagonal) {
  // Cyclic Jacobi on the dense matrix: the Krylov dimension is small, and Jacobi is accurate to rounding.
  const size_t n = diagonal.size();
  std::vector<double> a(n * n, 0.0);
  for (size_t i = 0; i < n; ++i) a[i * n + i] = diagonal[i];
  for (size_t i = 0; i + 1 < n; ++i) a[i * n + i + 1] = a[(i + 1) * n + i] = off_diagonal[i];
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0, total = 0;
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < n; ++j) (i == j ? total : off) += a[i * n + j] * a[i * n + j];
    if (off <= 1e-30 * (total + off) || off == 0) break;
    for (size_t p = 0; p < n; ++p) {
      for (size_t q = p + 1; q < n; ++q) {
        const double apq = a[p * n + q];
        if (apq == 0) continue;
        const double theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (size_t k = 0; k < n; ++k) {  // columns p, q
          const double akp = a[k * n + p], akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (size_t k = 0; k < n; ++k) {  // rows p, q
          const double apk = a[p * n + k], aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  std::vector<double> eig(n);
  for (size_t i = 0; i < n; ++i) eig[i] = a[i * n + i];
  std::sort(eig.begin(), eig.end());
  return eig;
}

std::vector<double> lanczos_top_eigenvalues(const LinearOperator& matvec, const Shape& shape, DType dtype, int64_t k,
                                            Generator& gen, int64_t iterations) {
  const int64_t n = numel_of(shape);
  TG_CHECK(k >= 1 && k <= n, "tg::lanczos_top_eigenvalues: k = ", k, " for an operator on ", n, " elements");
  if (iterations <= 0) iterations = std::min<int64_t>(n, std::max<int64_t>(2 * k + 20, 40));
  iterations = std::min(iterations, n);
  NoGradGuard no_grad;
  std::vector<std::vector<double>> basis;
  std::vector<double> alpha, beta;
  std::vector<double> q = as_doubles(randn(shape, DType::Float64, gen));
  const double norm0 = std::sqrt(dot(q, q));
  for (double& e : q) e /= norm0;
  for (int64_t j = 0; j < iterations; ++j) {
    basis.push_back(q);
    const Tensor aq = matvec(from_doubles(q, shape, dtype));
    TG_CHECK(aq.defined() && aq.shape() == shape, "tg::lanczos_top_eigenvalues: the operator returned shape ",
             aq.defined() ? aq.shape() : Shape{}, " for a vector of shape ", shape);
    std::vector<double> w = as_doubles(aq);
    alpha.push_back(dot(w, q));
    // Full reorthogonalisation, twice ("twice is enough"), keeps the Ritz values free of spurious copies.
    for (int pass = 0; pass < 2; ++pass)
      for (const auto& b : basis) axpy(-dot(w, b), b, w);
    const double b_next = std::sqrt(dot(w, w));
    const double scale = std::abs(alpha.back()) + (beta.empty() ? 0.0 : beta.back());
    if (j + 1 == iterations || b_next <= 1e-12 * std::max(scale, 1e-300)) break;  // invariant subspace found
    beta.push_back(b_next);
    for (double& e : w) e /= b_next;
    q = std::move(w);
  }
  beta.resize(alpha.size() - 1);
  std::vector<double> ritz = tridiagonal_eigenvalues(alpha, beta);
  std::reverse(ritz.begin(), ritz.end());
  ritz.resize(std::min<size_t>(ritz.size(), static_cast<size_t>(k)));
  return ritz;
}

std::vector<double> hessian_top_eigenvalues(const TensorFn& f, const Tensor& x, int64_t k, Generator& gen,
                                            int64_t iterations) {
  return lanczos_top_eigenvalues(hessian_operator(f, x), x.shape(), x.dtype(), k, gen, iterations);
}

}  // namespace tg
