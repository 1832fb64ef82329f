#pragma once
// The machine's float32 FMA peak as a program can reach it: a loop of independent FMAs on registers only (no
// memory traffic), with the widest vectors the CPU runs. The ceiling a GEMM's GFLOP/s are measured against.
#include <string>

namespace tg::bench {

struct FmaPeak {
  std::string isa;        // "avx512", "avx2" or "none"
  double gflops = 0;      // float32 GFLOP/s (2 per FMA lane) on `threads` threads together
};

// Runs the loop for about `seconds` on `threads` OpenMP threads, with the widest ISA the CPU has ("auto"), or
// "avx2" / "avx512" when the CPU has it (to measure the AVX2 peak on an AVX-512 machine too).
FmaPeak measure_fma_peak(double seconds, int threads, const std::string& isa = "auto");

}  // namespace tg::bench
