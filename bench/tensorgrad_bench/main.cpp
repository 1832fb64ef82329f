// tensorgrad-bench: benchmark programs with their own timing (interleaved samples, medians) and the reference
// libraries linked in beside tensorgrad. Subcommands:
//   gemm   the GEMM ladder, every rung against OpenBLAS and BLIS, with the machine's FMA peak (docs/GEMM.md)
//   ops    tiny-op overhead (with and without autograd) and add/sum of 1M floats (docs/PERFORMANCE.md;
//          bench/ops_vs_torch.sh puts PyTorch beside it)
//   conv   a convolution's forward, weight-gradient and input-gradient GEMMs against im2col + OpenBLAS
//          (docs/PERFORMANCE.md)
//   attention-memory   peak extra memory of fused against composed attention (docs/PERFORMANCE.md)
#include <CLI/CLI.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include <tensorgrad/base/error.h>

#include "attention_memory.h"
#include "conv_bench.h"
#include "gemm_ladder_bench.h"
#include "ops_bench.h"

namespace {

// "MxNxK" -> problem.
tg::bench::GemmProblem parse_shape(const std::string& text) {
  tg::bench::GemmProblem p;
  long long m = 0, n = 0, k = 0;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%lldx%lldx%lld%c", &m, &n, &k, &tail) != 3 || m < 1 || n < 1 || k < 1)
    throw CLI::ValidationError("--shapes", "'" + text + "' is not MxNxK with positive sizes");
  p.m = m, p.n = n, p.k = k;
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tensorgrad benchmarks"};
  app.require_subcommand(1);

  CLI::App* gemm = app.add_subcommand("gemm", "The GEMM ladder against OpenBLAS and BLIS (GFLOP/s, medians)");
  std::vector<int64_t> sizes{64, 128, 256, 512, 1024, 2048};
  std::vector<std::string> shapes{"128x512x784", "128x256x512", "128x10x256", "3136x64x288"};
  tg::bench::GemmBenchOptions opt;
  gemm->add_option("--sizes", sizes, "Square sizes (M = N = K)")->delimiter(',')->check(CLI::PositiveNumber);
  gemm->add_option("--shapes", shapes, "Other shapes as MxNxK")->delimiter(',');
  gemm->add_option("--threads", opt.threads, "Thread counts, one table each")->delimiter(',')->check(CLI::PositiveNumber);
  gemm->add_option("--reps", opt.repetitions, "Interleaved samples per cell (median shown)")->check(CLI::PositiveNumber);
  gemm->add_option("--rungs", opt.rungs, "Rungs to run (default: all this CPU has)")->delimiter(',');
  gemm->add_option("--min-time", opt.min_sample_seconds, "Seconds per sample (the call repeats until then)");
  gemm->add_option("--slow-max", opt.slow_max, "Largest size given to the naive and reordered rungs");
  gemm->add_option("--call-limit", opt.call_limit_seconds,
                   "A rung slower than this per call (s) is dropped for larger problems");
  gemm->add_option("--pause-ms", opt.pause_ms, "Idle ms before each multi-threaded sample");
  bool no_peak = false;
  gemm->add_flag("--no-peak", no_peak, "Skip the FMA peak measurement");
  gemm->add_option("--peak-isa", opt.peak_isa, "ISA of the FMA peak loop: auto (the widest this CPU has), avx2, avx512")
      ->check(CLI::IsMember({"auto", "avx2", "avx512"}));
  gemm->add_option("--blis-arch", opt.blis_arch,
                   "BLIS sub-configuration: auto (skx with AVX-512, else zen3 / haswell with AVX2), a BLIS name "
                   "(zen3, haswell, skx, ...), or none (no BLIS column); BLIS_ARCH_TYPE in the environment wins");

  CLI::App* ops = app.add_subcommand("ops", "Tiny-op overhead and add/sum of 1M floats (us per call, medians)");
  tg::bench::OpsBenchOptions ops_opt;
  ops->add_option("--threads", ops_opt.threads, "Thread counts")->delimiter(',')->check(CLI::PositiveNumber);
  ops->add_option("--reps", ops_opt.repetitions, "Interleaved samples per cell (median shown)")
      ->check(CLI::PositiveNumber);
  ops->add_option("--min-time", ops_opt.min_sample_seconds, "Seconds per sample (the call repeats until then)");
  ops->add_option("--numel", ops_opt.big, "Elements of the add/sum operands")->check(CLI::PositiveNumber);
  ops->add_flag("--tsv", ops_opt.tsv, "Print case<TAB>threads<TAB>median_us lines (for bench/ops_vs_torch.sh)");

  CLI::App* conv = app.add_subcommand(
      "conv", "A convolution's three passes (Winograd or implicit GEMM) against im2col + OpenBLAS (ms and GFLOP/s, medians)");
  tg::bench::ConvBenchOptions conv_opt;
  conv->add_option("--threads", conv_opt.threads, "Thread counts, one table each")->delimiter(',')->check(CLI::PositiveNumber);
  conv->add_option("--reps", conv_opt.repetitions, "Interleaved samples per cell (median shown)")
      ->check(CLI::PositiveNumber);
  conv->add_option("--min-time", conv_opt.min_sample_seconds, "Seconds per sample (the call repeats until then)");
  conv->add_option("--pause-ms", conv_opt.pause_ms, "Idle ms before each multi-threaded sample");

  CLI::App* attention_memory =
      app.add_subcommand("attention-memory", "Peak extra memory (allocator) of fused vs composed attention");
  std::vector<int64_t> attention_lengths{512, 2048};
  attention_memory->add_option("--lengths", attention_lengths, "L = S values")->delimiter(',')->check(CLI::PositiveNumber);

  CLI11_PARSE(app, argc, argv);
  try {
    if (gemm->parsed()) {
      for (int64_t s : sizes) opt.problems.push_back({s, s, s});
      for (const std::string& s : shapes) opt.problems.push_back(parse_shape(s));
      opt.peak = !no_peak;
      return tg::bench::run_gemm_bench(opt);
    }
    if (ops->parsed()) return tg::bench::run_ops_bench(ops_opt);
    if (conv->parsed()) {
      conv_opt.cases = tg::bench::default_conv_cases();
      return tg::bench::run_conv_bench(conv_opt);
    }
    if (attention_memory->parsed()) return tg::bench::run_attention_memory(attention_lengths);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tensorgrad-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
