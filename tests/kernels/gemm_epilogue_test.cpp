// The fused matmul epilogue (bias add, ReLU, GELU applied while C is written) against the unfused result: the
// reference matmul followed by the same bias add and activation as separate passes. Sums come from the same
// GEMM or exact integer products, so bias and ReLU must agree bit for bit; GELU uses the same erf formula,
// checked to a few ulp. Covers every micro-kernel, edge tiles, column-major and strided C (the swapped and
// edge-tile paths), a strided bias, one bias value a row of C instead of a column (a convolution's channels,
// added as each tile is stored), batches, 1 and 2 threads, tiny blocking (several k blocks) and k = 0; then
// tg::linear's one-pass forward against matmul + add, with its gradients and tangents.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <tensorgrad/tensorgrad.h>

#include "../../src/kernels/cpu/gemm.h"
#include "../../src/kernels/ref/ref_kernels.h"

namespace {

namespace cpu = tg::kernels::cpu;
using tg::kernels::Activation;
using tg::kernels::MatmulEpilogue;
using tg::kernels::StridedArg;

const tg::kernels::KernelTables& ref_tables() { return tg::kernels::reference_tables(); }

template <class T>
T activate(Activation act, T x) {
  if (act == Activation::Relu) return x < T(0) ? T(0) : x;
  if (act == Activation::Gelu) return T(0.5) * x * (T(1) + std::erf(x * T(0.70710678118654752440)));
  return x;
}

enum class CLayout { RowMajor, ColMajor, Strided };

template <class T>
void check_epilogue(int64_t batch, int64_t m, int64_t n, int64_t k, CLayout layout, Activation act, bool with_bias,
                    const cpu::MicroKernel<T>& kernel, const cpu::GemmBlocking& blocking, int threads, uint32_t seed,
                    bool bias_per_row = false) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> small(-3, 3);
  std::vector<T> a(std::max<int64_t>(batch * m * k, 1)), b(std::max<int64_t>(k * n, 1)), bias(2 * std::max(m, n) + 1);
  for (T& v : a) v = T(small(rng));
  for (T& v : b) v = T(small(rng));
  for (T& v : bias) v = T(small(rng)) + T(0.5);
  int64_t rs = n, cs = 1;
  if (layout == CLayout::ColMajor) rs = 1, cs = m;
  if (layout == CLayout::Strided) rs = 2 * n + 3, cs = 2;
  const int64_t per = std::max<int64_t>(m * rs + n * cs, 1);
  const tg::DType dt = tg::dtype_of<T>();
  std::vector<T> fused(batch * per, std::numeric_limits<T>::quiet_NaN()), plain = fused;
  const StridedArg ca{fused.data(), {per, rs, cs}, dt}, pa{plain.data(), {per, rs, cs}, dt},
      aa{a.data(), {m * k, k, 1}, dt}, ba{b.data(), {0, n, 1}, dt};  // B shared across the batch
  cpu::GemmOptions options{threads, 1};
  options.epilogue.bias = with_bias ? bias.data() : nullptr;
  options.epilogue.bias_stride = 2;
  options.epilogue.activation = act;
  options.bias_per_row = bias_per_row;
  cpu::gemm<T>({batch}, m, n, k, ca, aa, ba, kernel, blocking, options);
  ref_tables().matmul.find(tg::DeviceType::CPU, dt)({batch}, m, n, k, pa, aa, ba, {});
  const std::string what = std::string(kernel.name) + " " + tg::kernels::activation_name(act) +
                           (with_bias ? " +bias" : "") + " m=" + std::to_string(m) + " n=" + std::to_string(n) +
                           " k=" + std::to_string(k) + " layout " + std::to_string(int(layout)) + " threads " +
                           std::to_string(threads) + (bias_per_row ? " bias per row" : "");
  for (int64_t e = 0; e < batch; ++e)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        const int64_t at = e * per + i * rs + j * cs;
        T want = plain[at];
        if (with_bias) want = want + bias[2 * (bias_per_row ? i : j)];
        want = activate(act, want);
        const T got = fused[at];
        if (act == Activation::Gelu) {
          ASSERT_NEAR(got, want, 4 * std::numeric_limits<T>::epsilon() * (1 + std::abs(want))) << what;
        } else {
          ASSERT_EQ(got, want) << what << " at " << e << ", " << i << ", " << j;
        }
      }
}

