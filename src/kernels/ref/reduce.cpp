#include <cmath>
#include <limits>

#include "ref_kernels.h"

namespace tg::kernels::ref {

namespace {

// Accumulate floats in double and integers in int64: the reference favours accuracy over speed.
template <class T>
using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;

template <class T>
void reduce_strided(ReduceOp op, const Shape& in_shape, const std::vector<bool>& reduce_dims, const StridedArg& out,
                    const StridedArg& in) {
  Shape outer_shape = in_shape, inner_shape = in_shape;
  Strides inner_strides = in.strides;
  for (size_t d = 0; d < in_shape.size(); ++d) (reduce_dims[d] ? outer_shape : inner_shape)[d] = 1;
  const T* src = static_cast<const T*>(in.data);
  const bool arg = op == ReduceOp::ArgMax || op == ReduceOp::ArgMin;
  for_each_run<2>(outer_shape, {out.strides.data(), in.strides.data()}, [&](int64_t n_outer, auto off, auto st) {
    for (int64_t o = 0; o < n_outer; ++o) {
      const T* base = src + off[1] + o * st[1];
      const int64_t out_index = off[0] + o * st[0];
      if (op == ReduceOp::Sum || op == ReduceOp::Prod) {
        Acc<T> acc = op == ReduceOp::Sum ? 0 : 1;
        for_each_run<1>(inner_shape, {inner_strides.data()}, [&](int64_t n, auto ioff, auto ist) {
          for (int64_t i = 0; i < n; ++i) {
            const auto v = static_cast<Acc<T>>(base[ioff[0] + i * ist[0]]);
            if (op == ReduceOp::Sum) acc += v;
            else acc *= v;
          }
        });
        if constexpr (std::is_same_v<T, bool>) static_cast<T*>(out.data)[out_index] = acc != 0;
        else static_cast<T*>(out.data)[out_index] = static_cast<T>(acc);
        continue;
      }
      // Max/Min/ArgMax/ArgMin: the first extreme wins ties; a NaN wins over everything (as in PyTorch).
      const bool want_max = op == ReduceOp::Max || op == ReduceOp::ArgMax;
      T best{};
      int64_t best_pos = -1, pos = 0;
      bool best_is_nan = false;
      for_each_run<1>(inner_shape, {inner_strides.data()}, [&](int64_t n, auto ioff, auto ist) {
        for (int64_t i = 0; i < n; ++i, ++pos) {
          const T v = base[ioff[0] + i * ist[0]];
          if (best_is_nan) continue;
          bool take = best_pos < 0 || (want_max ? best < v : v < best);
          if constexpr (std::is_floating_point_v<T>) {
            if (std::isnan(v)) {
              take = true;
              best_is_nan = true;
            }
          }
          if (take) {
            best = v;
            best_pos = pos;
          }
        }
      });
      if (arg) static_cast<int64_t*>(out.data)[out_index] = best_pos;
      else static_cast<T*>(out.data)[out_index] = best;
    }
  });
}

}  // namespace

void reduce(ReduceOp op, const Shape& in_shape, const std::vector<bool>& reduce_dims, const StridedArg& out,
            const StridedArg& in) {
  visit_compute_dtype(in.dtype, [&]<class T>(TypeTag<T>) { reduce_strided<T>(op, in_shape, reduce_dims, out, in); });
}

void register_reduce(KernelTables& t) {
  for (DType d : {DType::Bool, DType::Int64, DType::Float32, DType::Float64})
    for (int op = 0; op < kReduceOpCount; ++op) t.reduce.add(static_cast<ReduceOp>(op), DeviceType::CPU, d, &reduce);
}

}  // namespace tg::kernels::ref
