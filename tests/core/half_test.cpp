// bfloat16 and float16: the casts against an independent reference (every finite value of each format, listed in
// double and searched for the nearest), the promotion lattice, and tensors of the two dtypes end to end (casts,
// printing, item, autograd keeping the dtype).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <sstream>
#include <vector>

#include <tensorgrad/tensorgrad.h>

#include "support/oracle.h"

namespace {

using tg::DType;

// The value of a bit pattern, decoded from the format's definition in double (not by the code under test).
double decode(uint16_t bits, int mantissa_bits, int exponent_bias) {
  const int exponent_bits = 15 - mantissa_bits;
  const int e = (bits >> mantissa_bits) & ((1 << exponent_bits) - 1);
  const int m = bits & ((1 << mantissa_bits) - 1);
  const double sign = (bits & 0x8000) ? -1.0 : 1.0;
  if (e == (1 << exponent_bits) - 1) return m ? std::numeric_limits<double>::quiet_NaN() : sign * INFINITY;
  if (e == 0) return sign * std::ldexp(m, 1 - exponent_bias - mantissa_bits);
  return sign * std::ldexp((1 << mantissa_bits) + m, e - exponent_bias - mantissa_bits);
}

struct Format {
  const char* name;
  int mantissa_bits, exponent_bias;
  uint16_t (*to_bits)(float);
  float (*from_bits)(uint16_t);
};
const Format kBFloat16{"bfloat16", 7, 127, tg::float_to_bfloat16_bits, tg::bfloat16_bits_to_float};
const Format kFloat16{"float16", 10, 15, tg::float_to_float16_bits, tg::float16_bits_to_float};

// The nearest finite value of the format to x (ties to the even pattern), or infinity when x is at least the
// largest finite value plus half a step: rounding by search over the sorted positive values.
uint16_t reference_round(const Format& f, const std::vector<double>& positive, float x) {
  const double a = std::fabs(static_cast<double>(x));
  const uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  const double largest = positive.back();
  const double step = largest - positive[positive.size() - 2];
  const uint16_t inf = static_cast<uint16_t>(((1 << (15 - f.mantissa_bits)) - 1) << f.mantissa_bits);
  if (a >= largest + step / 2) return sign | inf;  // the tie goes to the even pattern: infinity
  const auto hi = std::lower_bound(positive.begin(), positive.end(), a);
  if (hi == positive.begin()) return sign;
  const auto lo = hi - 1;
  const auto pick_hi = [&] {
    if (hi == positive.end()) return false;
    const double dl = a - *lo, dh = *hi - a;
    if (dl != dh) return dh < dl;
    return ((hi - positive.begin()) % 2) == 0;  // pattern index = position: even pattern wins the tie
  }();
  return sign | static_cast<uint16_t>((pick_hi ? hi : lo) - positive.begin());
}

std::vector<double> positive_values(const Format& f) {
  std::vector<double> v;
  for (uint32_t b = 0; b < 0x8000; ++b) {
    const double d = decode(static_cast<uint16_t>(b), f.mantissa_bits, f.exponent_bias);
    if (!std::isfinite(d)) break;
    v.push_back(d);
  }
  return v;
}

// Subnormal floats must read as themselves here (bfloat16's subnormals are float32 subnormals): the
// flush-to-zero setting, on by default, is off for these tests.
class HalfFormat : public ::testing::TestWithParam<Format> {
 protected:
  void SetUp() override { tg::set_flush_denormal(false); }
  void TearDown() override { tg::set_flush_denormal(saved_); }
  bool saved_ = tg::flush_denormal();
};

TEST_P(HalfFormat, EveryPatternDecodesExactlyAndRoundTrips) {
  const Format& f = GetParam();
  for (uint32_t b = 0; b <= 0xFFFF; ++b) {
    const auto bits = static_cast<uint16_t>(b);
    const double want = decode(bits, f.mantissa_bits, f.exponent_bias);
    const float got = f.from_bits(bits);
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(got)) << f.name << " pattern " << b;
      ASSERT_TRUE(std::isnan(f.from_bits(f.to_bits(got)))) << f.name << " NaN pattern " << b << " stays NaN";
      EXPECT_EQ(f.to_bits(got) & 0x8000, bits & 0x8000) << f.name << " NaN keeps its sign";
      continue;
    }
    ASSERT_EQ(static_cast<double>(got), want) << f.name << " pattern " << b;
    ASSERT_EQ(f.to_bits(got), bits) << f.name << " pattern " << b << " round-trips";
  }
}