template <class T>
class KernelsGemmEpilogue : public ::testing::Test {};
using FloatTypes = ::testing::Types<float, double>;
TYPED_TEST_SUITE(KernelsGemmEpilogue, FloatTypes);

TYPED_TEST(KernelsGemmEpilogue, MatchesUnfusedBiasAndActivation) {
  using T = TypeParam;
  uint32_t seed = 1;
  for (const cpu::MicroKernel<T>& kernel : cpu::available_micro_kernels<T>())
    for (Activation act : {Activation::None, Activation::Relu, Activation::Gelu})
      for (bool with_bias : {true, false})
        for (bool per_row : {false, true}) {
          if ((act == Activation::None && !with_bias) || (per_row && !with_bias)) continue;
          for (CLayout layout : {CLayout::RowMajor, CLayout::ColMajor, CLayout::Strided}) {
            check_epilogue<T>(2, kernel.mr + 3, kernel.nr * 2 + 1, 19, layout, act, with_bias, kernel,
                              kernel.blocking, layout == CLayout::RowMajor ? 2 : 1, ++seed, per_row);
            // Five k blocks: the epilogue only after the last.
            check_epilogue<T>(1, 2 * kernel.mr + 1, kernel.nr + 5, 23, layout, act, with_bias, kernel,
                              {kernel.mr, 5, kernel.nr}, 1, ++seed, per_row);
          }
          check_epilogue<T>(1, 5, 9, 0, CLayout::RowMajor, act, with_bias, kernel, kernel.blocking, 1, ++seed,
                            per_row);  // k = 0
          // A narrow C (n < NR, m >> n), which the GEMM computes turned round: the bias follows C's columns (or
          // rows).
          for (int64_t n : {kernel.nr / 3, kernel.nr - 6})  // 5 and 10 of AVX2's 16, 10 and 26 of AVX-512's 32
            if (n >= 1)
              check_epilogue<T>(1, 8 * kernel.mr + 1, n, 31, CLayout::RowMajor, act, with_bias, kernel,
                                kernel.blocking, 1, ++seed, per_row);
        }
}

// With inexact sums (normal values) and several k blocks, the bias added as a tile is stored gives the bits of the
// same GEMM followed by the bias as a separate pass: (C + last block's sum) + bias, in that order.
TYPED_TEST(KernelsGemmEpilogue, RowBiasAddsAfterTheLastBlockAsASeparatePassWould) {
  using T = TypeParam;
  std::mt19937 rng(11);
  std::normal_distribution<double> normal;
  for (const cpu::MicroKernel<T>& kernel : cpu::available_micro_kernels<T>()) {
    const int64_t m = 2 * kernel.mr + 1, n = 3 * kernel.nr + 5, k = 23;
    std::vector<T> a(m * k), b(k * n), bias(m), fused(m * n), plain(m * n);
    for (T& v : a) v = T(normal(rng));
    for (T& v : b) v = T(normal(rng));
    for (T& v : bias) v = T(normal(rng));
    const tg::DType dt = tg::dtype_of<T>();
    const StridedArg fa{fused.data(), {n, 1}, dt}, pa{plain.data(), {n, 1}, dt}, aa{a.data(), {k, 1}, dt},
        ba{b.data(), {n, 1}, dt};
    const cpu::GemmBlocking five_blocks{kernel.mr, 5, kernel.nr};
    cpu::GemmOptions options;
    options.epilogue.bias = bias.data();
    options.bias_per_row = true;
    cpu::gemm<T>({}, m, n, k, fa, aa, ba, kernel, five_blocks, options);
    cpu::gemm<T>({}, m, n, k, pa, aa, ba, kernel, five_blocks, cpu::GemmOptions{});
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        ASSERT_EQ(fused[i * n + j], plain[i * n + j] + bias[i]) << kernel.name << " at " << i << ", " << j;
  }
}

