// normalize_per_feature and spec_augment: moments after normalising, masks inside each example's frames,
// the same masks from the same generator state, and errors.
#include <cmath>

#include <gtest/gtest.h>

#include <tensorgrad/audio/augment.h>
#include <tensorgrad/tensorgrad.h>

#include "../support/expect_error.h"

namespace {

using tg::DType;
using tg::Tensor;
namespace audio = tg::audio;

TEST(AudioAugment, NormalizePerFeatureGivesZeroMeanUnitStd) {
  tg::Generator gen(1);
  const Tensor x = tg::randn({50, 6}, DType::Float64, gen) * 3.0 + 7.0;
  const Tensor y = audio::normalize_per_feature(x, 0.0);
  EXPECT_LT(tg::max(tg::abs(tg::mean(y, {0}))).item(), 1e-12);
  const Tensor var = tg::sum(y * y, {0}) / 49.0;
  EXPECT_LT(tg::max(tg::abs(var - 1.0)).item(), 1e-12);
  EXPECT_EQ(tg::max(tg::abs(audio::normalize_per_feature(tg::ones({5, 2})))).item(), 0.0);  // constant bins -> 0
  EXPECT_TG_ERROR(audio::normalize_per_feature(tg::ones({5})), "[frames, bins]");
}

TEST(AudioAugment, SpecAugmentMasksStayInsideRealFrames) {
  const Tensor x = tg::ones({3, 40, 20}, DType::Float32);
  const Tensor lengths = tg::from_vector<int64_t>({40, 25, 10});
  audio::SpecAugmentOptions o;
  o.freq_masks = 2;
  o.freq_width = 5;
  o.time_masks = 3;
  o.time_width = 0.2;
  tg::Generator g1(9), g2(9), g3(10);
  const Tensor a = audio::spec_augment(x, o, g1, lengths);
  const Tensor b = audio::spec_augment(x, o, g2, lengths);
  const Tensor c = audio::spec_augment(x, o, g3, lengths);
  EXPECT_EQ(tg::max(tg::abs(a - b)).item(), 0.0);
  EXPECT_GT(tg::max(tg::abs(a - c)).item(), 0.0);
  // Padded frames (past each length) are untouched; some real entries are masked.
  const auto v = a.to_vector<float>();
  int64_t masked = 0;
  for (int64_t n = 0; n < 3; ++n)
    for (int64_t t = 0; t < 40; ++t)
      for (int64_t f = 0; f < 20; ++f) {
        const float e = v[static_cast<size_t>((n * 40 + t) * 20 + f)];
        if (t >= lengths.to_vector<int64_t>()[static_cast<size_t>(n)]) {
          EXPECT_EQ(e, 1.0f);
        }
        masked += e == 0.0f;
      }
  EXPECT_GT(masked, 0);
  EXPECT_EQ(tg::max(tg::abs(x - 1.0)).item(), 0.0);  // the input is not modified
  EXPECT_TG_ERROR(audio::spec_augment(tg::ones({4}), o, g1), "[frames, bins]");
}

}  // namespace
