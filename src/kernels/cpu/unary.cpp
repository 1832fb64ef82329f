// float32 exp, log, sigmoid, tanh, silu and silu's gradient through the branch-free forms in vector_math.h:
// contiguous runs in the widest vectors the CPU has (vector_math_simd.h, one translation unit per ISA, the same bits
// as the scalar code), strided runs element by element through the scalar functions, so a value never depends on the
// layout or the CPU. (GCC 12 does not if-convert the scalar bodies in AVX2 / AVX-512 target clones, which ran 2-4x
// slower than the baseline SSE loop; hence the hand-vectorised per-ISA files.) float32 / float64 relu, a single
// select, is one loop compiled per ISA with target_clones.
#include "unary.h"

#include "cpu_features.h"
#include "isa_clones.h"
#include "vector_math.h"
#include "vector_math_simd.h"

namespace tg::kernels::cpu {

namespace {

inline float silu_f32(float x) { return x * sigmoid_f32(x); }

// The widest ISA's runs this CPU can execute; null: the portable loops below.
const simd::Runs* wide_runs() {
  static const simd::Runs* const runs =
      widest_supported<const simd::Runs*>(simd::avx512_runs, simd::avx2_runs, nullptr);
  return runs;
}

using RunFn = void (*)(float*, const float*, int64_t);

// out[i] = F(in[i]) over n contiguous floats: the wide runs' version when there is one, else the scalar loop.
template <RunFn simd::Runs::*Wide, float (*F)(float)>
void contiguous_run(float* __restrict o, const float* __restrict x, int64_t n) {
  if (const simd::Runs* r = wide_runs()) return (r->*Wide)(o, x, n);
  for (int64_t i = 0; i < n; ++i) o[i] = F(x[i]);
}

template <RunFn simd::Runs::*Wide, float (*F)(float)>
void unary_f32(const Shape& shape, const StridedArg& out, const StridedArg& in) {
  float* o = static_cast<float*>(out.data);
  const float* x = static_cast<const float*>(in.data);
  for_each_run<2>(shape, {out.strides.data(), in.strides.data()}, [&](int64_t n, auto off, auto st) {
    if (st[0] == 1 && st[1] == 1 && (o + off[0] >= x + off[1] + n || x + off[1] >= o + off[0] + n)) {
      contiguous_run<Wide, F>(o + off[0], x + off[1], n);
      return;
    }
    for (int64_t i = 0; i < n; ++i) o[off[0] + i * st[0]] = F(x[off[1] + i * st[1]]);
  });
}

// relu as the reference writes it: x < 0 ? 0 : x, so -0 and NaN pass through.
template <class T>
inline __attribute__((always_inline)) T relu_value(T x) {
  return x < T(0) ? T(0) : x;
}
template <class T>
inline __attribute__((always_inline)) void relu_loop(T* __restrict o, const T* __restrict x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = relu_value(x[i]);
}
TG_ISA_CLONES void relu_run(float* __restrict o, const float* __restrict x, int64_t n) { relu_loop(o, x, n); }
TG_ISA_CLONES void relu_run(double* __restrict o, const double* __restrict x, int64_t n) { relu_loop(o, x, n); }

// Contiguous runs that do not overlap through relu_run; strided and in-place ones element by element (each
// element is read before it is written).
template <class T>
void relu(const Shape& shape, const StridedArg& out, const StridedArg& in) {
  T* o = static_cast<T*>(out.data);
  const T* x = static_cast<const T*>(in.data);
  for_each_run<2>(shape, {out.strides.data(), in.strides.data()}, [&](int64_t n, auto off, auto st) {
    const bool apart = o + off[0] >= x + off[1] + n || x + off[1] >= o + off[0] + n;
    if (st[0] == 1 && st[1] == 1 && apart) return relu_run(o + off[0], x + off[1], n);
    for (int64_t i = 0; i < n; ++i) o[off[0] + i * st[0]] = relu_value(x[off[1] + i * st[1]]);
  });
}

}  // namespace

void unary(UnaryOp op, const Shape& shape, const StridedArg& out, const StridedArg& in) {
  if (op == UnaryOp::Relu && in.dtype == DType::Float32) return relu<float>(shape, out, in);
  if (op == UnaryOp::Relu && in.dtype == DType::Float64) return relu<double>(shape, out, in);
  if (in.dtype == DType::Float32) {
    switch (op) {
      case UnaryOp::Exp: return unary_f32<&simd::Runs::exp, exp_f32>(shape, out, in);
      case UnaryOp::Log: return unary_f32<&simd::Runs::log, log_f32>(shape, out, in);
      case UnaryOp::Sigmoid: return unary_f32<&simd::Runs::sigmoid, sigmoid_f32>(shape, out, in);
      case UnaryOp::Tanh: return unary_f32<&simd::Runs::tanh, tanh_f32>(shape, out, in);
      case UnaryOp::Silu: return unary_f32<&simd::Runs::silu, silu_f32>(shape, out, in);
      default: break;
    }
  }
  ref::unary(op, shape, out, in);
}

void silu_grad_f32(const Shape& shape, const StridedArg& out, const StridedArg& grad, const StridedArg& x) {
  float* o = static_cast<float*>(out.data);
  const float* g = static_cast<const float*>(grad.data);
  const float* v = static_cast<const float*>(x.data);
  const simd::Runs* wide = wide_runs();
  const Strides& so = out.strides;
  for_each_run<3>(shape, {so.data(), grad.strides.data(), x.strides.data()}, [&](int64_t n, auto off, auto st) {
    float* po = o + off[0];
    const float *pg = g + off[1], *pv = v + off[2];
    // Elementwise, so an output that is exactly one of the inputs is fine; a partial overlap is not.
    const auto apart = [&](const float* p) { return p == po || po >= p + n || p >= po + n; };
    if (wide != nullptr && st[0] == 1 && st[1] == 1 && st[2] == 1 && apart(pg) && apart(pv))
      return wide->silu_grad(po, pg, pv, n);
    for (int64_t i = 0; i < n; ++i) po[i * st[0]] = silu_grad_f32(pg[i * st[1]], pv[i * st[2]]);
  });
}

void exp_f32_run(float* out, const float* in, int64_t n) { contiguous_run<&simd::Runs::exp, exp_f32>(out, in, n); }

float exp_f32_shifted_sum(float* x, float shift, int64_t n) {
  if (const simd::Runs* r = wide_runs()) return r->exp_shifted_sum(x, shift, n);
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += (x[i] = exp_f32(x[i] - shift));
  return sum;
}

}  // namespace tg::kernels::cpu
