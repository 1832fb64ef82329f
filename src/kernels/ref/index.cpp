#include "ref_kernels.h"

namespace tg::kernels::ref {

namespace {

// Both walk the index tensor's shape; `data` strides are given over that shape with the indexed dim's
// stride 0, and the dim's real stride is added per element from the index value. The indices are checked
// (check_indices) before anything is written, so a bad index leaves the output untouched.
template <class T, bool Scatter>
void index_along(const Shape& shape, int64_t dim, int64_t /*dim_size*/, const StridedArg& dense, const StridedArg& indexed,
                 const StridedArg& index, int64_t indexed_dim_stride) {
  T* d = static_cast<T*>(dense.data);
  T* x = static_cast<T*>(indexed.data);
  const int64_t* idx = static_cast<const int64_t*>(index.data);
  Strides indexed_strides = indexed.strides;
  indexed_strides[static_cast<size_t>(dim)] = 0;
  for_each_run<3>(shape, {dense.strides.data(), indexed_strides.data(), index.strides.data()},
                  [&](int64_t n, auto off, auto st) {
                    for (int64_t i = 0; i < n; ++i) {
                      const int64_t j = idx[off[2] + i * st[2]];
                      T& target = x[off[1] + i * st[1] + j * indexed_dim_stride];
                      T& value = d[off[0] + i * st[0]];
                      if constexpr (Scatter) target = static_cast<T>(target + value);
                      else value = target;
                    }
                  });
}

template <class T>
void gather_typed(const Shape& shape, int64_t dim, int64_t dim_size, const StridedArg& out, const StridedArg& in,
                  const StridedArg& index) {
  index_along<T, false>(shape, dim, dim_size, out, in, index, in.strides[static_cast<size_t>(dim)]);
}

template <class T>
void scatter_add_typed(const Shape& shape, int64_t dim, int64_t dim_size, const StridedArg& out,
                       const StridedArg& src, const StridedArg& index) {
  index_along<T, true>(shape, dim, dim_size, src, out, index, out.strides[static_cast<size_t>(dim)]);
}

// out = 0 over the index's shape with dim_size along dim.
template <class T>
void zero_indexed(const Shape& shape, int64_t dim, int64_t dim_size, const StridedArg& out) {
  Shape out_shape = shape;
  out_shape[static_cast<size_t>(dim)] = dim_size;
  T* o = static_cast<T*>(out.data);
  for_each_run<1>(out_shape, {out.strides.data()}, [&](int64_t n, auto off, auto st) {
    for (int64_t i = 0; i < n; ++i) o[off[0] + i * st[0]] = T(0);
  });
}

}  // namespace

void check_indices(const Shape& shape, int64_t dim, int64_t dim_size, const StridedArg& index, const char* op) {
  const auto* idx = static_cast<const int64_t*>(index.data);
  for_each_run<1>(shape, {index.strides.data()}, [&](int64_t n, auto off, auto st) {
    for (int64_t i = 0; i < n; ++i) {
      const int64_t j = idx[off[0] + i * st[0]];
      TG_CHECK(j >= 0 && j < dim_size, "tg::", op, ": index ", j, " out of range for dimension ", dim, " of size ",
               dim_size);
    }
  });
}

void index(IndexOp op, const Shape& shape, int64_t dim, int64_t dim_size, const StridedArg& out,
           const StridedArg& in, const StridedArg& index) {
  check_indices(shape, dim, dim_size, index, op_name(op));
  index_unchecked(op, shape, dim, dim_size, out, in, index);
}

void index_unchecked(IndexOp op, const Shape& shape, int64_t dim, int64_t dim_size, const StridedArg& out,
                     const StridedArg& in, const StridedArg& index) {
  visit_compute_dtype(in.dtype, [&]<class T>(TypeTag<T>) {
    if constexpr (std::is_same_v<T, bool>) TG_FAIL("tg::", op_name(op), ": no reference kernel for bool");
    else if (op == IndexOp::Gather) gather_typed<T>(shape, dim, dim_size, out, in, index);
    else if (op == IndexOp::ScatterAdd) scatter_add_typed<T>(shape, dim, dim_size, out, in, index);
    else {
      zero_indexed<T>(shape, dim, dim_size, out);
      scatter_add_typed<T>(shape, dim, dim_size, out, in, index);
    }
  });
}

void register_index(KernelTables& t) {
  for (DType d : {DType::Int64, DType::Float32, DType::Float64})
    for (IndexOp op : {IndexOp::Gather, IndexOp::ScatterAdd, IndexOp::ScatterAddIntoZeros})
      t.index.add(op, DeviceType::CPU, d, &index);
}

}  // namespace tg::kernels::ref
