// C = alpha * A B + beta * C in the CPU GEMM (GemmOptions::alpha / beta), against a plain loop. Small integer
// inputs and alpha in {1, -0.5, 0} and beta in {0, 1, 2} keep every value exact, so results must match bit for bit;
// beta = 0 must not read C (a NaN there stays out of the result), and k = 0 gives beta * C.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <tensorgrad/base/threads.h>
#include <tensorgrad/tensorgrad.h>

#include "../../src/kernels/cpu/gemm.h"

namespace {

namespace cpu = tg::kernels::cpu;

template <class T>
void check_alpha_beta(int64_t m, int64_t n, int64_t k, bool column_major_c, double alpha, double beta, int threads) {
  std::mt19937 rng(static_cast<unsigned>(m * 131 + n * 17 + k));
  std::uniform_int_distribution<int> small(-3, 3);
  std::vector<T> a(static_cast<size_t>(m * k)), b(static_cast<size_t>(k * n)), c(static_cast<size_t>(m * n));
  for (T& v : a) v = T(small(rng));
  for (T& v : b) v = T(small(rng));
  for (T& v : c) v = beta == 0 ? T(NAN) : T(small(rng));
  const tg::Strides cs = column_major_c ? tg::Strides{1, m} : tg::Strides{n, 1};
  std::vector<double> expected(static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0;
      for (int64_t p = 0; p < k; ++p) sum += double(a[size_t(i * k + p)]) * double(b[size_t(p * n + j)]);
      const double old = beta == 0 ? 0.0 : double(c[size_t(i * cs[0] + j * cs[1])]);
      expected[size_t(i * n + j)] = alpha * sum + beta * old;
    }
  cpu::GemmOptions options;
  options.alpha = alpha;
  options.beta = beta;
  options.threads = threads;
  const auto& kernel = cpu::default_micro_kernel<T>();
  cpu::gemm<T>({}, m, n, k, {c.data(), cs, tg::dtype_of<T>()}, {a.data(), {k, 1}, tg::dtype_of<T>()},
               {b.data(), {n, 1}, tg::dtype_of<T>()}, kernel, kernel.blocking, options);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      ASSERT_EQ(double(c[size_t(i * cs[0] + j * cs[1])]), expected[size_t(i * n + j)])
          << m << "x" << n << "x" << k << (column_major_c ? " column-major C" : "") << " alpha " << alpha
          << " beta " << beta << " threads " << threads << " at (" << i << ", " << j << ")";
}

TEST(KernelsGemmAlphaBeta, MatchesTheDefinition) {
  for (double alpha : {1.0, -0.5, 0.0})
    for (double beta : {0.0, 1.0, 2.0})
      for (bool column_major : {false, true})
        for (int threads : {1, 2})
          for (auto [m, n, k] : {std::tuple<int64_t, int64_t, int64_t>{37, 45, 300}, {5, 3, 0}, {64, 70, 9}}) {
            check_alpha_beta<float>(m, n, k, column_major, alpha, beta, threads);
            check_alpha_beta<double>(m, n, k, column_major, alpha, beta, threads);
          }
}

}  // namespace
