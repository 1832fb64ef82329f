#include <tensorgrad/optim/clip.h>

#include <algorithm>
#include <cmath>

#include <tensorgrad/core/graph.h>
#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/reduce.h>

namespace tg::optim {

double grad_norm(const std::vector<Tensor>& params, double norm_type) {
  TG_CHECK(norm_type > 0.0, "tg::optim::grad_norm: invalid norm_type ", norm_type, " (must be > 0 or infinite)");
  NoGradGuard no_grad;
  const bool inf = std::isinf(norm_type);
  double acc = 0.0;  // max |g| for the inf-norm, else sum |g|^p
  for (const Tensor& p : params) {
    if (!p.defined()) continue;
    const Tensor g = p.grad();
    if (!g.defined() || g.numel() == 0) continue;
    const Tensor a = g.detach();
    if (inf) {
      const double m = max(abs(a)).item();
      acc = std::isnan(m) || std::isnan(acc) ? std::nan("") : std::max(acc, m);
    } else if (norm_type == 2.0) {
      acc += sum(square(a)).item();
    } else if (norm_type == 1.0) {
      acc += sum(abs(a)).item();
    } else {
      acc += sum(pow(abs(a), norm_type)).item();
    }
  }
  if (inf || norm_type == 1.0) return acc;
  if (norm_type == 2.0) return std::sqrt(acc);
  return std::pow(acc, 1.0 / norm_type);
}

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double norm_type, bool error_if_nonfinite) {
  TG_CHECK(max_norm >= 0.0, "tg::optim::clip_grad_norm: invalid max_norm ", max_norm, " (must be >= 0)");
  const double total = grad_norm(params, norm_type);
  TG_CHECK(!error_if_nonfinite || std::isfinite(total), "tg::optim::clip_grad_norm: the total ", norm_type,
           "-norm of the gradients is ", total, "; gradients left unchanged");
  const double coef = max_norm / (total + 1e-6);
  if (coef >= 1.0) return total;  // (a NaN factor falls through and is applied, as torch does)
  NoGradGuard no_grad;
  for (const Tensor& p : params) {
    if (!p.defined()) continue;
    Tensor g = p.grad();
    if (g.defined()) g.mul_(coef);
  }
  return total;
}

}  // namespace tg::optim
