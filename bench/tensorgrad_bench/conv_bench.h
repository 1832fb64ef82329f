#pragma once
// tensorgrad-bench conv: a convolution's three GEMMs (forward, weight gradient, input gradient) as tensorgrad
// runs them (implicit GEMM: panels gathered from the image; the input gradient, for stride 1, as one more implicit
// convolution, else as W^T g then col2im) against
// im2col + OpenBLAS sgemm (+ col2im), the way PyTorch's CPU convolution without oneDNN computes them, in one
// run. Float32, groups 1.
#include <cstdint>
#include <string>
#include <vector>

namespace tg::bench {

struct ConvBenchCase {
  std::string name;
  int64_t batch = 0, in_channels = 0, height = 0, width = 0, out_channels = 0, kernel = 0, stride = 1, padding = 0;
};

struct ConvBenchOptions {
  std::vector<ConvBenchCase> cases;  // default: the reference CNN's two convolutions and a ResNet 3x3
  std::vector<int> threads{1, 2};
  int repetitions = 7;               // interleaved samples per cell; the median is shown
  double min_sample_seconds = 0.05;  // each sample repeats the call until this much time has passed
  int pause_ms = 150;                // idle time before each multi-threaded sample (OpenBLAS's workers spin)
};

// The default cases.
std::vector<ConvBenchCase> default_conv_cases();

// Prints a Markdown table per thread count on stdout; returns a process exit code.
int run_conv_bench(const ConvBenchOptions& options);

}  // namespace tg::bench