// The registered kernels: the CPU GEMM's fused matmul and the reference (matmul, then the epilogue) agree.
TYPED_TEST(KernelsGemmEpilogue, RegisteredFusedMatchesReferenceFused) {
  using T = TypeParam;
  const int64_t m = 45, n = 37, k = 66;
  std::mt19937 rng(4);
  std::uniform_int_distribution<int> small(-3, 3);
  std::vector<T> a(m * k), b(k * n), bias(n), got(m * n), want(m * n);
  for (T& v : a) v = T(small(rng));
  for (T& v : b) v = T(small(rng));
  for (T& v : bias) v = T(small(rng));
  const tg::DType dt = tg::dtype_of<T>();
  for (Activation act : {Activation::None, Activation::Relu, Activation::Gelu}) {
    MatmulEpilogue e;
    e.bias = bias.data();
    e.activation = act;
    // b read transposed (k strides), as linear reads its weight.
    const StridedArg ga{got.data(), {n, 1}, dt}, wa{want.data(), {n, 1}, dt}, aa{a.data(), {k, 1}, dt},
        bt{b.data(), {1, k}, dt};
    tg::kernels::matmul_fused({}, m, n, k, ga, aa, bt, e);
    ref_tables().matmul.find(tg::DeviceType::CPU, dt)({}, m, n, k, wa, aa, bt, e);
    for (int64_t i = 0; i < m * n; ++i)
      ASSERT_NEAR(got[i], want[i], 4 * std::numeric_limits<T>::epsilon() * (1 + std::abs(want[i])))
          << tg::kernels::activation_name(act) << " at " << i;
  }
}

std::vector<double> values(const tg::Tensor& t) { return t.to(tg::DType::Float64).contiguous().to_vector<double>(); }

double max_abs_diff(const tg::Tensor& a, const tg::Tensor& b) {
  const std::vector<double> x = values(a), y = values(b);
  EXPECT_EQ(x.size(), y.size());
  double worst = 0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) worst = std::max(worst, std::abs(x[i] - y[i]));
  return worst;
}

tg::Tensor leaf(const tg::Shape& shape, tg::DType dt) {
  tg::Tensor t = tg::randn(shape, dt);
  t.requires_grad_();
  return t;
}

// tg::linear's one-pass forward equals matmul(x, W^T) + b bit for bit; gradients and tangents equal the
// unfused graph's.
TEST(KernelsGemmEpilogueLinear, LinearForwardBackwardMatchUnfused) {
  for (tg::DType dt : {tg::DType::Float32, tg::DType::Float64}) {
    tg::manual_seed(5);
    const tg::Tensor x = leaf({2, 7, 33}, dt), w = leaf({19, 33}, dt), b = leaf({19}, dt);
    const tg::Tensor fused = tg::linear(x, w, b);
    const tg::Tensor plain = tg::matmul(x, tg::transpose(w, 0, 1)) + b;
    ASSERT_EQ(fused.shape(), plain.shape());
    EXPECT_EQ(values(fused), values(plain)) << tg::dtype_name(dt);
    const tg::Tensor g = tg::randn(plain.shape(), dt);
    const tg::TensorList gf = tg::grad({(fused * g).sum()}, {x, w, b});
    const tg::TensorList gp = tg::grad({(plain * g).sum()}, {x, w, b});
    for (size_t i = 0; i < 3; ++i) EXPECT_LE(max_abs_diff(gf[i], gp[i]), 1e-4) << "grad " << i;
  }
  // float64: finite differences and forward mode through the fused node.
  tg::manual_seed(6);
  const tg::DType f64 = tg::DType::Float64;
  const tg::Tensor x = leaf({5, 4}, f64), w = leaf({3, 4}, f64), b = leaf({3}, f64);
  const auto fn = [](const tg::TensorList& in) { return tg::linear(in[0], in[1], in[2]); };
  const tg::GradcheckResult r = tg::gradcheck(fn, {x, w, b});
  EXPECT_TRUE(r.ok) << r.message;
  const tg::TensorList tangents = {tg::randn({5, 4}, f64), tg::randn({3, 4}, f64), tg::randn({3}, f64)};
  const auto [y, ty] = tg::jvp(fn, {x, w, b}, tangents);
  const tg::Tensor want = tg::matmul(tangents[0], tg::transpose(w, 0, 1)) +
                          tg::matmul(x, tg::transpose(tangents[1], 0, 1)) + tangents[2];
  EXPECT_LE(max_abs_diff(ty, want), 1e-12);
  EXPECT_LE(max_abs_diff(y, tg::matmul(x, tg::transpose(w, 0, 1)) + b), 1e-12);
}

}  // namespace
