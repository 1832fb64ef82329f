#include <tensorgrad/core/dtype.h>

#include <ostream>

namespace tg {

namespace {
DType g_default_float = DType::Float32;
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::Bool: return "bool";
    case DType::Int64: return "int64";
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
  }
  return "invalid";
}

size_t itemsize(DType dtype) {
  return visit_dtype(dtype, []<class T>(TypeTag<T>) { return sizeof(T); });
}

DType promote_types(DType a, DType b) { return static_cast<uint8_t>(a) > static_cast<uint8_t>(b) ? a : b; }

DType default_float_dtype() { return g_default_float; }

void set_default_float_dtype(DType dtype) {
  TG_CHECK(is_floating(dtype), "tg::set_default_float_dtype: expected float32 or float64, got ", dtype_name(dtype));
  g_default_float = dtype;
}

std::ostream& operator<<(std::ostream& os, DType d) { return os << dtype_name(d); }

}  // namespace tg
