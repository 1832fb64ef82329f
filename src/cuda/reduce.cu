// Reductions and softmax: one block per output element (or row), its threads striding over the reduced
// elements, then a tree reduction in shared memory. Floats accumulate in double and integers in int64, as
// the reference kernels do; max/min keep the first extreme and let a NaN win, as PyTorch.
#include <cmath>
#include <type_traits>

#include "device_index.cuh"

namespace tg::cuda::detail {

namespace {

enum Reduce { Sum, Prod, Max, Min, ArgMax, ArgMin };

template <class T>
using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;

template <class T>
__device__ bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) return isnan(v);
  else return false;
}

template <class T>
__global__ void reduce_kernel(int op, const __grid_constant__ Geometry outer, const __grid_constant__ Operand out,
                              const __grid_constant__ Operand in, const __grid_constant__ Geometry inner,
                              const __grid_constant__ Operand inner_in) {
  __shared__ double acc_s[kThreads];
  __shared__ int64_t iacc_s[kThreads];
  __shared__ T best_s[kThreads];
  __shared__ int64_t pos_s[kThreads];
  const int64_t o = blockIdx.x;
  const T* base = static_cast<const T*>(in.data) + offset_of(o, outer, in.strides);
  const int tid = threadIdx.x;
  if (op == Sum || op == Prod) {
    Acc<T> acc = op == Sum ? Acc<T>(0) : Acc<T>(1);
    for (int64_t j = tid; j < inner.numel; j += blockDim.x) {
      const auto v = static_cast<Acc<T>>(base[offset_of(j, inner, inner_in.strides)]);
      acc = op == Sum ? acc + v : acc * v;
    }
    if constexpr (std::is_floating_point_v<T>) acc_s[tid] = acc;
    else iacc_s[tid] = acc;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
      if (tid < s) {
        if constexpr (std::is_floating_point_v<T>)
          acc_s[tid] = op == Sum ? acc_s[tid] + acc_s[tid + s] : acc_s[tid] * acc_s[tid + s];
        else iacc_s[tid] = op == Sum ? iacc_s[tid] + iacc_s[tid + s] : iacc_s[tid] * iacc_s[tid + s];
      }
      __syncthreads();
    }
    if (tid == 0) {
      T* dst = static_cast<T*>(out.data) + offset_of(o, outer, out.strides);
      if constexpr (std::is_floating_point_v<T>) *dst = static_cast<T>(acc_s[0]);
      else if constexpr (std::is_same_v<T, bool>) *dst = iacc_s[0] != 0;
      else *dst = static_cast<T>(iacc_s[0]);
    }
    return;
  }
  // Max / Min / ArgMax / ArgMin: (value, position) pairs; the smaller position wins ties, a NaN wins over
  // numbers and the first NaN over later ones.
  const bool want_max = op == Max || op == ArgMax;
  T best{};
  int64_t pos = -1;
  for (int64_t j = tid; j < inner.numel; j += blockDim.x) {
    const T v = base[offset_of(j, inner, inner_in.strides)];
    if (pos >= 0 && is_nan(best)) break;
    if (pos < 0 || is_nan(v) || (want_max ? best < v : v < best)) {
      best = v;
      pos = j;
    }
  }
  best_s[tid] = best;
  pos_s[tid] = pos;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (tid < s) {
      const T a = best_s[tid], b = best_s[tid + s];
      const int64_t pa = pos_s[tid], pb = pos_s[tid + s];
      bool take_b;
      if (pb < 0) take_b = false;
      else if (pa < 0) take_b = true;
      else if (is_nan(a) || is_nan(b)) take_b = is_nan(b) && (!is_nan(a) || pb < pa);
      else if (a == b) take_b = pb < pa;
      else take_b = want_max ? a < b : b < a;
      if (take_b) {
        best_s[tid] = b;
        pos_s[tid] = pb;
      }
    }
    __syncthreads();
  }
  if (tid == 0) {
    const int64_t at = offset_of(o, outer, out.strides);
    if (op == ArgMax || op == ArgMin) static_cast<int64_t*>(out.data)[at] = pos_s[0];
    else static_cast<T*>(out.data)[at] = best_s[0];
  }
}

template <class T>
__global__ void softmax_kernel(bool log_softmax, const __grid_constant__ Geometry rows, int64_t n,
                               const __grid_constant__ Operand out, int64_t so, const __grid_constant__ Operand in,
                               int64_t si) {
  __shared__ double red[kThreads];
  const int64_t r = blockIdx.x;
  const T* x = static_cast<const T*>(in.data) + offset_of(r, rows, in.strides);
  T* o = static_cast<T*>(out.data) + offset_of(r, rows, out.strides);
  const int tid = threadIdx.x;
  double m = -INFINITY;
  for (int64_t j = tid; j < n; j += blockDim.x) m = fmax(m, static_cast<double>(x[j * si]));
  red[tid] = m;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (tid < s) red[tid] = fmax(red[tid], red[tid + s]);
    __syncthreads();
  }
  double mx = red[0];
  if (isinf(mx) && mx < 0) mx = 0;  // an all -inf row
  __syncthreads();
  double sum = 0;
  for (int64_t j = tid; j < n; j += blockDim.x) sum += exp(static_cast<double>(x[j * si]) - mx);
  red[tid] = sum;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (tid < s) red[tid] += red[tid + s];
    __syncthreads();
  }
  const double total = red[0];
  const double lse = log(total);
  for (int64_t j = tid; j < n; j += blockDim.x) {
    const double v = static_cast<double>(x[j * si]) - mx;
    o[j * so] = static_cast<T>(log_softmax ? v - lse : exp(v) / total);
  }
}

}  // namespace

void launch_reduce(int op, const Geometry& outer, const Operand& out, const Operand& in, const Geometry& inner,
                   const int64_t* inner_strides) {
  if (outer.numel == 0) return;
  if (outer.numel > 2147483647) throw std::runtime_error("tg::cuda: reduction with more than 2^31 outputs");
  Operand inner_in = in;
  for (int d = 0; d < inner.ndim; ++d) inner_in.strides[d] = inner_strides[d];
  visit_code(in.dtype, [&](auto t) {
    reduce_kernel<decltype(t)><<<static_cast<unsigned>(outer.numel), kThreads>>>(op, outer, out, in, inner, inner_in);
  });
  check_launch("reduction");
}

void launch_softmax(bool log, const Geometry& rows, int64_t n, const Operand& out, int64_t out_stride,
                    const Operand& in, int64_t in_stride) {
  if (rows.numel == 0 || n == 0) return;
  if (rows.numel > 2147483647) throw std::runtime_error("tg::cuda: softmax over more than 2^31 rows");
  if (in.dtype == kFloat64)
    softmax_kernel<double>
        <<<static_cast<unsigned>(rows.numel), kThreads>>>(log, rows, n, out, out_stride, in, in_stride);
  else if (in.dtype == kFloat32)
    softmax_kernel<float>
        <<<static_cast<unsigned>(rows.numel), kThreads>>>(log, rows, n, out, out_stride, in, in_stride);
  else
    throw std::runtime_error("tg::cuda: softmax takes float32 or float64");
  check_launch("softmax");
}

}  // namespace tg::cuda::detail
