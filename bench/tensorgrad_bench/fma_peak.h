#pragma once
// The machine's float32 FMA peak as a program can reach it: a loop of independent FMAs on registers only (no
// memory traffic), with the widest vectors the CPU runs. The ceiling a GEMM's GFLOP/s are measured against.
#include <string>

namespace tg::bench {

struct FmaPeak {
  std::string isa;        // "avx512", "avx2" or "none"
  double gflops = 0;      // float32 GFLOP/s (2 per FMA lane) on `threads` threads together
};

// Runs the loop for about `seconds` on `threads` OpenMP threads.
FmaPeak measure_fma_peak(double seconds, int threads);

}  // namespace tg::bench
