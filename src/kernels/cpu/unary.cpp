// float32 exp, sigmoid, tanh and silu through the branch-free forms in vector_math.h: contiguous runs in the
// widest vectors the CPU has (vector_math_simd.h, one translation unit per ISA, the same bits as the scalar
// code), strided runs element by element through the scalar functions, so a value never depends on the layout
// or the CPU. (GCC 12 does not if-convert the scalar bodies in AVX2 / AVX-512 target clones, which ran 2-4x
// slower than the baseline SSE loop; hence the hand-vectorised per-ISA files.)
#include "unary.h"

#include <string_view>

#include "vector_math.h"
#include "vector_math_simd.h"

namespace tg::kernels::cpu {

namespace {

inline float silu_f32(float x) { return x * sigmoid_f32(x); }

bool cpu_supports(const char* isa) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (std::string_view(isa) == "avx512") return __builtin_cpu_supports("avx512f");
  if (std::string_view(isa) == "avx2") return __builtin_cpu_supports("avx2");
#endif
  (void)isa;
  return false;
}

// The widest ISA's runs this CPU can execute; null: the portable loops below.
const simd::Runs* wide_runs() {
  static const simd::Runs* const runs = []() -> const simd::Runs* {
    for (const simd::Runs* r : {simd::avx512_runs, simd::avx2_runs})
      if (r != nullptr && cpu_supports(r->isa)) return r;
    return nullptr;
  }();
  return runs;
}

void exp_run(float* __restrict o, const float* __restrict x, int64_t n) {
  if (const simd::Runs* r = wide_runs()) return r->exp(o, x, n);
  for (int64_t i = 0; i < n; ++i) o[i] = exp_f32(x[i]);
}
void sigmoid_run(float* __restrict o, const float* __restrict x, int64_t n) {
  if (const simd::Runs* r = wide_runs()) return r->sigmoid(o, x, n);
  for (int64_t i = 0; i < n; ++i) o[i] = sigmoid_f32(x[i]);
}
void tanh_run(float* __restrict o, const float* __restrict x, int64_t n) {
  if (const simd::Runs* r = wide_runs()) return r->tanh(o, x, n);
  for (int64_t i = 0; i < n; ++i) o[i] = tanh_f32(x[i]);
}
void silu_run(float* __restrict o, const float* __restrict x, int64_t n) {
  if (const simd::Runs* r = wide_runs()) return r->silu(o, x, n);
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

float exp_f32_shifted_sum(float* x, float shift, int64_t n) {
  if (const simd::Runs* r = wide_runs()) return r->exp_shifted_sum(x, shift, n);
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += (x[i] = exp_f32(x[i] - shift));
  return sum;
}

}  // namespace tg::kernels::cpu
