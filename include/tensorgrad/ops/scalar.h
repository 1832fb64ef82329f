#pragma once
// A C++ number used as an operand (a * 2.0, x + 1). It keeps its category so promotion follows PyTorch:
// a float32 tensor times 2.0 stays float32, an int64 tensor times 2.5 becomes the default float dtype.
#include <type_traits>

#include <tensorgrad/core/tensor.h>

namespace tg {

class Scalar {
 public:
  enum class Kind { Bool, Integral, Floating };
  template <class T>
    requires std::is_arithmetic_v<T>
  Scalar(T v)  // NOLINT: implicit by design, so tensor ops accept plain numbers
      : value_(static_cast<double>(v)),
        kind_(std::is_same_v<T, bool> ? Kind::Bool : std::is_integral_v<T> ? Kind::Integral : Kind::Floating) {}
  double value() const { return value_; }
  Kind kind() const { return kind_; }
  // The dtype this scalar takes when combined with a tensor of dtype `other`.
  DType dtype_with(DType other) const;

 private:
  double value_;
  Kind kind_;
};

}  // namespace tg
