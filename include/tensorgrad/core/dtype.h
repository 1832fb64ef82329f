#pragma once
// Element types and PyTorch's promotion lattice: bool < int64 < {bfloat16, float16} < float32 < float64, where
// bfloat16 with float16 gives float32 (neither holds the other). docs/DTYPES.md.
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <tensorgrad/base/error.h>
#include <tensorgrad/core/half.h>

namespace tg {

// Values are appended, never reordered: they index the kernel tables and name dtypes in saved files.
enum class DType : uint8_t { Bool, Int64, Float32, Float64, BFloat16, Float16 };
inline constexpr int kNumDTypes = 6;

const char* dtype_name(DType dtype);
size_t itemsize(DType dtype);
inline bool is_floating(DType d) { return d >= DType::Float32; }
// bfloat16 and float16: stored in 16 bits, computed on in float32.
inline bool is_half(DType d) { return d == DType::BFloat16 || d == DType::Float16; }
// The dtype a kernel computes a 16-bit dtype in (float32); any other dtype is its own.
inline DType compute_dtype(DType d) { return is_half(d) ? DType::Float32 : d; }

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
  else if constexpr (std::is_same_v<T, bfloat16>) return DType::BFloat16;
  else if constexpr (std::is_same_v<T, float16>) return DType::Float16;
  else {
    static_assert(std::is_same_v<T, double>,
                  "tensorgrad element types are bool, int64_t, float, double, bfloat16, float16");
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
    case DType::BFloat16: return f(TypeTag<bfloat16>{});
    case DType::Float16: return f(TypeTag<float16>{});
  }
  TG_FAIL("tg: invalid dtype value ", static_cast<int>(d));
}

// The dtypes a kernel computes in: bool, int64, float32, float64 (a 16-bit dtype is an error here; kernels
// reach its float32 computation through compute_dtype).
template <class F>
decltype(auto) visit_compute_dtype(DType d, F&& f) {
  switch (d) {
    case DType::Bool: return f(TypeTag<bool>{});
    case DType::Int64: return f(TypeTag<int64_t>{});
    case DType::Float32: return f(TypeTag<float>{});
    case DType::Float64: return f(TypeTag<double>{});
    default: TG_FAIL("tg: no kernel computes in ", dtype_name(d), " (16-bit dtypes compute in float32)");
  }
}

// float32 or float64, for code that computes on floats itself (a 16-bit dtype is an error naming `op`).
template <class F>
decltype(auto) visit_floating(DType d, const char* op, F&& f) {
  switch (d) {
    case DType::Float32: return f(TypeTag<float>{});
    case DType::Float64: return f(TypeTag<double>{});
    default: TG_FAIL(op, ": expected a floating dtype of float32 or float64 here, got ", dtype_name(d));
  }
}

std::ostream& operator<<(std::ostream& os, DType d);

}  // namespace tg
