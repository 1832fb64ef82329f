// The vectorisable float32 exp / sigmoid / tanh (src/kernels/cpu/vector_math.h) against the correctly rounded
// value (the double-precision libm result rounded to float), over a dense sweep of [-110, 100] and random bit
// patterns (NaN, inf, subnormals included): the documented error bounds, counted in units in the last place.
// The registered tg::exp / sigmoid / tanh kernels must give exactly the header's values, contiguous or not.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <tensorgrad/tensorgrad.h>

#include "../../src/kernels/cpu/cpu_features.h"
#include "../../src/kernels/cpu/vector_math.h"
#include "../../src/kernels/cpu/vector_math_simd.h"

namespace {

namespace cpu = tg::kernels::cpu;

// The position of a float on the number line in ulps (+0 and -0 both 0).
int64_t ordinal(float f) {
  int32_t i = 0;
  std::memcpy(&i, &f, sizeof i);
  return i < 0 ? -static_cast<int64_t>(i & 0x7fffffff) : i;
}

struct Worst {
  int64_t ulps = 0;
  float at = 0;
};

void measure(Worst& worst, float x, float got, double exact) {
  const auto expected = static_cast<float>(exact);
  if (std::isnan(expected)) {
    if (!std::isnan(got)) worst = {1 << 30, x};
    return;
  }
  const int64_t ulps = std::llabs(ordinal(got) - ordinal(expected));
  if (ulps > worst.ulps) worst = {ulps, x};
}

TEST(KernelsVectorMath, WithinTheDocumentedUlpsOfTheCorrectlyRoundedValue) {
  // Subnormal results must stay subnormal for this test (the flush-to-zero default would zero them).
  const bool flush = tg::flush_denormal();
  tg::set_flush_denormal(false);
  Worst exp_worst, sigmoid_worst, tanh_worst;
  auto check = [&](float x) {
    const double d = x;
    measure(exp_worst, x, cpu::exp_f32(x), std::exp(d));
    measure(sigmoid_worst, x, cpu::sigmoid_f32(x), 1.0 / (1.0 + std::exp(-d)));
    measure(tanh_worst, x, cpu::tanh_f32(x), std::tanh(d));
  };
  constexpr int kSweep = 400000;
  for (int i = 0; i <= kSweep; ++i) check(-110.0f + 210.0f * static_cast<float>(i) / kSweep);
  std::mt19937 rng(3);
  for (int i = 0; i < 400000; ++i) {
    const uint32_t bits = rng();
    float x = 0;
    std::memcpy(&x, &bits, sizeof x);
    check(x);
  }
  for (float x : {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 88.72283935546875f, 88.7228393554688f, -104.0f, 1e-30f})
    check(x);
  tg::set_flush_denormal(flush);
  EXPECT_LE(exp_worst.ulps, 1) << "at x = " << exp_worst.at;
  EXPECT_LE(sigmoid_worst.ulps, 2) << "at x = " << sigmoid_worst.at;
  EXPECT_LE(tanh_worst.ulps, 2) << "at x = " << tanh_worst.at;
}

TEST(KernelsVectorMath, RegisteredKernelsUseThemForEveryLayout) {
  tg::Generator gen(9);
  const tg::Tensor x = tg::randn({64, 33}, tg::DType::Float32, gen) * 8.0;
  const tg::Tensor strided = tg::transpose(x, 0, 1);  // the same values through a strided run
  struct Case {
    const char* name;
    tg::Tensor (*op)(const tg::Tensor&);
    float (*reference)(float);
  };
  for (const Case& c : {Case{"exp", tg::exp, cpu::exp_f32}, Case{"sigmoid", tg::sigmoid, cpu::sigmoid_f32},
                        Case{"tanh", tg::tanh, cpu::tanh_f32},
                        Case{"silu", tg::silu, [](float v) { return v * cpu::sigmoid_f32(v); }}}) {
    const tg::Tensor y = c.op(x), yt = tg::transpose(c.op(strided), 0, 1).contiguous();
    const float* px = static_cast<const float*>(x.data_ptr());
    const float* py = static_cast<const float*>(y.data_ptr());
    const float* pt = static_cast<const float*>(yt.data_ptr());
    for (int64_t i = 0; i < x.numel(); ++i) {
      ASSERT_EQ(ordinal(py[i]), ordinal(c.reference(px[i]))) << c.name << " of " << px[i];
      ASSERT_EQ(ordinal(pt[i]), ordinal(py[i])) << c.name << " of " << px[i] << " through a strided run";
    }
  }
}

// Every ISA's vector runs this CPU can execute give exactly the scalar functions' bits: on the sweep, on random
// bit patterns (NaN, inf, subnormals) and on every tail length (the padded last vector).
TEST(KernelsVectorMath, EveryIsaGivesTheScalarBits) {
  const bool flush = tg::flush_denormal();
  tg::set_flush_denormal(false);
  std::vector<float> x;
  for (int i = 0; i <= 200000; ++i) x.push_back(-110.0f + 210.0f * static_cast<float>(i) / 200000);
  std::mt19937 rng(4);
  for (int i = 0; i < 200000; ++i) {
    const uint32_t bits = rng();
    float v = 0;
    std::memcpy(&v, &bits, sizeof v);
    x.push_back(v);
  }
  for (float v : {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 88.72283935546875f, 88.7228393554688f, -104.0f, 1e-30f,
                  -87.5f, 0.625f, -0.625f, 9.0f, -9.0f})
    x.push_back(v);
  struct Fn {
    const char* name;
    void (*const cpu::simd::Runs::*run)(float*, const float*, int64_t);
    float (*scalar)(float);
  };
  const Fn fns[] = {{"exp", &cpu::simd::Runs::exp, cpu::exp_f32},
                    {"sigmoid", &cpu::simd::Runs::sigmoid, cpu::sigmoid_f32},
                    {"tanh", &cpu::simd::Runs::tanh, cpu::tanh_f32},
                    {"silu", &cpu::simd::Runs::silu, [](float v) { return v * cpu::sigmoid_f32(v); }}};
  int tested = 0;
  for (const cpu::simd::Runs* runs : {cpu::simd::avx2_runs, cpu::simd::avx512_runs}) {
    if (runs == nullptr) continue;
    if (!(runs == cpu::simd::avx512_runs ? cpu::cpu_has_avx512f() : cpu::cpu_has_avx2())) continue;
    ++tested;
    for (const Fn& f : fns) {
      std::vector<float> y(x.size());
      (runs->*f.run)(y.data(), x.data(), static_cast<int64_t>(x.size()));
      for (size_t i = 0; i < x.size(); ++i)
        ASSERT_EQ(ordinal(y[i]), ordinal(f.scalar(x[i]))) << runs->isa << " " << f.name << " of " << x[i];
      for (int64_t n = 1; n <= 33; ++n) {  // tails
        std::vector<float> t(static_cast<size_t>(n), 7.0f);
        (runs->*f.run)(t.data(), x.data() + 1000, n);
        for (int64_t i = 0; i < n; ++i)
          ASSERT_EQ(ordinal(t[static_cast<size_t>(i)]), ordinal(f.scalar(x[static_cast<size_t>(1000 + i)])))
              << runs->isa << " " << f.name << " tail " << n;
      }
    }
    // exp_shifted_sum: exp(x - shift) in place with the same bits, and the sum of what it wrote.
    for (int64_t n : {int64_t{1}, int64_t{15}, int64_t{16}, int64_t{17}, int64_t{288}, int64_t{1001}}) {
      std::vector<float> row(x.begin() + 5000, x.begin() + 5000 + n);
      const float got = runs->exp_shifted_sum(row.data(), 3.5f, n);
      double want = 0;
      for (int64_t i = 0; i < n; ++i) {
        const float e = cpu::exp_f32(x[static_cast<size_t>(5000 + i)] - 3.5f);
        ASSERT_EQ(ordinal(row[static_cast<size_t>(i)]), ordinal(e)) << runs->isa << " exp_shifted_sum n " << n;
        want += e;
      }
      EXPECT_NEAR(got, want, 1e-5 * want) << runs->isa << " n " << n;
    }
  }
  tg::set_flush_denormal(flush);
#if defined(__x86_64__)
  EXPECT_GE(tested, 1) << "an x86-64 build offers at least the AVX2 runs";
#endif
}

}  // namespace
