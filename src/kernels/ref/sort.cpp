// The reference sort: each row along `dim` copied out, ordered by a stable comparison that puts NaN above every
// number, and its first k written (see kernels.h).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "ref_kernels.h"

namespace tg::kernels::ref {

namespace {

template <class T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(v);
  else return false;
}

template <class T>
void sort_typed(const Shape& in_shape, int64_t dim, int64_t k, bool descending, const StridedArg& values,
                const StridedArg& indices, const StridedArg& in) {
  const auto d = static_cast<size_t>(dim);
  const int64_t n = in_shape[d];
  Shape rows = in_shape;
  rows[d] = 1;
  const int64_t in_step = in.strides[d], v_step = values.strides[d], i_step = indices.strides[d];
  const T* x0 = static_cast<const T*>(in.data);
  T* v0 = static_cast<T*>(values.data);
  auto* i0 = static_cast<int64_t*>(indices.data);
  std::vector<int64_t> order(static_cast<size_t>(n));
  // a before b: ascending with NaN last, or descending with NaN first; ties keep the index order (stable).
  auto before = [&](const T* x, int64_t a, int64_t b) {
    const T xa = x[a * in_step], xb = x[b * in_step];
    const bool na = is_nan(xa), nb = is_nan(xb);
    if (na || nb) return descending ? (na && !nb) : (!na && nb);
    return descending ? xa > xb : xa < xb;
  };
  for_each_run<3>(rows, {values.strides.data(), indices.strides.data(), in.strides.data()},
                  [&](int64_t count, auto off, auto st) {
                    for (int64_t r = 0; r < count; ++r) {
                      const T* x = x0 + off[2] + r * st[2];
                      std::iota(order.begin(), order.end(), int64_t{0});
                      const auto cmp = [&](int64_t a, int64_t b) { return before(x, a, b); };
                      std::stable_sort(order.begin(), order.end(), cmp);
                      T* v = v0 + off[0] + r * st[0];
                      int64_t* idx = i0 + off[1] + r * st[1];
                      for (int64_t j = 0; j < k; ++j) {
                        v[j * v_step] = x[order[static_cast<size_t>(j)] * in_step];
                        idx[j * i_step] = order[static_cast<size_t>(j)];
                      }
                    }
                  });
}

}  // namespace

void sort(const Shape& in_shape, int64_t dim, int64_t k, bool descending, const StridedArg& values,
          const StridedArg& indices, const StridedArg& in) {
  TG_CHECK(dim >= 0 && dim < static_cast<int64_t>(in_shape.size()) && k >= 0 && k <= in_shape[static_cast<size_t>(dim)],
           "tg::sort: invalid dim ", dim, " or k ", k, " for shape ", in_shape);
  visit_compute_dtype(in.dtype, [&]<class T>(TypeTag<T>) {
    if constexpr (std::is_same_v<T, bool>) TG_FAIL("tg::sort: no kernel for bool");
    else sort_typed<T>(in_shape, dim, k, descending, values, indices, in);
  });
}

void register_sort(KernelTables& t) {
  for (DType d : {DType::Int64, DType::Float32, DType::Float64}) t.sort.add(DeviceType::CPU, d, &sort);
}

}  // namespace tg::kernels::ref
