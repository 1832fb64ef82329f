// Elementwise kernels: copy (with casts), fill, unary, binary, where, arange and the Philox fills. One thread
// per element over any strides (a grid-stride loop), the semantics of kernels/ref/ element for element, except
// that the device's exp/log/sin/... may differ from glibc's by an ulp or two (normal fills included), and an
// integer division by zero or negative integer power gives 0 where the CPU throws.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>
#include <type_traits>

#include "device_index.cuh"

namespace tg::cuda::detail {

namespace {

template <class T>
constexpr bool is_16bit_v = std::is_same_v<T, __nv_bfloat16> || std::is_same_v<T, __half>;

// Casts go through float where a 16-bit type is involved, as the CPU's conversions do (core/half.h).
template <class Out, class In>
__host__ __device__ Out cast_value(In v) {
  if constexpr (is_16bit_v<In>) return cast_value<Out>(static_cast<float>(v));
  else if constexpr (std::is_same_v<Out, bool>) return v != In(0);
  else if constexpr (is_16bit_v<Out>) return Out(static_cast<float>(v));
  else return static_cast<Out>(v);
}

template <class Out, class In>
__global__ void copy_kernel(const __grid_constant__ Geometry g, const __grid_constant__ Operand out,
                            const __grid_constant__ Operand src, bool accumulate) {
  Out* o = static_cast<Out*>(out.data);
  const In* s = static_cast<const In*>(src.data);
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < g.numel; i += int64_t(gridDim.x) * blockDim.x) {
    Out& dst = o[offset_of(i, g, out.strides)];
    const Out v = cast_value<Out>(s[offset_of(i, g, src.strides)]);
    if (!accumulate) dst = v;
    else if constexpr (std::is_same_v<Out, bool>) dst = dst || v;
    else if constexpr (is_16bit_v<Out>) dst = Out(static_cast<float>(dst) + static_cast<float>(v));
    else dst = static_cast<Out>(dst + v);
  }
}

template <class T>
__global__ void fill_kernel(const __grid_constant__ Geometry g, const __grid_constant__ Operand out, T value) {
  T* o = static_cast<T*>(out.data);
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < g.numel; i += int64_t(gridDim.x) * blockDim.x)
    o[offset_of(i, g, out.strides)] = value;
}

// kernels::UnaryOp's order.
enum Unary { Neg, Abs, Exp, Log, Log1p, Sqrt, Rsqrt, Sin, Cos, Tanh, Sigmoid, Relu, Gelu, Silu, Square, Reciprocal,
             Sign, Erf, Floor, Ceil, Round };

template <class T>
__device__ T sigmoid(T x) {
  if (x >= T(0)) return T(1) / (T(1) + exp(-x));
  const T e = exp(x);
  return e / (T(1) + e);
}

template <int Op, class T>
__device__ T apply_unary(T x) {
  if constexpr (std::is_integral_v<T>) {
    if constexpr (Op == Neg) return -x;
    else if constexpr (Op == Abs) return x < 0 ? -x : x;
    else if constexpr (Op == Relu) return x < 0 ? T(0) : x;
    else if constexpr (Op == Square) return x * x;
    else if constexpr (Op == Sign) return T((x > 0) - (x < 0));
    else return x;  // Floor, Ceil, Round (the only others registered for integers)
  } else {
    if constexpr (Op == Neg) return -x;
    else if constexpr (Op == Abs) return fabs(x);
    else if constexpr (Op == Exp) return exp(x);
    else if constexpr (Op == Log) return log(x);
    else if constexpr (Op == Log1p) return log1p(x);
    else if constexpr (Op == Sqrt) return sqrt(x);
    else if constexpr (Op == Rsqrt) return T(1) / sqrt(x);
    else if constexpr (Op == Sin) return sin(x);
    else if constexpr (Op == Cos) return cos(x);
    else if constexpr (Op == Tanh) return tanh(x);
    else if constexpr (Op == Sigmoid) return sigmoid(x);
    else if constexpr (Op == Relu) return x < T(0) ? T(0) : x;
    else if constexpr (Op == Gelu) return T(0.5) * x * (T(1) + erf(x * T(0.70710678118654752440)));
    else if constexpr (Op == Silu) return x * sigmoid(x);
    else if constexpr (Op == Square) return x * x;
    else if constexpr (Op == Reciprocal) return T(1) / x;
    else if constexpr (Op == Sign) return isnan(x) ? x : T((x > T(0)) - (x < T(0)));
    else if constexpr (Op == Erf) return erf(x);
    else if constexpr (Op == Floor) return floor(x);
    else if constexpr (Op == Ceil) return ceil(x);
    else return rint(x);  // Round: half to even
  }
}

