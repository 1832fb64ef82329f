#pragma once
// tensorgrad-bench gemm: the GEMM ladder (bench/gemm_ladder/gemm_ladder.h) against OpenBLAS and BLIS, in one run.
#include <string>
#include <vector>

namespace tg::bench {

struct GemmProblem {
  int64_t m = 0, n = 0, k = 0;
  std::string label() const;
};

struct GemmBenchOptions {
  std::vector<GemmProblem> problems;  // squares, then the ML shapes
  std::vector<int> threads{1, 2};
  std::vector<std::string> rungs;     // empty: every rung this CPU has
  int repetitions = 5;                // interleaved samples per (implementation, problem); the median is shown
  double min_sample_seconds = 0.05;   // each sample repeats the call until this much time has passed
  int64_t slow_max = 512;             // the slow rungs (naive, reordered) only up to this size (largest of m, n, k)
  double call_limit_seconds = 4.0;    // a rung whose warm-up call takes longer is not timed on larger problems
  int pause_ms = 150;                 // idle time before each multi-threaded sample (lets the other pool's
                                      // spinning workers go to sleep; OpenBLAS spins ~0.1 s after a call)
  bool peak = true;                   // measure the register-only FMA peak
  std::string peak_isa = "auto";      // the peak loop's ISA: auto (widest), avx2 or avx512
  std::string blis_arch = "auto";     // BLIS's sub-configuration (blis_library.h); "none": no BLIS column
};

// Prints the ladder as Markdown tables on stdout; returns a process exit code.
int run_gemm_bench(const GemmBenchOptions& options);

}  // namespace tg::bench
