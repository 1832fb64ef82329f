#pragma once
// tensorgrad-bench ops: the per-call overhead of a tiny op (with and without autograd recording) and the
// memory-bound contiguous add and sum of 1M floats, on 1 and 2 threads. bench/torch_ops.py measures the same
// cases in PyTorch, and bench/ops_vs_torch.sh runs both interleaved and prints the ratios.
#include <cstdint>
#include <vector>

namespace tg::bench {

struct OpsBenchOptions {
  std::vector<int> threads{1, 2};
  int repetitions = 15;              // interleaved samples per (case, threads); the median is shown
  double min_sample_seconds = 0.02;  // each sample repeats the call until this much time has passed
  int64_t big = int64_t{1} << 20;    // elements of the add/sum operands ("1M")
  bool tsv = false;                  // machine-readable "case<TAB>threads<TAB>median_us" lines instead of a table
};

// Prints the medians (microseconds per call) on stdout; returns a process exit code.
int run_ops_bench(const OpsBenchOptions& options);

}  // namespace tg::bench
