// Every rung of the GEMM ladder (bench/gemm_ladder/gemm_ladder.cpp, target tg_gemm_ladder), float32 and float64, against the reference
// matmul kernel: exactly on small-integer inputs (every product and partial sum is exact, so any summation order,
// Strassen's included, must agree bit for bit), and by random projection (C x == A (B x)) on real values.
// Shapes are odd on purpose: 1, 7, 33, 65 and non-multiples of every micro-tile and cache block, with row
// strides wider than the rows.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <tensorgrad/core/dtype.h>

#include "../../bench/gemm_ladder/gemm_ladder.h"
#include "../../src/kernels/ref/ref_kernels.h"

namespace {

namespace cpu = tg::kernels::cpu;

template <class T>
struct Matrices {
  int64_t m, n, k, lda, ldb, ldc;
  std::vector<T> a, b;
};

template <class T>
Matrices<T> make(int64_t m, int64_t n, int64_t k, uint32_t seed, bool integers) {
  Matrices<T> x{m, n, k, k + 3, n + 1, n + 2, {}, {}};
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> small(-4, 4);
  std::uniform_real_distribution<double> real(-1, 1);
  x.a.resize(static_cast<size_t>(std::max<int64_t>(m * x.lda, 1)));
  x.b.resize(static_cast<size_t>(std::max<int64_t>(k * x.ldb, 1)));
  for (T& v : x.a) v = integers ? T(small(rng)) : T(real(rng));
  for (T& v : x.b) v = integers ? T(small(rng)) : T(real(rng));
  return x;
}

// C through the rung; the row padding starts (and must stay) NaN.
template <class T>
std::vector<T> run(const cpu::LadderRung& rung, const Matrices<T>& x, int threads) {
  std::vector<T> c(static_cast<size_t>(std::max<int64_t>(x.m * x.ldc, 1)), std::numeric_limits<T>::quiet_NaN());
  rung.fn<T>()({x.m, x.n, x.k, x.a.data(), x.lda, x.b.data(), x.ldb, c.data(), x.ldc}, threads);
  return c;
}

template <class T>
std::vector<T> reference(const Matrices<T>& x) {
  const tg::kernels::KernelTables& tables = tg::kernels::reference_tables();
  std::vector<T> c(static_cast<size_t>(std::max<int64_t>(x.m * x.ldc, 1)), std::numeric_limits<T>::quiet_NaN());
  const auto dt = tg::dtype_of<T>();
  tables.matmul.find(tg::DeviceType::CPU, dt)({}, x.m, x.n, x.k, {c.data(), {x.ldc, 1}, dt},
                                              {const_cast<T*>(x.a.data()), {x.lda, 1}, dt},
                                              {const_cast<T*>(x.b.data()), {x.ldb, 1}, dt}, {});
  return c;
}

template <class T>
class KernelsGemmLadder : public ::testing::Test {};
using FloatTypes = ::testing::Types<float, double>;
TYPED_TEST_SUITE(KernelsGemmLadder, FloatTypes);

TYPED_TEST(KernelsGemmLadder, HasTheNamedRungsInOrder) {
  std::vector<std::string> names;
  for (const cpu::LadderRung& r : cpu::gemm_ladder()) names.push_back(r.name);
  ASSERT_GE(names.size(), 7u);
  EXPECT_EQ(names[0], "naive");
  EXPECT_EQ(names[1], "reordered");
  EXPECT_EQ(names[2], "blocked");
  EXPECT_EQ(names[3], "packed");
  EXPECT_EQ(names[names.size() - 3], "threaded");
  EXPECT_EQ(names[names.size() - 2], "tuned");
  EXPECT_EQ(names.back(), "strassen");
  EXPECT_NE(cpu::find_rung("blocked"), nullptr);
  EXPECT_EQ(cpu::find_rung("no-such-rung"), nullptr);
}

TYPED_TEST(KernelsGemmLadder, EveryRungMatchesReferenceExactly) {
  using T = TypeParam;
  struct Size {
    int64_t m, n, k;
  };
  const Size sizes[] = {{1, 1, 1}, {7, 33, 5}, {33, 7, 65}, {65, 67, 129}, {2, 130, 3}, {130, 1, 300}, {4, 5, 0}};
  uint32_t seed = 1;
  for (const cpu::LadderRung& rung : cpu::gemm_ladder())
    for (const Size& s : sizes) {
      const Matrices<T> x = make<T>(s.m, s.n, s.k, ++seed, true);
      const std::vector<T> want = reference(x);
      for (int threads : {1, 2}) {
        const std::vector<T> got = run(rung, x, threads);
        for (int64_t i = 0; i < s.m; ++i)
          for (int64_t j = 0; j < x.ldc; ++j) {
            const T g = got[i * x.ldc + j], w = want[i * x.ldc + j];
            if (j >= s.n) {
              ASSERT_TRUE(std::isnan(g)) << rung.name << ": wrote past the row end at " << i << ", " << j;
            } else {
              ASSERT_EQ(g, w) << rung.name << " threads " << threads << " m=" << s.m << " n=" << s.n << " k=" << s.k
                              << " at " << i << ", " << j;
            }
          }
      }
    }
}

// C x == A (B x) for a random x, within the rounding bound of both sides (Strassen's sums of quadrants loosen it
// by a small factor, covered by the 4x margin).
TYPED_TEST(KernelsGemmLadder, RandomProjectionOnRealValues) {
  using T = TypeParam;
  const Matrices<T> x = make<T>(97, 75, 257, 9, false);
  std::mt19937 rng(10);
  std::normal_distribution<double> normal;
  std::vector<double> v(x.n), bv(x.k, 0), bv_abs(x.k, 0);
  for (double& e : v) e = normal(rng);
  for (int64_t q = 0; q < x.k; ++q)
    for (int64_t j = 0; j < x.n; ++j) {
      bv[q] += double(x.b[q * x.ldb + j]) * v[j];
      bv_abs[q] += std::abs(double(x.b[q * x.ldb + j]) * v[j]);
    }
  const double eps = std::numeric_limits<T>::epsilon();
  for (const cpu::LadderRung& rung : cpu::gemm_ladder()) {
    const std::vector<T> c = run(rung, x, 2);
    for (int64_t i = 0; i < x.m; ++i) {
      double cv = 0, abv = 0, bound = 0;
      for (int64_t j = 0; j < x.n; ++j) cv += double(c[i * x.ldc + j]) * v[j];
      for (int64_t q = 0; q < x.k; ++q) {
        abv += double(x.a[i * x.lda + q]) * bv[q];
        bound += std::abs(double(x.a[i * x.lda + q])) * bv_abs[q];
      }
      ASSERT_NEAR(cv, abv, 4.0 * double(x.k) * eps * bound) << rung.name << " row " << i;
    }
  }
}

}  // namespace
