// Unary elementwise ops: forward through kernels::unary, VJPs written with differentiable tensor ops.
#include <cmath>
#include <numbers>

#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/elementwise.h>

#include "profiling.h"
#include "record.h"
#include "activation_grad.h"

namespace tg {

namespace {

using kernels::UnaryOp;

// Integer inputs of float-only ops (exp, log, ...) compute in the default float dtype, as in PyTorch.
DType unary_result_dtype(UnaryOp op, DType in) {
  if (is_floating(in)) return in;
  const bool int_ok = kernels::unary_supports_integers(op);
  TG_CHECK(!(in == DType::Bool && int_ok), "tg::", kernels::op_name(op), ": not defined for bool tensors");
  return int_ok ? in : default_float_dtype();
}

Tensor unary_forward(UnaryOp op, const Tensor& x) {
  const DType dtype = unary_result_dtype(op, x.dtype());
  const Tensor in = ops::cast_raw(x, dtype);
  Tensor out = Tensor::empty(x.shape(), dtype, x.device());
  kernels::unary(op, x.shape(), ops::arg(out), ops::arg(in));
  return out;
}

// Runs the op and, when needed, records `vjp`, which sees (grad, {x, y}) or (grad, {x}) as `saves` says.
enum class Saves { Input, Output, Both, Nothing };

Tensor unary_op(UnaryOp op, const Tensor& x, Saves saves, VjpFn vjp) {
  TG_PROFILE_OP(kernels::op_name(op), x);
  Tensor out = unary_forward(op, x);
  if (ops::needs_tangent({x})) {
    // An elementwise op's Jacobian is diagonal, hence its own transpose: the VJP applied to the tangent is
    // the JVP, so each rule above serves both modes. The output enters as an alias without autograd state:
    // a tangent that requires grad would otherwise save `out` itself, and out -> tangent -> node -> out is
    // a reference cycle that is never freed.
    ops::push_tangent({x}, out, [&](const TensorList& t) {
      TensorList saved;
      if (saves == Saves::Input || saves == Saves::Both) saved.push_back(x);
      if (saves == Saves::Output || saves == Saves::Both) saved.push_back(out.detach());
      return vjp(t[0], saved)[0];
    });
  }
  if (ops::needs_grad({x})) {
    ops::SaveList save;
    if (saves == Saves::Input || saves == Saves::Both) save.inputs = {x};
    save.output = saves == Saves::Output || saves == Saves::Both;
    ops::record(kernels::op_name(op), {x}, out, std::move(vjp), std::move(save));
  }
  return out;
}

// The standard normal density, for gelu' (x Phi(x))' = Phi(x) + x phi(x).
Tensor normal_pdf(const Tensor& x) { return exp(square(x) * -0.5) * (1.0 / std::sqrt(2.0 * std::numbers::pi)); }

}  // namespace

Tensor neg(const Tensor& x) {
  return unary_op(UnaryOp::Neg, x, Saves::Nothing, [](const Tensor& g, const TensorList&) { return TensorList{-g}; });
}

Tensor abs(const Tensor& x) {
  return unary_op(UnaryOp::Abs, x, Saves::Input,
                  [](const Tensor& g, const TensorList& s) { return TensorList{g * sign(s[0])}; });
}

Tensor exp(const Tensor& x) {
  return unary_op(UnaryOp::Exp, x, Saves::Output, [](const Tensor& g, const TensorList& s) { return TensorList{g * s[0]}; });
}

Tensor log(const Tensor& x) {
  return unary_op(UnaryOp::Log, x, Saves::Input, [](const Tensor& g, const TensorList& s) { return TensorList{g / s[0]}; });
}

Tensor log1p(const Tensor& x) {
  return unary_op(UnaryOp::Log1p, x, Saves::Input,
                  [](const Tensor& g, const TensorList& s) { return TensorList{g / (s[0] + 1.0)}; });
}

Tensor sqrt(const Tensor& x) {
  return unary_op(UnaryOp::Sqrt, x, Saves::Output,
                  [](const Tensor& g, const TensorList& s) { return TensorList{g * 0.5 / s[0]}; });
}

Tensor rsqrt(const Tensor& x) {
  // d/dx x^(-1/2) = -1/2 x^(-3/2) = -1/2 y^3
  return unary_op(UnaryOp::Rsqrt, x, Saves::Output,
                  [](const Tensor& g, const TensorList& s) { return TensorList{g * -0.5 * s[0] * square(s[0])}; });
}

Tensor sin(const Tensor& x) {
  return unary_op(UnaryOp::Sin, x, Saves::Input, [](const Tensor& g, const TensorList& s) { return TensorList{g * cos(s[0])}; });
}

Tensor cos(const Tensor& x) {
  return unary_op(UnaryOp::Cos, x, Saves::Input,
                  [](const Tensor& g, const TensorList& s) { return TensorList{-g * sin(s[0])}; });
}

Tensor tanh(const Tensor& x) {
  return unary_op(UnaryOp::Tanh, x, Saves::Output,
                  [](const Tensor& g, const TensorList& s) { return TensorList{g * (1.0 - square(s[0]))}; });
}

Tensor sigmoid(const Tensor& x) {
  return unary_op(UnaryOp::Sigmoid, x, Saves::Output,
                  [](const Tensor& g, const TensorList& s) { return TensorList{g * s[0] * (1.0 - s[0])}; });
}

Tensor relu(const Tensor& x) {
  // One fused pass (g where x > 0), itself differentiable in g; x gets no gradient, so relu'' = 0.
  return unary_op(UnaryOp::Relu, x, Saves::Input,
                  [](const Tensor& g, const TensorList& s) { return TensorList{ops::relu_grad(g, s[0])}; });
}

Tensor gelu(const Tensor& x) {
  return unary_op(UnaryOp::Gelu, x, Saves::Input, [](const Tensor& g, const TensorList& s) {
    const Tensor& v = s[0];
    const Tensor cdf = (erf(v * std::numbers::sqrt2 * 0.5) + 1.0) * 0.5;
    return TensorList{g * (cdf + v * normal_pdf(v))};
  });
}

Tensor silu(const Tensor& x) {
  // (x s(x))' = s (1 + x (1 - s)), applied to g in one fused pass that is itself differentiable.
  return unary_op(UnaryOp::Silu, x, Saves::Input,
                  [](const Tensor& g, const TensorList& s) { return TensorList{ops::silu_grad(g, s[0])}; });
}

Tensor square(const Tensor& x) {
  return unary_op(UnaryOp::Square, x, Saves::Input,
                  [](const Tensor& g, const TensorList& s) { return TensorList{g * s[0] * 2.0}; });
}

Tensor reciprocal(const Tensor& x) {
  return unary_op(UnaryOp::Reciprocal, x, Saves::Output,
                  [](const Tensor& g, const TensorList& s) { return TensorList{-g * square(s[0])}; });
}

Tensor sign(const Tensor& x) {
  // Piecewise constant: the gradient is zero wherever it exists.
  return unary_op(UnaryOp::Sign, x, Saves::Nothing, [](const Tensor& g, const TensorList&) { return TensorList{g * 0.0}; });
}

// Piecewise constant: the gradient is zero wherever it exists.
Tensor floor(const Tensor& x) {
  return unary_op(UnaryOp::Floor, x, Saves::Nothing, [](const Tensor& g, const TensorList&) { return TensorList{g * 0.0}; });
}
Tensor ceil(const Tensor& x) {
  return unary_op(UnaryOp::Ceil, x, Saves::Nothing, [](const Tensor& g, const TensorList&) { return TensorList{g * 0.0}; });
}
Tensor round(const Tensor& x) {
  return unary_op(UnaryOp::Round, x, Saves::Nothing, [](const Tensor& g, const TensorList&) { return TensorList{g * 0.0}; });
}

Tensor erf(const Tensor& x) {
  return unary_op(UnaryOp::Erf, x, Saves::Input, [](const Tensor& g, const TensorList& s) {
    return TensorList{g * exp(-square(s[0])) * (2.0 / std::sqrt(std::numbers::pi))};
  });
}

}  // namespace tg
