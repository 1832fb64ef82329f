// Binary elementwise ops with NumPy broadcasting and PyTorch type promotion, where, the Scalar rules and the
// C++ operators. Gradients are returned in the broadcast shape; the engine sums them back to each input.
#include <array>
#include <string>

#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/view.h>
#include <tensorgrad/kernels/kernel_tables.h>

#include "profiling.h"
#include "record.h"
#include "activation_grad.h"

namespace tg {

DType Scalar::dtype_with(DType other) const {
  switch (kind_) {
    case Kind::Bool: return other;
    case Kind::Integral: return other == DType::Bool ? DType::Int64 : other;
    case Kind::Floating: return is_floating(other) ? other : default_float_dtype();
  }
  return other;
}

Tensor scalar_like(Scalar s, const Tensor& like) {
  return full({}, s.value(), s.dtype_with(like.dtype()), like.device());
}

namespace {

using kernels::BinaryOp;

struct Broadcast {
  Shape shape;
  DType compute;  // both operands are cast to this before the kernel runs
  DType result;
};

// "tg::add", ... built once: the name is only read when a check fails.
const char* qualified_name(BinaryOp op) {
  static const std::array<std::string, kernels::kBinaryOpCount> names = [] {
    std::array<std::string, kernels::kBinaryOpCount> n;
    for (int i = 0; i < kernels::kBinaryOpCount; ++i)
      n[static_cast<size_t>(i)] = std::string("tg::") + kernels::op_name(static_cast<BinaryOp>(i));
    return n;
  }();
  return names[static_cast<size_t>(op)].c_str();
}

Broadcast plan_binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  const char* name = qualified_name(op);
  ops::check_same_device(name, a, b);
  Broadcast plan{broadcast_shapes(a.shape(), b.shape(), name), promote_types(a.dtype(), b.dtype()), {}};
  if (op == BinaryOp::Div && !is_floating(plan.compute)) plan.compute = default_float_dtype();
  const bool bool_arith = op == BinaryOp::Sub || op == BinaryOp::Div || op == BinaryOp::Pow;
  TG_CHECK(!(plan.compute == DType::Bool && bool_arith), name, ": not defined for bool tensors (shapes ", a.shape(),
           " and ", b.shape(), "); convert with .to(tg::DType::Int64) first");
  plan.result = kernels::is_comparison(op) ? DType::Bool : plan.compute;
  return plan;
}

Tensor binary_forward(BinaryOp op, const Tensor& a, const Tensor& b) {
  const Broadcast plan = plan_binary(op, a, b);
  const Tensor ca = ops::cast_raw(a, plan.compute), cb = ops::cast_raw(b, plan.compute);
  Tensor out = Tensor::empty(plan.shape, plan.result, a.device());
  kernels::binary(op, plan.shape, ops::arg(out), ops::arg(ca, plan.shape), ops::arg(cb, plan.shape));
  return out;
}

// silu''(x) = s (1 - s) (2 + x (1 - 2 s)), s = sigmoid(x), with differentiable ops (silu_grad's x side).
Tensor silu_second_derivative(const Tensor& x) {
  const Tensor s = sigmoid(x);
  return s * (1.0 - s) * (x * (1.0 - s * 2.0) + 2.0);
}

// The JVP rules of the differentiable binary ops: d out = d_a out * ta + d_b out * tb, an undefined tangent
// being zero.
Tensor binary_jvp(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out, const Tensor& ta,
                  const Tensor& tb) {
  const bool has_a = ta.defined(), has_b = tb.defined();
  switch (op) {
    case BinaryOp::Add: return ops::sum_defined({ta, tb});
    case BinaryOp::Sub: return ops::sum_defined({ta, has_b ? -tb : Tensor()});
    case BinaryOp::Mul: return ops::sum_defined({has_a ? ta * b : Tensor(), has_b ? a * tb : Tensor()});
    case BinaryOp::Div: return ops::sum_defined({has_a ? ta / b : Tensor(), has_b ? -(out * tb) / b : Tensor()});
    case BinaryOp::Pow: {
      Tensor d_base = has_a ? ta * b * pow(a, b - 1.0) : Tensor();
      Tensor d_exponent;
      if (has_b) {
        // d/db a^b = a^b log a, taken as 0 where a <= 0, as in the VJP.
        const Tensor positive = gt(a, scalar_like(0, a));
        d_exponent = where(positive, tb * out * log(where(positive, a, 1.0)), 0.0);
      }
      return ops::sum_defined({d_base, d_exponent});
    }
    case BinaryOp::Maximum:
    case BinaryOp::Minimum: {
      const bool is_max = op == BinaryOp::Maximum;
      const Tensor tie = eq(a, b) * 0.5;
      const Tensor a_share = (is_max ? gt(a, b) : lt(a, b)) + tie, b_share = (is_max ? lt(a, b) : gt(a, b)) + tie;
      return ops::sum_defined({has_a ? ta * a_share : Tensor(), has_b ? tb * b_share : Tensor()});
    }
    case BinaryOp::ReluGrad: return has_a ? ops::relu_grad(ta, b) : Tensor();
    case BinaryOp::SiluGrad:
      return ops::sum_defined(
          {has_a ? ops::silu_grad(ta, b) : Tensor(), has_b ? a * silu_second_derivative(b) * tb : Tensor()});
    default: break;
  }
  TG_FAIL("tg::", kernels::op_name(op), ": no JVP rule (not differentiable)");
}

// A binary op's VJP: {grad of a, grad of b} from the output's gradient and the saved tensors. want_a / want_b
// (fixed when the node is recorded) say which operands require grad; the other's gradient is left undefined,
// never computed: a mask, a scalar or a frozen weight would otherwise cost a full pass (and a sum back to its
// shape) for a gradient the engine then drops.
using BinaryVjp = TensorList (*)(const Tensor& g, const TensorList& saved, bool want_a, bool want_b);

Tensor binary_op(BinaryOp op, const Tensor& a, const Tensor& b, ops::SaveList save, BinaryVjp vjp) {
  TG_PROFILE_OP(kernels::op_name(op), a, b);
  Tensor out = binary_forward(op, a, b);
  if (ops::needs_tangent(a, b))
    ops::push_tangent({a, b}, out, [&](const TensorList& t) { return binary_jvp(op, a, b, out, t[0], t[1]); });
  if (ops::needs_grad(a, b)) {
    const bool want_a = a.requires_grad(), want_b = b.requires_grad();
    ops::record(
        kernels::op_name(op), {a, b}, out,
        [vjp, want_a, want_b](const Tensor& g, const TensorList& s) { return vjp(g, s, want_a, want_b); },
        std::move(save));
  }
  return out;
}

// max/min route the gradient to the winning operand and split it evenly on ties (as torch.maximum).
TensorList extremum_vjp(const Tensor& g, const TensorList& s, bool is_max, bool want_a, bool want_b) {
  const Tensor& a = s[0];
  const Tensor& b = s[1];
  const Tensor tie = eq(a, b) * 0.5;
  return {want_a ? g * ((is_max ? gt(a, b) : lt(a, b)) + tie) : Tensor(),
          want_b ? g * ((is_max ? lt(a, b) : gt(a, b)) + tie) : Tensor()};
}

Tensor comparison(BinaryOp op, const Tensor& a, const Tensor& b) {
  TG_PROFILE_OP(kernels::op_name(op), a, b);
  return binary_forward(op, a, b);
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  return binary_op(BinaryOp::Add, a, b, {}, [](const Tensor& g, const TensorList&, bool want_a, bool want_b) {
    return TensorList{want_a ? g : Tensor(), want_b ? g : Tensor()};
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  return binary_op(BinaryOp::Sub, a, b, {}, [](const Tensor& g, const TensorList&, bool want_a, bool want_b) {
    return TensorList{want_a ? g : Tensor(), want_b ? -g : Tensor()};
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  return binary_op(BinaryOp::Mul, a, b, {{a, b}}, [](const Tensor& g, const TensorList& s, bool want_a, bool want_b) {
    return TensorList{want_a ? g * s[1] : Tensor(), want_b ? g * s[0] : Tensor()};
  });
}

Tensor div(const Tensor& a, const Tensor& b) {
  return binary_op(BinaryOp::Div, a, b, {{a, b}}, [](const Tensor& g, const TensorList& s, bool want_a, bool want_b) {
    const Tensor ga = g / s[1];
    return TensorList{want_a ? ga : Tensor(), want_b ? -ga * s[0] / s[1] : Tensor()};
  });
}

Tensor pow(const Tensor& a, const Tensor& b) {
  return binary_op(BinaryOp::Pow, a, b, {{a, b}, true}, [](const Tensor& g, const TensorList& s, bool want_a,
                                                          bool want_b) {
    const Tensor &base = s[0], &exponent = s[1], &out = s[2];
    TensorList grads{want_a ? g * exponent * pow(base, exponent - 1.0) : Tensor(), Tensor()};
    if (want_b) {
      // d/db a^b = a^b log a, taken as 0 where a <= 0 (the limit at a = 0 for b > 0; undefined below).
      const Tensor positive = gt(base, scalar_like(0, base));
      const Tensor safe_base = where(positive, base, 1.0);
      grads[1] = where(positive, g * out * log(safe_base), 0.0);
    }
    return grads;
  });
}

Tensor maximum(const Tensor& a, const Tensor& b) {
  return binary_op(BinaryOp::Maximum, a, b, {{a, b}}, [](const Tensor& g, const TensorList& s, bool wa, bool wb) {
    return extremum_vjp(g, s, true, wa, wb);
  });
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  return binary_op(BinaryOp::Minimum, a, b, {{a, b}}, [](const Tensor& g, const TensorList& s, bool wa, bool wb) {
    return extremum_vjp(g, s, false, wa, wb);
  });
}

Tensor eq(const Tensor& a, const Tensor& b) { return comparison(BinaryOp::Eq, a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return comparison(BinaryOp::Ne, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return comparison(BinaryOp::Lt, a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return comparison(BinaryOp::Le, a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return comparison(BinaryOp::Gt, a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return comparison(BinaryOp::Ge, a, b); }

namespace ops {

namespace {
void check_activation_grad(const char* op, const Tensor& grad, const Tensor& input) {
  TG_CHECK(is_floating(grad.dtype()) && grad.dtype() == input.dtype(), op, ": expected floating grad and input of one "
           "dtype, got ", dtype_name(grad.dtype()), " and ", dtype_name(input.dtype()));
}
}  // namespace

Tensor relu_grad(const Tensor& grad, const Tensor& input) {
  check_activation_grad("tg::relu_grad", grad, input);
  // Linear in grad; the input only selects, so it gets no gradient (relu'' = 0 almost everywhere).
  const Tensor x = input.detach();
  return binary_op(BinaryOp::ReluGrad, grad, x, {{x}}, [](const Tensor& g, const TensorList& s, bool, bool) {
    return TensorList{relu_grad(g, s[0]), Tensor()};
  });
}

Tensor silu_grad(const Tensor& grad, const Tensor& input) {
  check_activation_grad("tg::silu_grad", grad, input);
  if (!kernels::kernel_tables().binary.supports(BinaryOp::SiluGrad, input.device().type, input.dtype())) {
    const Tensor s = sigmoid(input);
    return grad * s * (input * (1.0 - s) + 1.0);
  }
  return binary_op(BinaryOp::SiluGrad, grad, input, {{grad, input}},
                   [](const Tensor& g, const TensorList& s, bool want_grad, bool want_input) {
                     return TensorList{want_grad ? silu_grad(g, s[1]) : Tensor(),
                                       want_input ? g * s[0] * silu_second_derivative(s[1]) : Tensor()};
                   });
}

}  // namespace ops

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  TG_PROFILE_OP("where", cond, a, b);
  TG_CHECK(cond.dtype() == DType::Bool, "tg::where: the condition must be bool, got ", dtype_name(cond.dtype()),
           " (shape ", cond.shape(), ")");
  const Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "tg::where"), b.shape(), "tg::where");
  const DType dtype = promote_types(a.dtype(), b.dtype());
  ops::check_same_device("tg::where", {cond, a, b});
  const Tensor ca = ops::cast_raw(a, dtype), cb = ops::cast_raw(b, dtype);
  Tensor out = Tensor::empty(shape, dtype, a.device());
  kernels::where(shape, ops::arg(out), ops::arg(cond, shape), ops::arg(ca, shape), ops::arg(cb, shape));
  if (ops::needs_tangent({a, b})) {
    ops::push_tangent({a, b}, out, [&](const TensorList& t) {
      return where(cond, t[0].defined() ? t[0] : zeros_like(a), t[1].defined() ? t[1] : zeros_like(b));
    });
  }
  if (ops::needs_grad({a, b})) {
    // Only the operands that require grad get one: masked_fill's fill value is a constant scalar, whose
    // gradient would be a where over the whole output and a sum of it.
    const bool want_a = a.requires_grad(), want_b = b.requires_grad();
    ops::record("where", {a, b}, out, [want_a, want_b](const Tensor& g, const TensorList& s) {
      return TensorList{want_a ? where(s[0], g, 0.0) : Tensor(), want_b ? where(s[0], 0.0, g) : Tensor()};
    }, {{cond}});
  }
  return out;
}

Tensor add(const Tensor& a, Scalar b) { return add(a, scalar_like(b, a)); }
Tensor sub(const Tensor& a, Scalar b) { return sub(a, scalar_like(b, a)); }
Tensor mul(const Tensor& a, Scalar b) { return mul(a, scalar_like(b, a)); }
Tensor div(const Tensor& a, Scalar b) { return div(a, scalar_like(b, a)); }
Tensor pow(const Tensor& a, Scalar b) { return pow(a, scalar_like(b, a)); }
Tensor maximum(const Tensor& a, Scalar b) { return maximum(a, scalar_like(b, a)); }
Tensor minimum(const Tensor& a, Scalar b) { return minimum(a, scalar_like(b, a)); }
Tensor eq(const Tensor& a, Scalar b) { return eq(a, scalar_like(b, a)); }
Tensor ne(const Tensor& a, Scalar b) { return ne(a, scalar_like(b, a)); }
Tensor lt(const Tensor& a, Scalar b) { return lt(a, scalar_like(b, a)); }
Tensor le(const Tensor& a, Scalar b) { return le(a, scalar_like(b, a)); }
Tensor gt(const Tensor& a, Scalar b) { return gt(a, scalar_like(b, a)); }
Tensor ge(const Tensor& a, Scalar b) { return ge(a, scalar_like(b, a)); }
Tensor where(const Tensor& cond, const Tensor& a, Scalar b) { return where(cond, a, scalar_like(b, a)); }
Tensor where(const Tensor& cond, Scalar a, const Tensor& b) { return where(cond, scalar_like(a, b), b); }

Tensor operator-(const Tensor& x) { return neg(x); }
Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, Scalar b) { return add(a, b); }
Tensor operator-(const Tensor& a, Scalar b) { return sub(a, b); }
Tensor operator*(const Tensor& a, Scalar b) { return mul(a, b); }
Tensor operator/(const Tensor& a, Scalar b) { return div(a, b); }
Tensor operator+(Scalar a, const Tensor& b) { return add(scalar_like(a, b), b); }
Tensor operator-(Scalar a, const Tensor& b) { return sub(scalar_like(a, b), b); }
Tensor operator*(Scalar a, const Tensor& b) { return mul(scalar_like(a, b), b); }
Tensor operator/(Scalar a, const Tensor& b) { return div(scalar_like(a, b), b); }
Tensor operator==(const Tensor& a, const Tensor& b) { return eq(a, b); }
Tensor operator!=(const Tensor& a, const Tensor& b) { return ne(a, b); }
Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, const Tensor& b) { return le(a, b); }
Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, const Tensor& b) { return ge(a, b); }
Tensor operator==(const Tensor& a, Scalar b) { return eq(a, b); }
Tensor operator!=(const Tensor& a, Scalar b) { return ne(a, b); }
Tensor operator<(const Tensor& a, Scalar b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, Scalar b) { return le(a, b); }
Tensor operator>(const Tensor& a, Scalar b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, Scalar b) { return ge(a, b); }

}  // namespace tg