template <int Op, class T>
__global__ void unary_kernel(const __grid_constant__ Geometry g, const __grid_constant__ Operand out,
                             const __grid_constant__ Operand in) {
  T* o = static_cast<T*>(out.data);
  const T* x = static_cast<const T*>(in.data);
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < g.numel; i += int64_t(gridDim.x) * blockDim.x)
    o[offset_of(i, g, out.strides)] = apply_unary<Op, T>(x[offset_of(i, g, in.strides)]);
}

// kernels::BinaryOp's order.
enum Binary { Add, Sub, Mul, Div, Pow, Maximum, Minimum, ReluGrad, Eq, Ne, Lt, Le, Gt, Ge };

template <class T>
__device__ T nan_max(T a, T b, bool take_max) {
  if constexpr (std::is_floating_point_v<T>) {
    if (isnan(a)) return a;
    if (isnan(b)) return b;
  }
  return take_max ? (a < b ? b : a) : (b < a ? b : a);
}

template <int Op, class T>
__device__ auto apply_binary(T a, T b) {
  if constexpr (Op == Eq) return a == b;
  else if constexpr (Op == Ne) return a != b;
  else if constexpr (Op == Lt) return a < b;
  else if constexpr (Op == Le) return a <= b;
  else if constexpr (Op == Gt) return a > b;
  else if constexpr (Op == Ge) return a >= b;
  else if constexpr (std::is_same_v<T, bool>) {
    if constexpr (Op == Add || Op == Maximum) return a || b;
    else return a && b;  // Mul, Minimum (the others are not registered for bool)
  } else if constexpr (Op == ReluGrad) return b > T(0) ? a : T(0);
  else if constexpr (Op == Add) return T(a + b);
  else if constexpr (Op == Sub) return T(a - b);
  else if constexpr (Op == Mul) return T(a * b);
  else if constexpr (Op == Div) {
    if constexpr (std::is_integral_v<T>) return b == 0 ? T(0) : T(a / b);  // the CPU throws; a kernel cannot
    else return T(a / b);
  } else if constexpr (Op == Pow) {
    if constexpr (std::is_integral_v<T>) {
      T result = 1, base = a, e = b;
      if (e < 0) return T(0);  // the CPU throws
      while (e > 0) {
        if (e & 1) result *= base;
        base *= base;
        e >>= 1;
      }
      return result;
    } else return T(pow(a, b));
  } else if constexpr (Op == Maximum) return nan_max(a, b, true);
  else return nan_max(a, b, false);
}

template <int Op, class T>
__global__ void binary_kernel(const __grid_constant__ Geometry g, const __grid_constant__ Operand out,
                              const __grid_constant__ Operand a, const __grid_constant__ Operand b) {
  using Out = decltype(apply_binary<Op, T>(T{}, T{}));
  Out* o = static_cast<Out*>(out.data);
  const T* x = static_cast<const T*>(a.data);
  const T* y = static_cast<const T*>(b.data);
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < g.numel; i += int64_t(gridDim.x) * blockDim.x)
    o[offset_of(i, g, out.strides)] = apply_binary<Op, T>(x[offset_of(i, g, a.strides)], y[offset_of(i, g, b.strides)]);
}

