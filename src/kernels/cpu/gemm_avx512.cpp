// AVX-512F micro-kernels, compiled with -mavx512f -mfma (src/kernels/CMakeLists.txt) and called only when
// __builtin_cpu_supports says the CPU has AVX-512F (gemm.cpp). Nothing else may live here: any code in this
// file may use AVX-512 instructions.
#include "gemm.h"

#if defined(__AVX512F__) && defined(__FMA__)
#include <immintrin.h>

#include "gemm_ukernel.h"

namespace tg::kernels::cpu {
namespace {

struct F32x16 {
  using T = float;
  using V = __m512;
  static constexpr int L = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const T* p) { return _mm512_loadu_ps(p); }
  static V broadcast(const T* p) { return _mm512_set1_ps(*p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static void store(T* p, V v) { _mm512_storeu_ps(p, v); }
};

struct F64x8 {
  using T = double;
  using V = __m512d;
  static constexpr int L = 8;
  static V zero() { return _mm512_setzero_pd(); }
  static V load(const T* p) { return _mm512_loadu_pd(p); }
  static V broadcast(const T* p) { return _mm512_set1_pd(*p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  static V add(V a, V b) { return _mm512_add_pd(a, b); }
  static void store(T* p, V v) { _mm512_storeu_pd(p, v); }
};

// 12 x 32 floats / 12 x 16 doubles: 24 accumulators and 2 B vectors of the 32 zmm registers; the A
// broadcasts fold into the FMAs as embedded-broadcast memory operands.
void avx512_f32_12x32(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool accumulate) {
  simd_micro_kernel<F32x16, 12, 2>(kc, a, b, c, ldc, accumulate);
}
void avx512_f64_12x16(int64_t kc, const double* a, const double* b, double* c, int64_t ldc, bool accumulate) {
  simd_micro_kernel<F64x8, 12, 2>(kc, a, b, c, ldc, accumulate);
}

// 8 x 48 floats: 24 accumulators and 3 B vectors; C whose rows are a multiple of 8 (64, 32 output channels)
// fills its tiles without padding rows (gemm.h's TileShape).
void avx512_f32_8x48_kernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool accumulate) {
  simd_micro_kernel<F32x16, 8, 3>(kc, a, b, c, ldc, accumulate);
}

// 16 x 16 floats with A in place: 16 accumulators (enough independent chains for two FMA pipes of latency 4), one
// B vector; for C of at most 16 columns.
void avx512_f32_16x16_strided_a_kernel(int64_t kc, const float* a, int64_t lda, const float* b, float* c,
                                       int64_t ldc, bool accumulate) {
  simd_micro_kernel_over<F32x16, 16, 1, true>(kc, a, lda, b, c, ldc, accumulate);
}

// 12 x 32 floats with A in place: the packed kernel's shape, for C of 17-64 columns (two broadcasts fewer a
// multiply-add than 16 x 16, which ran 3136x64x288 at 0.95x the packed path against 1.15x for this).
void avx512_f32_12x32_strided_a_kernel(int64_t kc, const float* a, int64_t lda, const float* b, float* c,
                                       int64_t ldc, bool accumulate) {
  simd_micro_kernel_over<F32x16, 12, 2, true>(kc, a, lda, b, c, ldc, accumulate);
}

}  // namespace

namespace isa {
const StridedAKernelFn<float> avx512_f32_12x32_strided_a = &avx512_f32_12x32_strided_a_kernel;
const StridedAKernelFn<float> avx512_f32_16x16_strided_a = &avx512_f32_16x16_strided_a_kernel;
const MicroKernelFn<float> avx512_f32_8x48 = &avx512_f32_8x48_kernel;
const MicroKernelFn<float> avx512_f32 = &avx512_f32_12x32;
const MicroKernelFn<double> avx512_f64 = &avx512_f64_12x16;
}  // namespace isa

}  // namespace tg::kernels::cpu

#else  // built for a target without AVX-512: nothing to offer

namespace tg::kernels::cpu::isa {
const StridedAKernelFn<float> avx512_f32_12x32_strided_a = nullptr;
const StridedAKernelFn<float> avx512_f32_16x16_strided_a = nullptr;
const MicroKernelFn<float> avx512_f32_8x48 = nullptr;
const MicroKernelFn<float> avx512_f32 = nullptr;
const MicroKernelFn<double> avx512_f64 = nullptr;
}  // namespace tg::kernels::cpu::isa

#endif
