// Activations as compositions of differentiable ops (see activation.h).
#include <tensorgrad/ops/activation.h>

#include <cmath>

#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/view.h>

#include "profiling.h"

namespace tg {

namespace {
void check_floating(const Tensor& x, const char* op) {
  TG_CHECK(x.defined(), op, ": the input is undefined");
  TG_CHECK(is_floating(x.dtype()), op, ": expected a floating input, got ", dtype_name(x.dtype()), " of shape ",
           x.shape());
}
}  // namespace

Tensor softplus(const Tensor& x, double beta, double threshold) {
  TG_PROFILE_OP("softplus", x);
  check_floating(x, "tg::softplus");
  TG_CHECK(beta > 0 && std::isfinite(beta), "tg::softplus: beta must be positive and finite, got ", beta);
  const Tensor z = x * beta;
  // The smooth branch sees min(z, threshold), so exp never overflows where the linear branch is taken.
  const Tensor smooth = log1p(exp(minimum(z, threshold))) / beta;
  return where(gt(z, threshold), x, smooth);
}

Tensor leaky_relu(const Tensor& x, double negative_slope) {
  TG_PROFILE_OP("leaky_relu", x);
  check_floating(x, "tg::leaky_relu");
  return where(gt(x, 0.0), x, x * negative_slope);
}

Tensor elu(const Tensor& x, double alpha) {
  TG_PROFILE_OP("elu", x);
  check_floating(x, "tg::elu");
  return where(gt(x, 0.0), x, (exp(minimum(x, 0.0)) - 1.0) * alpha);
}

Tensor glu(const Tensor& x, int64_t dim) {
  TG_PROFILE_OP("glu", x);
  check_floating(x, "tg::glu");
  TG_CHECK(x.dim() > 0, "tg::glu: expected at least one dimension, got a 0-d tensor");
  const int64_t d = wrap_dim(dim, x.dim(), "tg::glu");
  const int64_t n = x.size(d);
  TG_CHECK(n % 2 == 0, "tg::glu: dim ", dim, " of input ", x.shape(), " has odd size ", n,
           "; it must split into two halves");
  return narrow(x, d, 0, n / 2) * sigmoid(narrow(x, d, n / 2, n / 2));
}

Tensor gelu_tanh(const Tensor& x) {
  TG_PROFILE_OP("gelu_tanh", x);
  check_floating(x, "tg::gelu_tanh");
  const double c = std::sqrt(2.0 / 3.14159265358979323846);
  return x * 0.5 * (tanh((x + x * x * x * 0.044715) * c) + 1.0);
}

}  // namespace tg
