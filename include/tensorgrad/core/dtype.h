#pragma once
// Element types and the promotion lattice bool < int64 < float32 < float64 (NumPy/PyTorch categories).
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <tensorgrad/base/error.h>

namespace tg {

enum class DType : uint8_t { Bool, Int64, Float32, Float64 };
inline constexpr int kNumDTypes = 4;

const char* dtype_name(DType dtype);
size_t itemsize(DType dtype);
inline bool is_floating(DType d) { return d == DType::Float32 || d == DType::Float64; }

// Result type of a binary op between two tensors: the higher of the two in the lattice.
DType promote_types(DType a, DType b);

// The dtype integral inputs become for true division and float-valued scalars: a documented setting
// (like torch.set_default_dtype), float32 unless changed.
DType default_float_dtype();
void set_default_float_dtype(DType dtype);

template <class T>
struct TypeTag {
  using type = T;
};

template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, bool>) return DType::Bool;
  else if constexpr (std::is_same_v<T, int64_t>) return DType::Int64;
  else if constexpr (std::is_same_v<T, float>) return DType::Float32;
  else {
    static_assert(std::is_same_v<T, double>, "tensorgrad element types are bool, int64_t, float, double");
    return DType::Float64;
  }
}

// visit_dtype(d, [&]<class T>(TypeTag<T>) { ... }) calls the lambda with the C++ type of d.
template <class F>
decltype(auto) visit_dtype(DType d, F&& f) {
  switch (d) {
    case DType::Bool: return f(TypeTag<bool>{});
    case DType::Int64: return f(TypeTag<int64_t>{});
    case DType::Float32: return f(TypeTag<float>{});
    case DType::Float64: return f(TypeTag<double>{});
  }
  TG_FAIL("tg: invalid dtype value ", static_cast<int>(d));
}

template <class F>
decltype(auto) visit_floating(DType d, const char* op, F&& f) {
  switch (d) {
    case DType::Float32: return f(TypeTag<float>{});
    case DType::Float64: return f(TypeTag<double>{});
    default: TG_FAIL(op, ": expected a floating dtype (float32 or float64), got ", dtype_name(d));
  }
}

std::ostream& operator<<(std::ostream& os, DType d);

}  // namespace tg
