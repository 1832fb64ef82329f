// AVX2 + FMA micro-kernels, compiled with -mavx2 -mfma (src/kernels/CMakeLists.txt) and called only when
// __builtin_cpu_supports says the CPU has both (gemm.cpp). Nothing else may live here: any code in this file
// may use AVX2 instructions.
#include "gemm.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#include "gemm_ukernel.h"

namespace tg::kernels::cpu {
namespace {

struct F32x8 {
  using T = float;
  using V = __m256;
  static constexpr int L = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const T* p) { return _mm256_loadu_ps(p); }
  static V broadcast(const T* p) { return _mm256_broadcast_ss(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static void store(T* p, V v) { _mm256_storeu_ps(p, v); }
};

struct F64x4 {
  using T = double;
  using V = __m256d;
  static constexpr int L = 4;
  static V zero() { return _mm256_setzero_pd(); }
  static V load(const T* p) { return _mm256_loadu_pd(p); }
  static V broadcast(const T* p) { return _mm256_broadcast_sd(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  static V add(V a, V b) { return _mm256_add_pd(a, b); }
  static void store(T* p, V v) { _mm256_storeu_pd(p, v); }
};

// 6 x 16 floats / 6 x 8 doubles: 12 accumulators, 2 B vectors and one broadcast of the 16 ymm registers.
void avx2_f32_6x16(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool accumulate) {
  simd_micro_kernel<F32x8, 6, 2>(kc, a, b, c, ldc, accumulate);
}
void avx2_f64_6x8(int64_t kc, const double* a, const double* b, double* c, int64_t ldc, bool accumulate) {
  simd_micro_kernel<F64x4, 6, 2>(kc, a, b, c, ldc, accumulate);
}

// 4 x 24 floats: 12 accumulators, 3 B vectors and one broadcast; C whose rows are a multiple of 4 (64, 32
// output channels) fills its tiles without padding rows (gemm.h's TileShape).
void avx2_f32_4x24_kernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool accumulate) {
  simd_micro_kernel<F32x8, 4, 3>(kc, a, b, c, ldc, accumulate);
}

// 6 x 16 floats with A in place (the 6x16 kernel's registers), for C of at most 16 columns.
void avx2_f32_6x16_strided_a_kernel(int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc,
                                    bool accumulate) {
  simd_micro_kernel_over<F32x8, 6, 2, true>(kc, a, lda, b, c, ldc, accumulate);
}

}  // namespace

namespace isa {
const StridedAKernelFn<float> avx2_f32_6x16_strided_a = &avx2_f32_6x16_strided_a_kernel;
const MicroKernelFn<float> avx2_f32_4x24 = &avx2_f32_4x24_kernel;
const MicroKernelFn<float> avx2_f32 = &avx2_f32_6x16;
const MicroKernelFn<double> avx2_f64 = &avx2_f64_6x8;
}  // namespace isa

}  // namespace tg::kernels::cpu

#else  // built for a target without AVX2: nothing to offer

namespace tg::kernels::cpu::isa {
const StridedAKernelFn<float> avx2_f32_6x16_strided_a = nullptr;
const MicroKernelFn<float> avx2_f32_4x24 = nullptr;
const MicroKernelFn<float> avx2_f32 = nullptr;
const MicroKernelFn<double> avx2_f64 = nullptr;
}  // namespace tg::kernels::cpu::isa

#endif
