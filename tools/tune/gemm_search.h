#pragma once
// The GEMM search behind `tensorgrad-tune gemm`.
#include <cstdint>
#include <string>
#include <vector>

#include "../../src/kernels/cpu/gemm_tuning.h"

namespace tg::tune {

struct Problem {
  int64_t m = 0, n = 0, k = 0;
};

struct GemmSearchOptions {
  double budget_seconds = 60;
  int threads = 1;
  std::vector<Problem> problems;
  std::vector<std::string> kernels;  // empty: every SIMD micro-kernel (generic too when there is none)
};

Problem parse_shape(const std::string& text);  // "MxNxK"; throws tg::Error
std::string cpu_model();

// Coordinate descent over KC, MC, NC for each candidate micro-kernel, starting from its built-in blocking and
// keeping a change only when it beats the incumbent (re-measured beside it) by 2%; stops when a full pass
// changes nothing or the budget is spent. Prints its progress on stdout.
template <class T>
kernels::cpu::GemmTuneEntry search_gemm(const GemmSearchOptions& options);

}  // namespace tg::tune
