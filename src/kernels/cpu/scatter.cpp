#include "scatter.h"

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include <tensorgrad/kernels/strided_loop.h>

#include "isa_clones.h"

namespace tg::kernels::cpu {

namespace {

// Whether every index of a row lies in [0, dim_size): the largest of them as unsigned (a negative index is a huge
// unsigned one) against the size, a max reduction the clones vectorise; the row is then in L1 for the scatter.
inline __attribute__((always_inline)) bool row_in_range(const int64_t* at, int64_t is, int64_t length,
                                                         int64_t dim_size) {
  uint64_t largest = 0;
  if (is == 1) {
    for (int64_t i = 0; i < length; ++i) largest = std::max(largest, static_cast<uint64_t>(at[i]));
  } else {
    for (int64_t i = 0; i < length; ++i) largest = std::max(largest, static_cast<uint64_t>(at[i * is]));
  }
  return length == 0 || largest < static_cast<uint64_t>(dim_size);
}

// A row whose out, src and index all have unit stride (max pooling's gradient): checked, zeroed, then added into,
// in a loop cloned per ISA so the check and the zeroing run in the widest vectors. False: an index out of range,
// the row untouched.
template <class T>
inline __attribute__((always_inline)) bool unit_row(T* __restrict row, int64_t dim_size, const T* __restrict values,
                                                    const int64_t* __restrict at, int64_t length) {
  if (!row_in_range(at, 1, length, dim_size)) return false;
  for (int64_t k = 0; k < dim_size; ++k) row[k] = T(0);
  for (int64_t i = 0; i < length; ++i) row[at[i]] += values[i];
  return true;
}
TG_ISA_CLONES bool unit_row_cloned(float* row, int64_t dim_size, const float* values, const int64_t* at,
                                   int64_t length) {
  return unit_row(row, dim_size, values, at, length);
}
TG_ISA_CLONES bool unit_row_cloned(double* row, int64_t dim_size, const double* values, const int64_t* at,
                                   int64_t length) {
  return unit_row(row, dim_size, values, at, length);
}

template <class T>
bool rows_typed(const Shape& shape, int64_t dim_size, const StridedArg& out, const StridedArg& src,
                const StridedArg& index) {
  const size_t last = shape.size() - 1;
  const int64_t length = shape[last];
  const int64_t os = out.strides[last], ss = src.strides[last], is = index.strides[last];
  T* o = static_cast<T*>(out.data);
  const T* s = static_cast<const T*>(src.data);
  const int64_t* idx = static_cast<const int64_t*>(index.data);
  const Shape rows(shape.begin(), shape.end() - 1);
  bool in_range = true;
  for_each_run<3>(rows, {out.strides.data(), src.strides.data(), index.strides.data()},
                  [&](int64_t n, auto off, auto st) {
                    for (int64_t r = 0; r < n && in_range; ++r) {
                      T* row = o + off[0] + r * st[0];
                      const T* values = s + off[1] + r * st[1];
                      const int64_t* at = idx + off[2] + r * st[2];
                      if constexpr (std::is_floating_point_v<T>) {
                        if (os == 1 && ss == 1 && is == 1) {
                          in_range = unit_row_cloned(row, dim_size, values, at, length);
                          continue;  // the loop stops when a row was out of range
                        }
                      }
                      if (!row_in_range(at, is, length, dim_size)) {
                        in_range = false;
                        break;
                      }
                      if (os == 1) {
                        for (int64_t k = 0; k < dim_size; ++k) row[k] = T(0);
                        for (int64_t i = 0; i < length; ++i) row[at[i * is]] += values[i * ss];
                      } else {
                        for (int64_t k = 0; k < dim_size; ++k) row[k * os] = T(0);
                        for (int64_t i = 0; i < length; ++i) row[at[i * is] * os] += values[i * ss];
                      }
                    }
                  });
  return in_range;
}

}  // namespace

bool scatter_add_rows_into_zeros(const Shape& shape, int64_t dim_size, const StridedArg& out, const StridedArg& src,
                                 const StridedArg& index) {
  switch (src.dtype) {
    case DType::Float32: return rows_typed<float>(shape, dim_size, out, src, index);
    case DType::Float64: return rows_typed<double>(shape, dim_size, out, src, index);
    case DType::Int64: return rows_typed<int64_t>(shape, dim_size, out, src, index);
    default: TG_FAIL("tg::scatter_add_into_zeros: no CPU kernel for ", dtype_name(src.dtype));
  }
}

}  // namespace tg::kernels::cpu