TEST_P(HalfFormat, RoundsToNearestEvenLikeTheReference) {
  const Format& f = GetParam();
  const std::vector<double> positive = positive_values(f);
  std::mt19937 rng(7);
  auto check = [&](float x) {
    ASSERT_EQ(f.to_bits(x), reference_round(f, positive, x)) << f.name << " of " << x << " (float bits 0x" << std::hex
                                                              << std::bit_cast<uint32_t>(x) << ")";
  };
  // Random float32 bit patterns (every exponent), and values near the format's own: exact ties, one float ulp
  // either side of them, the overflow threshold and the subnormal range.
  for (int i = 0; i < 200000; ++i) {
    const float x = std::bit_cast<float>(static_cast<uint32_t>(rng()));
    if (!std::isnan(x)) check(x);
  }
  for (size_t i = 0; i + 1 < positive.size(); i += 7) {
    const auto mid = static_cast<float>((positive[i] + positive[i + 1]) / 2);  // exact in float32
    for (float x : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, INFINITY), -mid}) check(x);
  }
  check(INFINITY);
  check(-INFINITY);
  check(std::numeric_limits<float>::max());
  check(std::numeric_limits<float>::denorm_min());
}

INSTANTIATE_TEST_SUITE_P(Core, HalfFormat, ::testing::Values(kBFloat16, kFloat16),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(HalfCasts, KnownValues) {
  EXPECT_EQ(tg::float_to_float16_bits(1.0f), 0x3C00);
  EXPECT_EQ(tg::float_to_float16_bits(65504.0f), 0x7BFF);
  EXPECT_EQ(tg::float_to_float16_bits(65520.0f), 0x7C00);            // rounds up to infinity
  EXPECT_EQ(tg::float_to_float16_bits(1.0f + 1.0f / 2048), 0x3C00);  // a tie: to even (down)
  EXPECT_EQ(tg::float_to_float16_bits(1.0f + 3.0f / 2048), 0x3C02);  // a tie: to even (up)
  EXPECT_EQ(tg::float_to_float16_bits(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(tg::float_to_float16_bits(std::ldexp(1.0f, -26)), 0x0000);  // underflows to zero
  EXPECT_EQ(tg::float_to_bfloat16_bits(1.0f), 0x3F80);
  EXPECT_EQ(tg::float_to_bfloat16_bits(0.9994f), 0x3F80);  // why 16-bit weights need float32 master copies
  EXPECT_EQ(tg::float_to_bfloat16_bits(std::numeric_limits<float>::max()), 0x7F80);  // overflows to infinity
  EXPECT_TRUE(std::isnan(tg::bfloat16_bits_to_float(tg::float_to_bfloat16_bits(NAN))));
  EXPECT_TRUE(std::isnan(tg::float16_bits_to_float(tg::float_to_float16_bits(-NAN))));
}

TEST(HalfPromotion, FollowsPyTorch) {
  using D = DType;
  EXPECT_EQ(tg::promote_types(D::BFloat16, D::Float16), D::Float32);
  EXPECT_EQ(tg::promote_types(D::Float16, D::BFloat16), D::Float32);
  EXPECT_EQ(tg::promote_types(D::BFloat16, D::Float32), D::Float32);
  EXPECT_EQ(tg::promote_types(D::Float64, D::Float16), D::Float64);
  EXPECT_EQ(tg::promote_types(D::Int64, D::BFloat16), D::BFloat16);
  EXPECT_EQ(tg::promote_types(D::Float16, D::Bool), D::Float16);
  EXPECT_EQ(tg::promote_types(D::Float16, D::Float16), D::Float16);
  EXPECT_TRUE(tg::is_floating(D::BFloat16) && tg::is_floating(D::Float16) && !tg::is_floating(D::Int64));
  EXPECT_EQ(tg::itemsize(D::BFloat16), 2u);
  EXPECT_EQ(tg::itemsize(D::Float16), 2u);
  EXPECT_STREQ(tg::dtype_name(D::BFloat16), "bfloat16");
  EXPECT_STREQ(tg::dtype_name(D::Float16), "float16");
  // A Python float with a 16-bit tensor keeps the tensor's dtype; an int64 tensor with one becomes it.
  const tg::Tensor h = tg::ones({2}, D::Float16);
  EXPECT_EQ((h * 2.5).dtype(), D::Float16);
  EXPECT_EQ((h + tg::ones({2}, D::Int64)).dtype(), D::Float16);
  EXPECT_EQ((h + tg::ones({2}, D::BFloat16)).dtype(), D::Float32);
}

TEST(HalfTensors, CastPrintItemAndFactories) {
  const tg::Tensor x = tg::from_vector<float>({1.0f, 0.1f, -3.0f, 70000.0f});
  const tg::Tensor b = x.to(DType::BFloat16), h = x.to(DType::Float16);
  EXPECT_EQ(b.dtype(), DType::BFloat16);
  EXPECT_EQ(tg::itemsize(b.dtype()), 2u);
  EXPECT_EQ(b.to(DType::Float32).to_vector<float>(), (std::vector<float>{1.0f, 0.10009765625f, -3.0f, 70144.0f}));
  EXPECT_EQ(h.to(DType::Float32).to_vector<float>(), (std::vector<float>{1.0f, 0.0999755859375f, -3.0f, INFINITY}));
  EXPECT_EQ(h.to(DType::Float64).to_vector<double>()[1], 0.0999755859375);
  EXPECT_EQ(h.slice(0, 1, 2).item(), 0.0999755859375);
  std::ostringstream os;
  os << b;
  EXPECT_NE(os.str().find("bfloat16"), std::string::npos) << os.str();
  EXPECT_EQ(tg::full({3}, 0.1, DType::BFloat16).to(DType::Float32).to_vector<float>()[2], 0.10009765625f);
  EXPECT_EQ(tg::arange(0, 5, 1, DType::Float16).to(DType::Float32).to_vector<float>(),
            (std::vector<float>{0, 1, 2, 3, 4}));
  const tg::Tensor r = tg::randn({1000}, DType::BFloat16);
  EXPECT_EQ(r.dtype(), DType::BFloat16);
  EXPECT_NEAR(tg::mean(r.to(DType::Float32)).item(), 0.0, 0.15);
}

TEST(HalfTensors, GradientsKeepTheParameterDtype) {
  for (DType d : {DType::BFloat16, DType::Float16}) {
    tg::Generator gen(3);
    const tg::Tensor w = tg::randn({3, 4}, d, gen).requires_grad_(true);
    const tg::Tensor x = tg::randn({5, 4}, d, gen);
    const tg::Tensor loss = tg::sum(tg::relu(tg::matmul(x, w.transpose(0, 1))));
    EXPECT_EQ(loss.dtype(), d);
    loss.backward();
    ASSERT_TRUE(w.grad().defined());
    EXPECT_EQ(w.grad().dtype(), d);
    // The gradient against float64 from the same (rounded) values: sum over rows of relu'(xw^T) x.
    const tg::Tensor w64 = w.detach().to(DType::Float64).requires_grad_(true);
    tg::sum(tg::relu(tg::matmul(x.to(DType::Float64), w64.transpose(0, 1)))).backward();
    const std::string diff = tgtest::compare(tgtest::to_ref(w.grad()), tgtest::to_ref(w64.grad()), {0.02, 0.05});
    EXPECT_TRUE(diff.empty()) << tg::dtype_name(d) << ": " << diff;
  }
}

}  // namespace

namespace {

// The 16-bit GEMM converts A and B while packing: every layout it packs (row-major and transposed operands, a k
// deeper than one converted block, edge tiles, a batch) and the fused bias, against float64 products of the
// same rounded values.
TEST(HalfTensors, MatmulAndLinearMatchFloat64) {
  tg::Generator gen(9);
  for (DType d : {DType::BFloat16, DType::Float16}) {
    for (int64_t k : {7, 300}) {
      const tg::Tensor a = tg::randn({2, 37, k}, d, gen), at = tg::randn({2, k, 37}, d, gen).transpose(1, 2);
      const tg::Tensor b = tg::randn({k, 53}, d, gen), bt = tg::randn({53, k}, d, gen).transpose(0, 1);
      const tg::Tensor bias = tg::randn({53}, d, gen);
      for (const auto& [x, w] : {std::pair{a, b}, std::pair{at, bt}, std::pair{a, bt}}) {
        const tg::Tensor want = tg::matmul(x.to(DType::Float64), w.to(DType::Float64));
        const tg::Tensor got = tg::matmul(x, w);
        ASSERT_EQ(got.dtype(), d);
        // Sums of k products of N(0, 1) values: float32 accumulation, then one rounding to the format.
        const double tol = (d == DType::BFloat16 ? 0x1p-8 : 0x1p-11) * 2 * std::sqrt(static_cast<double>(k));
        std::string diff = tgtest::compare(tgtest::to_ref(got), tgtest::to_ref(want), {tol, tol});
        EXPECT_TRUE(diff.empty()) << tg::dtype_name(d) << " k=" << k << ": " << diff;
        const tg::Tensor lin = tg::linear(x, w.transpose(0, 1), bias);
        const tg::Tensor lin_want =
            tg::linear(x.to(DType::Float64), w.transpose(0, 1).to(DType::Float64), bias.to(DType::Float64));
        diff = tgtest::compare(tgtest::to_ref(lin), tgtest::to_ref(lin_want), {tol, tol});
        EXPECT_TRUE(diff.empty()) << tg::dtype_name(d) << " linear k=" << k << ": " << diff;
      }
    }
  }
}

}  // namespace

namespace {

// A bfloat16 model end to end: Module::to casts it in place, the forward, backward and an AdamW step with master
// weights run in bfloat16, and the loss of a small regression falls as it does in float32.
TEST(HalfTraining, BFloat16MlpLearnsWithMasterWeights) {
  auto make = [] {
    tg::Generator gen(21);
    auto model = std::make_shared<tg::nn::Sequential>();
    model->push_back(std::make_shared<tg::nn::Linear>(8, 32, tg::nn::LinearOptions{}, gen));
    model->push_back(std::make_shared<tg::nn::ReLU>());
    model->push_back(std::make_shared<tg::nn::Linear>(32, 1, tg::nn::LinearOptions{}, gen));
    return model;
  };
  tg::Generator data(4);
  const tg::Tensor x = tg::randn({256, 8}, DType::Float32, data);
  const tg::Tensor y = tg::sum(x * x, {1}, true) / 8.0;  // a smooth non-linear target
  double final_loss[2] = {0, 0}, first_loss[2] = {0, 0};
  for (int run = 0; run < 2; ++run) {
    const DType d = run == 0 ? DType::Float32 : DType::BFloat16;
    auto model = make();
    model->to(d);
    for (const auto& [name, p] : model->named_parameters()) {
      EXPECT_EQ(p.dtype(), d) << name;
      EXPECT_TRUE(p.requires_grad()) << name;
    }
    tg::optim::AdamW opt(model->parameters(), tg::optim::AdamWOptions{.lr = 1e-2, .master_weights = true});
    const tg::Tensor xd = x.to(d), yd = y.to(d);
    for (int step = 0; step < 200; ++step) {
      opt.zero_grad();
      const tg::Tensor loss = tg::mse_loss((*model)(xd), yd);
      ASSERT_EQ(loss.dtype(), d);
      loss.backward();
      for (const auto& p : model->parameters()) ASSERT_EQ(p.grad().dtype(), d);
      opt.step();
      if (step == 0) first_loss[run] = loss.item();
      final_loss[run] = loss.item();
    }
  }
  EXPECT_LT(final_loss[0], 0.1 * first_loss[0]);
  EXPECT_LT(final_loss[1], 0.1 * first_loss[1]) << "bfloat16 with master weights";
  EXPECT_LT(final_loss[1], 3 * final_loss[0] + 0.01) << "bfloat16 ends near float32";
  // Module::to only takes floating dtypes.
  EXPECT_THROW(make()->to(DType::Int64), tg::Error);
}

}  // namespace
