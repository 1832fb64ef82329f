#include <cmath>

#include "ref_kernels.h"

namespace tg::kernels::ref {

namespace {

template <class T>
T sigmoid(T x) {
  // Two branches keep exp() from overflowing for large |x|.
  if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);
  return e / (T(1) + e);
}

template <class T>
T apply_unary(UnaryOp op, T x) {
  if constexpr (std::is_integral_v<T>) {
    switch (op) {
      case UnaryOp::Neg: return -x;
      case UnaryOp::Abs: return x < 0 ? -x : x;
      case UnaryOp::Relu: return x < 0 ? T(0) : x;
      case UnaryOp::Square: return x * x;
      case UnaryOp::Sign: return T((x > 0) - (x < 0));
      case UnaryOp::Floor:
      case UnaryOp::Ceil:
      case UnaryOp::Round: return x;
      default: TG_FAIL("tg::", op_name(op), ": not defined for integer tensors");
    }
    return x;
  } else {
    constexpr T kInvSqrt2 = T(0.70710678118654752440);
    switch (op) {
      case UnaryOp::Neg: return -x;
      case UnaryOp::Abs: return std::abs(x);
      case UnaryOp::Exp: return std::exp(x);
      case UnaryOp::Log: return std::log(x);
      case UnaryOp::Log1p: return std::log1p(x);
      case UnaryOp::Sqrt: return std::sqrt(x);
      case UnaryOp::Rsqrt: return T(1) / std::sqrt(x);
      case UnaryOp::Sin: return std::sin(x);
      case UnaryOp::Cos: return std::cos(x);
      case UnaryOp::Tanh: return std::tanh(x);
      case UnaryOp::Sigmoid: return sigmoid(x);
      case UnaryOp::Relu: return x < T(0) ? T(0) : x;  // NaN passes through, as in PyTorch
      case UnaryOp::Gelu: return T(0.5) * x * (T(1) + std::erf(x * kInvSqrt2));
      case UnaryOp::Silu: return x * sigmoid(x);
      case UnaryOp::Square: return x * x;
      case UnaryOp::Reciprocal: return T(1) / x;
      case UnaryOp::Sign: return std::isnan(x) ? x : T((x > T(0)) - (x < T(0)));
      case UnaryOp::Erf: return std::erf(x);
      case UnaryOp::Floor: return std::floor(x);
      case UnaryOp::Ceil: return std::ceil(x);
      case UnaryOp::Round: return std::nearbyint(x);  // the default rounding mode: half to even
    }
    return x;
  }
}

template <class T>
void unary_typed(UnaryOp op, const Shape& shape, const StridedArg& out, const StridedArg& in) {
  // Switch outside the loop so each op's inner loop is a tight, inlinable body.
  visit_op<UnaryOp, kUnaryOpCount>(op, [&](auto op_c) {
    map1<T, T>(shape, out, in, [](T x) { return apply_unary<T>(decltype(op_c)::value, x); });
  });
}

}  // namespace

void unary(UnaryOp op, const Shape& shape, const StridedArg& out, const StridedArg& in) {
  switch (in.dtype) {
    case DType::Float32: return unary_typed<float>(op, shape, out, in);
    case DType::Float64: return unary_typed<double>(op, shape, out, in);
    case DType::Int64: return unary_typed<int64_t>(op, shape, out, in);
    default: TG_FAIL("tg::", op_name(op), ": no reference kernel for ", dtype_name(in.dtype));
  }
}

void register_unary(KernelTables& t) {
  for (int i = 0; i < kUnaryOpCount; ++i) {
    const auto op = static_cast<UnaryOp>(i);
    t.unary.add(op, DeviceType::CPU, DType::Float32, &unary);
    t.unary.add(op, DeviceType::CPU, DType::Float64, &unary);
    if (unary_supports_integers(op)) t.unary.add(op, DeviceType::CPU, DType::Int64, &unary);
  }
}

}  // namespace tg::kernels::ref