template <class T>
__global__ void where_kernel(const __grid_constant__ Geometry g, const __grid_constant__ Operand out,
                             const __grid_constant__ Operand cond, const __grid_constant__ Operand a,
                             const __grid_constant__ Operand b) {
  T* o = static_cast<T*>(out.data);
  const bool* c = static_cast<const bool*>(cond.data);
  const T* x = static_cast<const T*>(a.data);
  const T* y = static_cast<const T*>(b.data);
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < g.numel; i += int64_t(gridDim.x) * blockDim.x)
    o[offset_of(i, g, out.strides)] =
        c[offset_of(i, g, cond.strides)] ? x[offset_of(i, g, a.strides)] : y[offset_of(i, g, b.strides)];
}

template <class T>
__global__ void sequence_kernel(int64_t n, T* out, int64_t stride, double start, double step) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    // Rounded twice, as the CPU's (no FMA there): nvcc would fuse the two into one FMA and differ in the last bit.
    out[i * stride] = static_cast<T>(__dadd_rn(start, __dmul_rn(static_cast<double>(i), step)));
}

// ---- Philox4x32-10 (core/random.cpp), and the CPU's mapping of its words to values ----
__device__ inline void philox(uint32_t ctr[4], uint32_t k0, uint32_t k1) {
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * ctr[0];
    const uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * ctr[2];
    const uint32_t c0 = static_cast<uint32_t>(p1 >> 32) ^ ctr[1] ^ k0, c1 = static_cast<uint32_t>(p1);
    const uint32_t c2 = static_cast<uint32_t>(p0 >> 32) ^ ctr[3] ^ k1, c3 = static_cast<uint32_t>(p0);
    ctr[0] = c0, ctr[1] = c1, ctr[2] = c2, ctr[3] = c3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
}
__device__ inline float uniform_float(uint32_t bits) { return static_cast<float>(bits >> 8) * (1.0f / 16777216.0f); }
__device__ inline double uniform_double(uint32_t hi, uint32_t lo) {
  return static_cast<double>((static_cast<uint64_t>(hi) << 32 | lo) >> 11) * (1.0 / 9007199254740992.0);
}
__device__ inline void box_muller(double u1, double u2, double& z0, double& z1) {
  const double r = sqrt(-2.0 * log(u1));
  z0 = r * cos(6.283185307179586476925286766559 * u2);
  z1 = r * sin(6.283185307179586476925286766559 * u2);
}

enum Random { Uniform, Normal, Integer, Bernoulli };

template <class T>
__global__ void random_kernel(int op, int64_t n, T* p, uint64_t seed, uint64_t first_block, double threshold,
                              int64_t low, uint64_t range) {
  constexpr bool kWide = std::is_same_v<T, double> || std::is_same_v<T, int64_t>;
  constexpr int64_t per_block = kWide ? 2 : 4;
  const int64_t blocks = (n + per_block - 1) / per_block;
  for (int64_t b = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; b < blocks; b += int64_t(gridDim.x) * blockDim.x) {
    const uint64_t index = first_block + static_cast<uint64_t>(b);
    uint32_t w[4] = {static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32), 0, 0};
    philox(w, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
    T v[per_block];
    if constexpr (std::is_same_v<T, int64_t>) {
      for (int j = 0; j < 2; ++j) {
        const uint64_t bits = static_cast<uint64_t>(w[2 * j]) << 32 | w[2 * j + 1];
        v[j] = static_cast<int64_t>(static_cast<uint64_t>(low) + bits % range);
      }
    } else if constexpr (std::is_same_v<T, bool>) {
      for (int j = 0; j < 4; ++j) v[j] = static_cast<double>(uniform_float(w[j])) >= threshold;
    } else if constexpr (std::is_same_v<T, float>) {
      if (op == Uniform) {
        for (int j = 0; j < 4; ++j) v[j] = uniform_float(w[j]);
      } else {
        double z[4];
        box_muller(1.0 - static_cast<double>(uniform_float(w[0])), uniform_float(w[1]), z[0], z[1]);
        box_muller(1.0 - static_cast<double>(uniform_float(w[2])), uniform_float(w[3]), z[2], z[3]);
        for (int j = 0; j < 4; ++j) v[j] = static_cast<float>(z[j]);
      }
    } else {
      if (op == Uniform) {
        for (int j = 0; j < 2; ++j) v[j] = uniform_double(w[2 * j], w[2 * j + 1]);
      } else {
        box_muller(1.0 - uniform_double(w[0], w[1]), uniform_double(w[2], w[3]), v[0], v[1]);
      }
    }
    const int64_t base = b * per_block;
    for (int64_t j = 0; j < per_block && base + j < n; ++j) p[base + j] = v[j];
  }
}

