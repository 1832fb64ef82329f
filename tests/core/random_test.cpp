// Philox4x32-10 against the Random123 reference vectors, and the statistical and reproducibility
// guarantees of the random factories.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <tensorgrad/tensorgrad.h>

namespace {

using tg::DType;
using tg::Tensor;

// Random123 kat_vectors, philox4x32 with 10 rounds.
TEST(CoreRandom, PhiloxKnownAnswerZero) {
  const auto out = tg::philox4x32({0, 0, 0, 0}, {0, 0});
  EXPECT_EQ(out, (std::array<uint32_t, 4>{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
}

TEST(CoreRandom, PhiloxKnownAnswerAllOnes) {
  const auto out = tg::philox4x32({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, {0xffffffffu, 0xffffffffu});
  EXPECT_EQ(out, (std::array<uint32_t, 4>{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}));
}

TEST(CoreRandom, PhiloxKnownAnswerPi) {
  const auto out = tg::philox4x32({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, {0xa4093822u, 0x299f31d0u});
  EXPECT_EQ(out, (std::array<uint32_t, 4>{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}));
}

TEST(CoreRandom, GeneratorBlocksDependOnSeedAndIndexOnly) {
  tg::Generator a(123), b(123), c(124);
  EXPECT_EQ(a.block(7), b.block(7));
  EXPECT_NE(a.block(7), a.block(8));
  EXPECT_NE(a.block(7), c.block(7));
  EXPECT_EQ(a.reserve(3), 0u);
  EXPECT_EQ(a.reserve(2), 3u);
  EXPECT_EQ(a.offset(), 5u);
  EXPECT_EQ(a.block(7), b.block(7));  // reserving does not change what a block index means
}

TEST(CoreRandom, SameSeedSameNumbers) {
  tg::Generator g1(42), g2(42);
  EXPECT_EQ(tg::randn({1000}, DType::Float32, g1).to_vector<float>(),
            tg::randn({1000}, DType::Float32, g2).to_vector<float>());
  EXPECT_EQ(tg::rand({37}, DType::Float64, g1).to_vector<double>(),
            tg::rand({37}, DType::Float64, g2).to_vector<double>());
  EXPECT_EQ(tg::randint(0, 1000, {99}, g1).to_vector<int64_t>(), tg::randint(0, 1000, {99}, g2).to_vector<int64_t>());
}

TEST(CoreRandom, DifferentSeedsAndSuccessiveDrawsDiffer) {
  tg::Generator g1(1), g2(2);
  const auto a = tg::rand({1000}, DType::Float32, g1).to_vector<float>();
  const auto b = tg::rand({1000}, DType::Float32, g2).to_vector<float>();
  const auto a2 = tg::rand({1000}, DType::Float32, g1).to_vector<float>();
  int same_ab = 0, same_aa2 = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    same_ab += a[i] == b[i];
    same_aa2 += a[i] == a2[i];
  }
  EXPECT_LT(same_ab, 5);
  EXPECT_LT(same_aa2, 5);  // the generator advanced: a second draw is new numbers
  EXPECT_GT(g1.offset(), 0u);
}

TEST(CoreRandom, SavedStateReplays) {
  tg::Generator g(9);
  (void)tg::rand({10}, DType::Float32, g);
  const uint64_t offset = g.offset();
  const auto first = tg::randn({50}, DType::Float64, g).to_vector<double>();
  g.set_state(9, offset);
  EXPECT_EQ(tg::randn({50}, DType::Float64, g).to_vector<double>(), first);
}

TEST(CoreRandom, ElementDependsOnIndexNotOnDrawSize) {
  // Element i is a function of (seed, offset, i): a short draw is a prefix of a long one.
  tg::Generator g1(5), g2(5);
  const auto small = tg::rand({10}, DType::Float32, g1).to_vector<float>();
  const auto large = tg::rand({1000}, DType::Float32, g2).to_vector<float>();
  EXPECT_EQ(small, std::vector<float>(large.begin(), large.begin() + 10));
}

TEST(CoreRandom, DefaultGeneratorFollowsManualSeed) {
  // Restores the process-wide generator, so tests run in one process stay independent of order.
  struct Restore {
    uint64_t seed = tg::default_generator().seed(), offset = tg::default_generator().offset();
    ~Restore() { tg::default_generator().set_state(seed, offset); }
  } restore;
  tg::manual_seed(7);
  const auto a = tg::rand({100}).to_vector<float>();
  tg::manual_seed(7);
  const auto b = tg::rand({100}).to_vector<float>();
  EXPECT_EQ(a, b);
  EXPECT_EQ(tg::default_generator().seed(), 7u);
  tg::manual_seed(8);
  EXPECT_NE(tg::rand({100}).to_vector<float>(), a);
}

template <class T>
void expect_uniform_01(const std::vector<T>& v) {
  double sum = 0, sum_sq = 0;
  for (T x : v) {
    ASSERT_GE(x, T(0));
    ASSERT_LT(x, T(1));
    sum += static_cast<double>(x);
    sum_sq += static_cast<double>(x) * static_cast<double>(x);
  }
  const double n = static_cast<double>(v.size());
  const double mean = sum / n;
  // Standard error of the mean is sqrt(1/12 / 1e5) ~ 0.0009; 0.01 is over ten of them.
  EXPECT_NEAR(mean, 0.5, 0.01);
  EXPECT_NEAR(sum_sq / n - mean * mean, 1.0 / 12.0, 0.005);
}

TEST(CoreRandom, RandIsUniformInUnitInterval) {
  tg::Generator g(2024);
  Tensor f = tg::rand({100000}, DType::Float32, g);
  EXPECT_EQ(f.dtype(), DType::Float32);
  expect_uniform_01(f.to_vector<float>());
  Tensor d = tg::rand({1000, 100}, DType::Float64, g);
  EXPECT_EQ(d.shape(), (tg::Shape{1000, 100}));
  expect_uniform_01(d.to_vector<double>());
}

TEST(CoreRandom, RandnIsStandardNormal) {
  for (DType dtype : {DType::Float32, DType::Float64}) {
    tg::Generator g(77);
    Tensor x = tg::randn({100000}, dtype, g);
    EXPECT_EQ(x.dtype(), dtype);
    std::vector<double> v;
    if (dtype == DType::Float32) {
      for (float f : x.to_vector<float>()) v.push_back(f);
    } else {
      v = x.to_vector<double>();
    }
    double sum = 0, sum_sq = 0;
    int64_t beyond_2sigma = 0;
    for (double e : v) {
      ASSERT_TRUE(std::isfinite(e));
      sum += e;
      sum_sq += e * e;
      beyond_2sigma += std::abs(e) > 2.0;
    }
    const double n = static_cast<double>(v.size());
    const double mean = sum / n;
    EXPECT_NEAR(mean, 0.0, 0.02) << tg::dtype_name(dtype);
    EXPECT_NEAR(std::sqrt(sum_sq / n - mean * mean), 1.0, 0.02) << tg::dtype_name(dtype);
    // P(|z| > 2) = 0.0455 for a normal; a uniform or other shape would miss this.
    EXPECT_NEAR(static_cast<double>(beyond_2sigma) / n, 0.0455, 0.005) << tg::dtype_name(dtype);
  }
}

TEST(CoreRandom, RandintStaysInBoundsAndCoversThem) {
  tg::Generator g(3);
  Tensor r = tg::randint(-3, 5, {10000}, g);
  EXPECT_EQ(r.dtype(), DType::Int64);
  std::map<int64_t, int> counts;
  for (int64_t v : r.to_vector<int64_t>()) {
    ASSERT_GE(v, -3);
    ASSERT_LT(v, 5);
    ++counts[v];
  }
  ASSERT_EQ(counts.size(), 8u);
  for (const auto& [value, count] : counts) EXPECT_NEAR(count, 1250, 200) << "value " << value;
  Tensor one = tg::randint(4, 5, {20}, g);
  EXPECT_EQ(one.to_vector<int64_t>(), std::vector<int64_t>(20, 4));
}

TEST(CoreRandom, RandintRejectsEmptyRange) {
  tg::Generator g(3);
  EXPECT_THROW(tg::randint(5, 5, {2}, g), tg::Error);
  EXPECT_THROW(tg::randint(5, 1, {2}, g), tg::Error);
}

TEST(CoreRandom, UniformHelpersCoverTheUnitInterval) {
  EXPECT_EQ(tg::uniform_float(0u), 0.0f);
  EXPECT_LT(tg::uniform_float(0xffffffffu), 1.0f);
  EXPECT_EQ(tg::uniform_float(0x80000000u), 0.5f);
  EXPECT_EQ(tg::uniform_double(0u, 0u), 0.0);
  EXPECT_LT(tg::uniform_double(0xffffffffu, 0xffffffffu), 1.0);
  EXPECT_EQ(tg::uniform_double(0x80000000u, 0u), 0.5);
}

}  // namespace
