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
    case DType::BFloat16: return "bfloat16";
    case DType::Float16: return "float16";
  }
  return "invalid";
}

size_t itemsize(DType dtype) {
  return visit_dtype(dtype, []<class T>(TypeTag<T>) { return sizeof(T); });
}

namespace {
// Height in the lattice; the two 16-bit formats share a level.
int lattice_level(DType d) {
  switch (d) {
    case DType::Bool: return 0;
    case DType::Int64: return 1;
    case DType::BFloat16:
    case DType::Float16: return 2;
    case DType::Float32: return 3;
    case DType::Float64: return 4;
  }
  TG_FAIL("tg: invalid dtype value ", static_cast<int>(d));
}
}  // namespace

DType promote_types(DType a, DType b) {
  if (a == b) return a;
  const int la = lattice_level(a), lb = lattice_level(b);
  if (la == lb) return DType::Float32;  // bfloat16 with float16: the smallest type that holds both
  return la > lb ? a : b;
}

DType default_float_dtype() { return g_default_float; }

void set_default_float_dtype(DType dtype) {
  TG_CHECK(is_floating(dtype), "tg::set_default_float_dtype: expected a floating dtype, got ", dtype_name(dtype));
  g_default_float = dtype;
}

std::ostream& operator<<(std::ostream& os, DType d) { return os << dtype_name(d); }

}  // namespace tg
