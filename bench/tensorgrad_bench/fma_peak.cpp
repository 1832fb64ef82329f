// Register-only FMA loops. Each ISA's loop is compiled for that ISA alone through a target attribute and is
// called only when the CPU reports it, so the benchmark binary still runs on a machine without AVX-512.
#include "fma_peak.h"

#include <immintrin.h>
#include <omp.h>

#include <chrono>
#include <cstdint>

namespace tg::bench {

namespace {

// Independent accumulators: at least latency (4-5 cycles) x FMA pipes (2) of them must be in flight, and all
// of them plus the two constant operands must stay in registers. AVX2 has 16 vector registers: 16 chains
// spilled to the stack (a load and a store per FMA), which measured 51.5 GFLOP/s on a Zen 3 core whose real
// register-only peak is ~91; 12 chains leave room. AVX-512 has 32 registers.
constexpr int kChainsAvx2 = 12;
constexpr int kChainsAvx512 = 24;

__attribute__((target("avx512f,fma"))) float fma_loop_avx512(int64_t iterations) {
  constexpr int kChains = kChainsAvx512;
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(0.001f * float(c));
  const __m512 x = _mm512_set1_ps(0.9999999f), y = _mm512_set1_ps(1e-7f);
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 24
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
  constexpr int kChains = kChainsAvx2;
  __m256 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm256_set1_ps(0.001f * float(c));
  const __m256 x = _mm256_set1_ps(0.9999999f), y = _mm256_set1_ps(1e-7f);
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 12
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

FmaPeak measure_fma_peak(double seconds, int threads, const std::string& isa) {
  FmaPeak peak;
  float (*loop)(int64_t) = nullptr;
  int lanes = 0, chains = 0;
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx512 && (isa == "auto" || isa == "avx512")) {
    peak.isa = "avx512", loop = &fma_loop_avx512, lanes = 16, chains = kChainsAvx512;
  } else if (avx2 && (isa == "auto" || isa == "avx2")) {
    peak.isa = "avx2", loop = &fma_loop_avx2, lanes = 8, chains = kChainsAvx2;
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
  peak.gflops = 2.0 * lanes * chains * double(iterations) * threads / s * 1e-9;
  return peak;
}

}  // namespace tg::bench
