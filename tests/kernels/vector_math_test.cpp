// The vectorisable float32 exp / log / sigmoid / tanh (src/kernels/cpu/vector_math.h) against the correctly rounded
// value (the double-precision libm result rounded to float), over a dense sweep of [-110, 100] and random bit
// patterns (NaN, inf, subnormals included): the documented error bounds, counted in units in the last place.
// The registered tg::exp / log / sigmoid / tanh kernels must give exactly the header's values, contiguous or not.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <tensorgrad/tensorgrad.h>

#include "../../src/kernels/cpu/cpu_features.h"
#include "../../src/kernels/ref/ref_kernels.h"
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
  Worst exp_worst, log_worst, sigmoid_worst, tanh_worst;
  auto check = [&](float x) {
    const double d = x;
    measure(exp_worst, x, cpu::exp_f32(x), std::exp(d));
    measure(log_worst, x, cpu::log_f32(x), std::log(d));
    measure(sigmoid_worst, x, cpu::sigmoid_f32(x), 1.0 / (1.0 + std::exp(-d)));
    measure(tanh_worst, x, cpu::tanh_f32(x), std::tanh(d));
  };
  constexpr int kSweep = 400000;
  for (int i = 0; i <= kSweep; ++i) check(-110.0f + 210.0f * static_cast<float>(i) / kSweep);
  for (int i = 0; i <= kSweep; ++i) check(0.25f + 3.75f * static_cast<float>(i) / kSweep);  // log near 1
  std::mt19937 rng(3);
  for (int i = 0; i < 400000; ++i) {
    const uint32_t bits = rng();
    float x = 0;
    std::memcpy(&x, &bits, sizeof x);
    check(x);
  }
  for (float x : {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 88.72283935546875f, 88.7228393554688f, -104.0f, 1e-30f,
                  1.0f, 0.70710677f, 0.70710683f, 1e-45f, 1.17549435e-38f, 1.1754942e-38f, 3.4028235e38f})
    check(x);
  tg::set_flush_denormal(flush);
  EXPECT_LE(exp_worst.ulps, 1) << "at x = " << exp_worst.at;
  EXPECT_LE(log_worst.ulps, 1) << "at x = " << log_worst.at;
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
  for (const Case& c : {Case{"exp", tg::exp, cpu::exp_f32}, Case{"log", tg::log, cpu::log_f32},
                        Case{"sigmoid", tg::sigmoid, cpu::sigmoid_f32},
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
                  -87.5f, 0.625f, -0.625f, 9.0f, -9.0f, 1e-45f, 1.1754942e-38f, 0.70710677f, 0.70710683f})
    x.push_back(v);
  struct Fn {
    const char* name;
    void (*const cpu::simd::Runs::*run)(float*, const float*, int64_t);
    float (*scalar)(float);
  };
  const Fn fns[] = {{"exp", &cpu::simd::Runs::exp, cpu::exp_f32},
                    {"log", &cpu::simd::Runs::log, cpu::log_f32},
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

// silu's fused gradient (kernels::BinaryOp::SiluGrad, float32): the scalar form near the exact g s (1 + x (1 - s))
// (a bound scaled by the terms' size: silu' crosses zero near x = -1.28, where no relative bound holds);
// every ISA's runs, the registered kernel on every layout (contiguous, strided, either operand a broadcast
// scalar) and silu's backward give exactly its bits; the reference kernel (double-free float math) stays close.
TEST(KernelsVectorMath, SiluGradientIsTheScalarFormOnEveryIsaAndLayout) {
  std::vector<float> x, g;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int i = 0; i <= 100000; ++i) x.push_back(-40.0f + 80.0f * static_cast<float>(i) / 100000);
  for (float v : {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 88.8f, -104.5f, -1.2784645f, 1e-30f}) x.push_back(v);
  for (size_t i = 0; i < x.size(); ++i) g.push_back(normal(rng));
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double xd = x[i], s = 1.0 / (1.0 + std::exp(-xd));
    const double exact = g[i] * s * (1.0 + xd * (1.0 - s));
    const float got = cpu::silu_grad_f32(g[i], x[i]);
    if (std::isnan(exact) || std::isinf(exact)) {
      EXPECT_EQ(std::isnan(got), std::isnan(exact)) << "at x = " << x[i];
      continue;
    }
    const double scale = std::fabs(g[i]) * s * (1.0 + std::fabs(xd) * (1.0 - s)) + 1e-30;
    worst = std::max(worst, std::fabs(got - exact) / scale);
  }
  // 1 - s from a rounded s near 1 carries up to half an ulp of 1, times x: ~17 units of 2^-24 near x = 16 (the
  // same form as PyTorch's silu_backward; an exact 1 - s would cost a second division).
  EXPECT_LT(worst, 32 * 0x1p-24) << "relative to the terms' size";

  const auto n = static_cast<int64_t>(x.size());
  for (const cpu::simd::Runs* runs : {cpu::simd::avx2_runs, cpu::simd::avx512_runs}) {
    if (runs == nullptr || !(runs == cpu::simd::avx512_runs ? cpu::cpu_has_avx512f() : cpu::cpu_has_avx2())) continue;
    std::vector<float> y(x.size());
    runs->silu_grad(y.data(), g.data(), x.data(), n);
    for (size_t i = 0; i < x.size(); ++i)
      ASSERT_EQ(ordinal(y[i]), ordinal(cpu::silu_grad_f32(g[i], x[i]))) << runs->isa << " at x = " << x[i];
    for (int64_t m = 1; m <= 33; ++m) {  // tails
      std::vector<float> t(static_cast<size_t>(m), 7.0f);
      runs->silu_grad(t.data(), g.data() + 500, x.data() + 500, m);
      for (int64_t i = 0; i < m; ++i)
        ASSERT_EQ(ordinal(t[static_cast<size_t>(i)]), ordinal(cpu::silu_grad_f32(g[static_cast<size_t>(500 + i)],
                                                                                  x[static_cast<size_t>(500 + i)])))
            << runs->isa << " tail " << m;
    }
  }

  namespace k = tg::kernels;
  std::vector<float> xs, gs;  // every 25th point of the sweep: [-40, 40]
  for (size_t i = 0; i < 4000; ++i) xs.push_back(x[25 * i]), gs.push_back(g[25 * i]);
  const tg::Tensor xt = tg::from_vector<float>(xs, {40, 100}), gt = tg::from_vector<float>(gs, {40, 100});
  const auto arg = [](const tg::Tensor& t, const tg::Shape& shape) {
    return k::StridedArg{t.data_ptr(), tg::broadcast_strides(t.shape(), t.strides(), shape), t.dtype()};
  };
  struct Layout {
    const char* name;
    tg::Tensor grad, input;
  };
  const tg::Tensor gcol = tg::transpose(tg::transpose(gt, 0, 1).contiguous(), 0, 1);  // same values, strided
  const tg::Tensor xcol = tg::transpose(tg::transpose(xt, 0, 1).contiguous(), 0, 1);
  const tg::Tensor g_scalar = tg::full({1}, -0.75, tg::DType::Float32);
  const tg::Tensor x_scalar = tg::full({1}, 1.5, tg::DType::Float32);
  for (const Layout& l : {Layout{"contiguous", gt, xt}, Layout{"strided", gcol, xcol},
                          Layout{"scalar grad", g_scalar, xt}, Layout{"scalar input", gt, x_scalar}}) {
    const tg::Shape shape{40, 100};
    const tg::Tensor out = tg::Tensor::empty(shape), ref = tg::Tensor::empty(shape);
    k::binary(k::BinaryOp::SiluGrad, shape, arg(out, shape), arg(l.grad, shape), arg(l.input, shape));
    k::reference_tables().binary.find(k::BinaryOp::SiluGrad, tg::DeviceType::CPU, tg::DType::Float32)(
        k::BinaryOp::SiluGrad, shape, arg(ref, shape), arg(l.grad, shape), arg(l.input, shape));
    const tg::Tensor ge = tg::expand(l.grad, shape).contiguous(), xe = tg::expand(l.input, shape).contiguous();
    const float* po = static_cast<const float*>(out.data_ptr());
    const float* pr = static_cast<const float*>(ref.data_ptr());
    const float* pg = static_cast<const float*>(ge.data_ptr());
    const float* px = static_cast<const float*>(xe.data_ptr());
    for (int64_t i = 0; i < out.numel(); ++i) {
      ASSERT_EQ(ordinal(po[i]), ordinal(cpu::silu_grad_f32(pg[i], px[i]))) << l.name << " at x = " << px[i];
      const float s = cpu::sigmoid_f32(px[i]);
      const float scale = std::fabs(pg[i]) * s * (1.0f + std::fabs(px[i]) * (1.0f - s)) + 1e-30f;
      ASSERT_LE(std::fabs(po[i] - pr[i]), 1e-6f * scale) << l.name << " against the reference at x = " << px[i];
    }
  }

  // silu's backward is that kernel: the gradient of sum(w * silu(x)) is silu_grad(w, x).
  const tg::Tensor leaf = xt.detach().requires_grad_(true);
  tg::sum(gt * tg::silu(leaf)).backward();
  const float* pg = static_cast<const float*>(leaf.grad().data_ptr());
  for (int64_t i = 0; i < leaf.numel(); ++i)
    ASSERT_EQ(ordinal(pg[i]), ordinal(cpu::silu_grad_f32(gs[static_cast<size_t>(i)], xs[static_cast<size_t>(i)])));
}

}  // namespace
