#pragma once
// Curvature from Hessian-vector products, without forming the Hessian: Hutchinson's trace estimator and
// Lanczos for the extreme eigenvalues (the Hessian-spectrum analysis of network training).
#include <cstdint>
#include <functional>
#include <vector>

#include <tensorgrad/autograd/functional.h>
#include <tensorgrad/core/random.h>
#include <tensorgrad/core/tensor.h>

namespace tg {

// A symmetric linear map given by its action, v -> A v (v and A v of the same shape).
using LinearOperator = std::function<Tensor(const Tensor&)>;

enum class Probe {
  Rademacher,  // entries +-1: the minimum-variance probe; exact for diagonal A
  Gaussian,    // entries N(0, 1)
};

struct TraceEstimate {
  double estimate = 0;        // (1/m) sum_i v_i^T A v_i
  double standard_error = 0;  // sample standard deviation of v_i^T A v_i over sqrt(m)
  int64_t samples = 0;
};

// Tr(A) for A acting on tensors of `shape`, from `samples` (>= 2) random probes drawn from `gen`.
TraceEstimate hutchinson_trace(const LinearOperator& matvec, const Shape& shape, DType dtype, int64_t samples,
                               Generator& gen, Probe probe = Probe::Rademacher);
// Tr(Hessian of scalar f at x), the products by forward-over-reverse hvp.
TraceEstimate hessian_trace(const TensorFn& f, const Tensor& x, int64_t samples, Generator& gen,
                            Probe probe = Probe::Rademacher);

// The k largest eigenvalues of symmetric A (descending), as Ritz values of `iterations` Lanczos steps with full
// reorthogonalisation (0: min(n, max(2k + 20, 40))). Exact up to rounding when iterations reaches n.
std::vector<double> lanczos_top_eigenvalues(const LinearOperator& matvec, const Shape& shape, DType dtype, int64_t k,
                                            Generator& gen, int64_t iterations = 0);
std::vector<double> hessian_top_eigenvalues(const TensorFn& f, const Tensor& x, int64_t k, Generator& gen,
                                            int64_t iterations = 0);

// Eigenvalues (ascending) of the symmetric tridiagonal matrix with `diagonal` and `off_diagonal` (one shorter).
std::vector<double> tridiagonal_eigenvalues(const std::vector<double>& diagonal, const std::vector<double>& off_diagonal);

}  // namespace tg
