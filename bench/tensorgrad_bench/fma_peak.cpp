// Register-only FMA loops. Each ISA's loop is compiled for that ISA alone through a target attribute and is
// called only when the CPU reports it, so the benchmark binary still runs on a machine without AVX-512.
#include "fma_peak.h"

#include <immintrin.h>
#include <omp.h>

#include <chrono>
#include <cstdint>

namespace tg::bench {

namespace {

// 16 independent accumulators: enough in flight to cover the FMA latency (4 cycles) on two FMA pipes.
constexpr int kChains = 16;

__attribute__((target("avx512f,fma"))) float fma_loop_avx512(int64_t iterations) {
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(0.001f * float(c));
  const __m512 x = _mm512_set1_ps(0.9999999f), y = _mm512_set1_ps(1e-7f);
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], x, y);
  }
  __m512 sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = _mm512_add_ps(sum, acc[c]);
  alignas(64) float lanes[16];  // not _mm512_reduce_add_ps: GCC 12 warns inside it (-Wuninitialized)
  _mm512_store_ps(lanes, sum);
  float total = 0;
  for (float v : lanes) total += v;
  return total;
}

__attribute__((target("avx2,fma"))) float fma_loop_avx2(int64_t iterations) {
  __m256 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm256_set1_ps(0.001f * float(c));
  const __m256 x = _mm256_set1_ps(0.9999999f), y = _mm256_set1_ps(1e-7f);
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], x, y);
  }
  __m256 sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = _mm256_add_ps(sum, acc[c]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  float total = 0;
  for (float v : lanes) total += v;
  return total;
}

volatile float g_sink;  // keeps the loops' results alive

}  // namespace

FmaPeak measure_fma_peak(double seconds, int threads) {
  FmaPeak peak;
  float (*loop)(int64_t) = nullptr;
  int lanes = 0;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")) {
    peak.isa = "avx512", loop = &fma_loop_avx512, lanes = 16;
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    peak.isa = "avx2", loop = &fma_loop_avx2, lanes = 8;
  } else {
    peak.isa = "none";
    return peak;
  }
  // Size the run from a short calibration, then time one run per thread inside one parallel region.
  using clock = std::chrono::steady_clock;
  int64_t iterations = 1 << 16;
  while (true) {
    const auto t0 = clock::now();
    g_sink = loop(iterations);
    const double s = std::chrono::duration<double>(clock::now() - t0).count();
    if (s > 0.01) {
      iterations = static_cast<int64_t>(double(iterations) * seconds / s) + 1;
      break;
    }
    iterations *= 4;
  }
  const auto t0 = clock::now();
#pragma omp parallel num_threads(threads)
  { g_sink = loop(iterations); }
  const double s = std::chrono::duration<double>(clock::now() - t0).count();
  peak.gflops = 2.0 * lanes * kChains * double(iterations) * threads / s * 1e-9;
  return peak;
}

}  // namespace tg::bench
