#include <cmath>

#include <bit>
#include <cstdint>
#include <type_traits>

#include "ref_kernels.h"

namespace tg::kernels::ref {

namespace {

template <class T>
T int_pow(T base, T exp) {
  TG_CHECK(exp >= 0, "tg::pow: integers to negative integer powers are not allowed (exponent ", exp, ")");
  T result = 1;
  while (exp > 0) {
    if (exp & 1) result *= base;
    base *= base;
    exp >>= 1;
  }
  return result;
}

template <class T>
T propagate_nan_max(T a, T b, bool take_max) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a)) return a;
    if (std::isnan(b)) return b;
  }
  return take_max ? (a < b ? b : a) : (b < a ? b : a);
}

template <BinaryOp Op, class T>
auto apply_binary(T a, T b) {
  if constexpr (Op == BinaryOp::Eq) return a == b;
  else if constexpr (Op == BinaryOp::Ne) return a != b;
  else if constexpr (Op == BinaryOp::Lt) return a < b;
  else if constexpr (Op == BinaryOp::Le) return a <= b;
  else if constexpr (Op == BinaryOp::Gt) return a > b;
  else if constexpr (Op == BinaryOp::Ge) return a >= b;
  else if constexpr (std::is_same_v<T, bool>) {
    // bool arithmetic is logic: + is or, * is and (as in PyTorch); max/min follow.
    if constexpr (Op == BinaryOp::Add || Op == BinaryOp::Maximum) return a || b;
    else if constexpr (Op == BinaryOp::Mul || Op == BinaryOp::Minimum) return a && b;
    else {
      TG_FAIL("tg::", op_name(Op), ": not defined for bool tensors");
      return false;
    }
  } else if constexpr (Op == BinaryOp::ReluGrad) {
    // Written as a mask blend: a branch would be a coin flip per element on real activations.
    using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
    const Bits keep = Bits{0} - static_cast<Bits>(b > T(0));
    return std::bit_cast<T>(static_cast<Bits>(std::bit_cast<Bits>(a) & keep));
  } else if constexpr (Op == BinaryOp::SiluGrad) {
    if constexpr (std::is_floating_point_v<T>) {
      // g s (1 + x (1 - s)); exp(-x) = inf for very negative x gives s = 0, the limit.
      const T s = T(1) / (T(1) + std::exp(-b));
      return T(a * (s * (T(1) + b * (T(1) - s))));
    } else {
      TG_FAIL("tg::silu_grad: needs a floating dtype");
      return T{};
    }
  } else if constexpr (Op == BinaryOp::Add) return T(a + b);
  else if constexpr (Op == BinaryOp::Sub) return T(a - b);
  else if constexpr (Op == BinaryOp::Mul) return T(a * b);
  else if constexpr (Op == BinaryOp::Div) {
    if constexpr (std::is_integral_v<T>) {
      TG_CHECK(b != 0, "tg::div: integer division by zero");
      return T(a / b);
    } else return T(a / b);
  } else if constexpr (Op == BinaryOp::Pow) {
    if constexpr (std::is_integral_v<T>) return int_pow(a, b);
    else return T(std::pow(a, b));
  } else if constexpr (Op == BinaryOp::Maximum) return propagate_nan_max(a, b, true);
  else if constexpr (Op == BinaryOp::Minimum) return propagate_nan_max(a, b, false);
}

template <class T>
void binary_typed(BinaryOp op, const Shape& shape, const StridedArg& out, const StridedArg& a, const StridedArg& b) {
  visit_op<BinaryOp, kBinaryOpCount>(op, [&](auto op_c) {
    constexpr BinaryOp kOp = decltype(op_c)::value;
    using Out = decltype(apply_binary<kOp, T>(T{}, T{}));
    map2<Out, T, T>(shape, out, a, b, [](T x, T y) { return apply_binary<kOp, T>(x, y); });
  });
}

// Both branches are loaded and one is selected, rather than a branch per element on a condition that real
// masks make unpredictable: the select form vectorises (26 ms -> ~1 ms for 3.2M float32 on one thread).
template <class T>
void where_typed(const Shape& shape, const StridedArg& out, const StridedArg& cond, const StridedArg& a,
                 const StridedArg& b) {
  using Bits = std::conditional_t<
      sizeof(T) == 1, uint8_t,
      std::conditional_t<sizeof(T) == 2, uint16_t, std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>>;
  static_assert(sizeof(Bits) == sizeof(T));
  // A mask blend, not `c ? x : y`, which compilers turn into a branch.
  map3<T, bool, T, T>(shape, out, cond, a, b, [](bool c, T x, T y) {
    const Bits take = Bits{0} - static_cast<Bits>(c);
    return std::bit_cast<T>(static_cast<Bits>((std::bit_cast<Bits>(x) & take) | (std::bit_cast<Bits>(y) & ~take)));
  });
}

template <class T>
void masked_divide_typed(const Shape& shape, const StridedArg& out, const StridedArg& keep, const StridedArg& x,
                         double divisor) {
  const T d = static_cast<T>(divisor);
  map2<T, bool, T>(shape, out, keep, x, [d](bool k, T v) { return k ? T(v / d) : T(0); });
}

}  // namespace

void binary(BinaryOp op, const Shape& shape, const StridedArg& out, const StridedArg& a, const StridedArg& b) {
  visit_compute_dtype(a.dtype, [&]<class T>(TypeTag<T>) { binary_typed<T>(op, shape, out, a, b); });
}
void where(const Shape& shape, const StridedArg& out, const StridedArg& cond, const StridedArg& a,
           const StridedArg& b) {
  visit_dtype(a.dtype, [&]<class T>(TypeTag<T>) { where_typed<T>(shape, out, cond, a, b); });
}

void masked_divide(const Shape& shape, const StridedArg& out, const StridedArg& keep, const StridedArg& x,
                   double divisor) {
  if (x.dtype == DType::Float32) return masked_divide_typed<float>(shape, out, keep, x, divisor);
  masked_divide_typed<double>(shape, out, keep, x, divisor);
}

void register_binary(KernelTables& t) {
  for (DType d : {DType::Bool, DType::Int64, DType::Float32, DType::Float64}) {
    for (int i = 0; i < kBinaryOpCount; ++i) {
      const auto op = static_cast<BinaryOp>(i);
      const bool bool_arith = op == BinaryOp::Sub || op == BinaryOp::Div || op == BinaryOp::Pow;
      if (d == DType::Bool && bool_arith) continue;
      if (!is_floating(d) && (op == BinaryOp::ReluGrad || op == BinaryOp::SiluGrad)) continue;
      t.binary.add(op, DeviceType::CPU, d, &binary);
    }
  }
  for (DType d : {DType::Float32, DType::Float64}) t.masked_divide.add(DeviceType::CPU, d, &masked_divide);
  // Selection only: every dtype, the 16-bit ones included, by their bits.
  for (int d = 0; d < kNumDTypes; ++d) t.where.add(DeviceType::CPU, static_cast<DType>(d), &where);
}

}  // namespace tg::kernels::ref
