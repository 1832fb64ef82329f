// float32 exp, sigmoid, tanh and silu through the branch-free forms in vector_math.h, which the compiler
// vectorises (libm's scalar calls do not): contiguous runs as one loop, strided runs element by element, the
// same function either way, so a value never depends on the layout. (Per-ISA clones, as binary.cpp has, were
// tried: GCC 12 does not if-convert these bodies in the AVX2 / AVX-512 clones and they ran 2-4x slower than
// the baseline SSE loop, so the loops stay baseline.)
#include "unary.h"

#include "vector_math.h"

namespace tg::kernels::cpu {

namespace {

inline float silu_f32(float x) { return x * sigmoid_f32(x); }

void exp_run(float* __restrict o, const float* __restrict x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = exp_f32(x[i]);
}
void sigmoid_run(float* __restrict o, const float* __restrict x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = sigmoid_f32(x[i]);
}
void tanh_run(float* __restrict o, const float* __restrict x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = tanh_f32(x[i]);
}
void silu_run(float* __restrict o, const float* __restrict x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = silu_f32(x[i]);
}

template <float (*F)(float)>
void unary_f32(void (*run)(float*, const float*, int64_t), const Shape& shape, const StridedArg& out,
               const StridedArg& in) {
  float* o = static_cast<float*>(out.data);
  const float* x = static_cast<const float*>(in.data);
  for_each_run<2>(shape, {out.strides.data(), in.strides.data()}, [&](int64_t n, auto off, auto st) {
    if (st[0] == 1 && st[1] == 1 && (o + off[0] >= x + off[1] + n || x + off[1] >= o + off[0] + n)) {
      run(o + off[0], x + off[1], n);
      return;
    }
    for (int64_t i = 0; i < n; ++i) o[off[0] + i * st[0]] = F(x[off[1] + i * st[1]]);
  });
}

}  // namespace

void unary(UnaryOp op, const Shape& shape, const StridedArg& out, const StridedArg& in) {
  if (in.dtype == DType::Float32) {
    switch (op) {
      case UnaryOp::Exp: return unary_f32<exp_f32>(&exp_run, shape, out, in);
      case UnaryOp::Sigmoid: return unary_f32<sigmoid_f32>(&sigmoid_run, shape, out, in);
      case UnaryOp::Tanh: return unary_f32<tanh_f32>(&tanh_run, shape, out, in);
      case UnaryOp::Silu: return unary_f32<silu_f32>(&silu_run, shape, out, in);
      default: break;
    }
  }
  ref::unary(op, shape, out, in);
}

void exp_f32_run(float* out, const float* in, int64_t n) { exp_run(out, in, n); }

}  // namespace tg::kernels::cpu