// Calls f(std::integral_constant<int, Op>) for a runtime op code in [0, Count).
template <int Count, class F, int I = 0>
void visit_op_code(int op, F&& f) {
  if constexpr (I < Count) {
    if (op == I) return f(std::integral_constant<int, I>{});
    visit_op_code<Count, F, I + 1>(op, std::forward<F>(f));
  } else {
    throw std::runtime_error("tg::cuda: op code " + std::to_string(op) + " out of range");
  }
}

// visit_code's dtypes plus the 16-bit ones, which only copies and fills take.
template <class F>
void visit_storage_code(int dtype, F&& f) {
  if (dtype == kBFloat16) return f(__nv_bfloat16{});
  if (dtype == kFloat16) return f(__half{});
  visit_code(dtype, std::forward<F>(f));
}

}  // namespace

void launch_copy(const Geometry& g, const Operand& out, const Operand& src, bool accumulate) {
  if (g.numel == 0) return;
  visit_storage_code(out.dtype, [&](auto o) {
    visit_storage_code(src.dtype, [&](auto s) {
      copy_kernel<decltype(o), decltype(s)><<<blocks_for(g.numel), kThreads>>>(g, out, src, accumulate);
    });
  });
  check_launch("copy");
}

void launch_fill(const Geometry& g, const Operand& out, double value) {
  if (g.numel == 0) return;
  visit_storage_code(out.dtype, [&](auto t) {
    using T = decltype(t);
    const T v = cast_value<T>(value);
    fill_kernel<T><<<blocks_for(g.numel), kThreads>>>(g, out, v);
  });
  check_launch("fill");
}

void launch_unary(int op, const Geometry& g, const Operand& out, const Operand& in) {
  if (g.numel == 0) return;
  visit_op_code<21>(op, [&](auto op_c) {
    visit_code(in.dtype, [&](auto t) {
      using T = decltype(t);
      if constexpr (std::is_same_v<T, bool>) throw std::runtime_error("tg::cuda: unary ops take no bool tensors");
      else unary_kernel<decltype(op_c)::value, T><<<blocks_for(g.numel), kThreads>>>(g, out, in);
    });
  });
  check_launch("unary");
}

void launch_binary(int op, const Geometry& g, const Operand& out, const Operand& a, const Operand& b) {
  if (g.numel == 0) return;
  visit_op_code<14>(op, [&](auto op_c) {
    visit_code(a.dtype, [&](auto t) {
      binary_kernel<decltype(op_c)::value, decltype(t)><<<blocks_for(g.numel), kThreads>>>(g, out, a, b);
    });
  });
  check_launch("binary");
}

void launch_where(const Geometry& g, const Operand& out, const Operand& cond, const Operand& a, const Operand& b) {
  if (g.numel == 0) return;
  visit_code(a.dtype,
             [&](auto t) { where_kernel<decltype(t)><<<blocks_for(g.numel), kThreads>>>(g, out, cond, a, b); });
  check_launch("where");
}

void launch_sequence(int64_t n, const Operand& out, double start, double step) {
  if (n == 0) return;
  visit_code(out.dtype, [&](auto t) {
    using T = decltype(t);
    sequence_kernel<T><<<blocks_for(n), kThreads>>>(n, static_cast<T*>(out.data), out.strides[0], start, step);
  });
  check_launch("sequence");
}

void launch_random(int op, int64_t n, const Operand& out, uint64_t seed, uint64_t first_block, double threshold,
                   int64_t low, uint64_t range) {
  if (n == 0) return;
  visit_code(out.dtype, [&](auto t) {
    using T = decltype(t);
    random_kernel<T><<<blocks_for(n), kThreads>>>(op, n, static_cast<T*>(out.data), seed, first_block, threshold, low,
                                                  range);
  });
  check_launch("random");
}

}  // namespace tg::cuda::detail
