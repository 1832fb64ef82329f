#include "scatter.h"

#include <tensorgrad/kernels/strided_loop.h>

namespace tg::kernels::cpu {

namespace {

template <class T>
void rows_typed(const Shape& shape, int64_t dim_size, const StridedArg& out, const StridedArg& src,
                const StridedArg& index) {
  const size_t last = shape.size() - 1;
  const int64_t length = shape[last];
  const int64_t os = out.strides[last], ss = src.strides[last], is = index.strides[last];
  T* o = static_cast<T*>(out.data);
  const T* s = static_cast<const T*>(src.data);
  const int64_t* idx = static_cast<const int64_t*>(index.data);
  const Shape rows(shape.begin(), shape.end() - 1);
  for_each_run<3>(rows, {out.strides.data(), src.strides.data(), index.strides.data()},
                  [&](int64_t n, auto off, auto st) {
                    for (int64_t r = 0; r < n; ++r) {
                      T* row = o + off[0] + r * st[0];
                      const T* values = s + off[1] + r * st[1];
                      const int64_t* at = idx + off[2] + r * st[2];
                      if (os == 1) {
                        for (int64_t k = 0; k < dim_size; ++k) row[k] = T(0);
                        for (int64_t i = 0; i < length; ++i) row[at[i * is]] += values[i * ss];
                      } else {
                        for (int64_t k = 0; k < dim_size; ++k) row[k * os] = T(0);
                        for (int64_t i = 0; i < length; ++i) row[at[i * is] * os] += values[i * ss];
                      }
                    }
                  });
}

}  // namespace

void scatter_add_rows_into_zeros(const Shape& shape, int64_t dim_size, const StridedArg& out, const StridedArg& src,
                                 const StridedArg& index) {
  switch (src.dtype) {
    case DType::Float32: return rows_typed<float>(shape, dim_size, out, src, index);
    case DType::Float64: return rows_typed<double>(shape, dim_size, out, src, index);
    case DType::Int64: return rows_typed<int64_t>(shape, dim_size, out, src, index);
    default: TG_FAIL("tg::scatter_add_into_zeros: no CPU kernel for ", dtype_name(src.dtype));
  }
}

}  // namespace tg::kernels::cpu
