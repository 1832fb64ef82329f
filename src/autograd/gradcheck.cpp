// Finite-difference checks of analytic gradients. The numeric side perturbs one element at a time through
// the tensor's own strides, so non-contiguous and expanded inputs are checked as they are.
#include <tensorgrad/autograd/gradcheck.h>

#include <cmath>
#include <random>
#include <sstream>

#include <tensorgrad/autograd/engine.h>
#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/movement.h>
#include <tensorgrad/ops/view.h>

namespace tg {

namespace {

std::vector<double> values_of(const Tensor& t) { return tg::to(t.detach(), DType::Float64).contiguous().to_vector<double>(); }

// Every storage element of `t` visited by its logical index (an expanded tensor repeats one element: that is
// the point, a perturbation there moves every alias at once, as it would in the user's program).
std::vector<int64_t> element_offsets(const Tensor& t) {
  std::vector<int64_t> offsets;
  offsets.reserve(static_cast<size_t>(t.numel()));
  std::vector<int64_t> index(static_cast<size_t>(t.dim()), 0);
  for (int64_t n = 0; n < t.numel(); ++n) {
    int64_t off = 0;
    for (size_t d = 0; d < index.size(); ++d) off += index[d] * t.strides()[d];
    offsets.push_back(off);
    for (size_t d = index.size(); d-- > 0;) {
      if (++index[d] < t.shape()[d]) break;
      index[d] = 0;
    }
  }
  return offsets;
}

std::vector<size_t> differentiable_inputs(const TensorList& inputs, const char* op) {
  std::vector<size_t> which;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined() || !inputs[i].requires_grad()) continue;
    TG_CHECK(inputs[i].dtype() == DType::Float64, op, ": input ", i, " has dtype ", dtype_name(inputs[i].dtype()),
             "; finite differences need float64 inputs");
    which.push_back(i);
  }
  TG_CHECK(!which.empty(), op, ": no input requires grad, so there is nothing to check");
  return which;
}

// rows = output elements, columns = input elements, in row-major order.
std::vector<double> analytic_jacobian(const DifferentiableFn& fn, const TensorList& inputs, size_t which,
                                      int64_t out_numel) {
  const int64_t in_numel = inputs[which].numel();
  std::vector<double> jac(static_cast<size_t>(out_numel * in_numel), 0.0);
  const Tensor out = fn(inputs);
  if (!out.requires_grad()) return jac;  // constant in the inputs: the Jacobian is zero
  for (int64_t r = 0; r < out_numel; ++r) {
    Tensor seed = zeros(out.shape(), out.dtype());
    seed.reshape({-1}).narrow(0, r, 1).fill_(1.0);
    const TensorList g = grad({out}, {inputs[which]}, {seed}, {.retain_graph = true, .allow_unused = true});
    if (!g[0].defined()) continue;
    const auto row = values_of(g[0]);
    std::copy(row.begin(), row.end(), jac.begin() + r * in_numel);
  }
  return jac;
}

}  // namespace

Tensor numeric_jacobian(const DifferentiableFn& fn, const TensorList& inputs, size_t which, double eps) {
  TG_CHECK(which < inputs.size(), "tg::numeric_jacobian: input index ", which, " out of range for ", inputs.size(),
           " inputs");
  const Tensor& x = inputs[which];
  TG_CHECK(x.dtype() == DType::Float64, "tg::numeric_jacobian: input ", which, " has dtype ", dtype_name(x.dtype()),
           "; finite differences need float64");
  // Grad mode stays as the caller has it: fn may itself take gradients (gradgradcheck's first_order does).
  const int64_t out_numel = fn(inputs).numel();
  Tensor jac = zeros({out_numel, x.numel()}, DType::Float64);
  double* data = x.data<double>();
  double* j = jac.data<double>();
  const auto offsets = element_offsets(x);
  for (size_t c = 0; c < offsets.size(); ++c) {
    double& element = data[offsets[c]];
    const double saved = element;
    element = saved + eps;
    const auto plus = values_of(fn(inputs));
    element = saved - eps;
    const auto minus = values_of(fn(inputs));
    element = saved;
    for (int64_t r = 0; r < out_numel; ++r)
      j[r * x.numel() + static_cast<int64_t>(c)] = (plus[static_cast<size_t>(r)] - minus[static_cast<size_t>(r)]) / (2 * eps);
  }
  return jac;
}

GradcheckResult gradcheck(const DifferentiableFn& fn, const TensorList& inputs, GradcheckOptions options) {
  GradcheckResult result;
  const int64_t out_numel = fn(inputs).numel();
  for (size_t which : differentiable_inputs(inputs, "tg::gradcheck")) {
    const auto numeric = numeric_jacobian(fn, inputs, which, options.eps).to_vector<double>();
    const auto analytic = analytic_jacobian(fn, inputs, which, out_numel);
    const int64_t cols = inputs[which].numel();
    for (size_t k = 0; k < numeric.size(); ++k) {
      const double err = std::abs(analytic[k] - numeric[k]);
      const bool finite = std::isfinite(analytic[k]) == std::isfinite(numeric[k]);
      result.max_abs_error = std::max(result.max_abs_error, std::isnan(err) ? INFINITY : err);
      if ((finite && err <= options.atol + options.rtol * std::abs(numeric[k])) || !result.ok) continue;
      result.ok = false;
      std::ostringstream msg;
      msg << "tg::gradcheck: Jacobian mismatch for input " << which << " (shape " << shape_str(inputs[which].shape())
          << ") at output element " << static_cast<int64_t>(k) / cols << ", input element "
          << static_cast<int64_t>(k) % cols << ": analytic " << analytic[k] << ", numeric " << numeric[k];
      result.message = msg.str();
    }
  }
  return result;
}

GradcheckResult gradgradcheck(const DifferentiableFn& fn, const TensorList& inputs, GradcheckOptions options) {
  const auto which = differentiable_inputs(inputs, "tg::gradgradcheck");
  const Shape out_shape = fn(inputs).shape();
  // A fixed cotangent u, drawn from its own engine so checking never moves the user's generator.
  std::mt19937_64 engine(0x5eed);
  std::normal_distribution<double> normal;
  std::vector<double> u(static_cast<size_t>(numel_of(out_shape)));
  for (double& v : u) v = normal(engine);
  const Tensor cotangent = from_vector(u, {numel_of(out_shape)}).reshape(out_shape);

  const DifferentiableFn first_order = [&](const TensorList& xs) {
    const Tensor out = fn(xs);
    TensorList diff;
    for (size_t i : which) diff.push_back(xs[i]);
    TensorList grads(diff.size());
    if (out.requires_grad())
      grads = grad({out}, diff, {cotangent.to(out.dtype())}, {.create_graph = true, .allow_unused = true});
    TensorList flat;
    for (size_t k = 0; k < diff.size(); ++k)
      flat.push_back(reshape(grads[k].defined() ? grads[k] : zeros_like(diff[k]), {-1}));
    return cat(flat, 0);
  };
  GradcheckResult result = gradcheck(first_order, inputs, options);
  if (!result.ok) result.message = "tg::gradgradcheck (second order): " + result.message;
  return result;
}

}  // namespace tg
