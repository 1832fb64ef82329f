// tg::audio::fbank against torchaudio 0.13's compliance.kaldi.fbank on real speech (espeak-ng, resampled to
// 16 kHz), three option sets: values from tests/reference/fbank_reference.safetensors
// (tests/reference/make_fbank_reference.py). Float64 input agrees to 1e-9; float32 input to 2e-3 absolute in
// the log domain (the float32 waveform's rounding, ~1e-7 relative, grows in low-energy bins). Also frame
// counts, dither, and errors.
#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include <tensorgrad/audio/fbank.h>
#include <tensorgrad/io/safetensors.h>
#include <tensorgrad/tensorgrad.h>

#include "../support/expect_error.h"

namespace {

using tg::DType;
using tg::Tensor;
namespace audio = tg::audio;

const tg::SafetensorsFile& reference() {
  static const tg::SafetensorsFile file = tg::load_safetensors(std::string(TG_TEST_REFERENCE_DIR) + "/fbank_reference.safetensors");
  return file;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  return tg::max(tg::abs(a.to(DType::Float64) - b.to(DType::Float64))).item();
}

struct Variant {
  const char* name;
  audio::FbankOptions options;
};

std::vector<Variant> variants() {
  audio::FbankOptions a;  // defaults, 80 bins
  audio::FbankOptions b;
  b.num_mel_bins = 40;
  b.window = audio::Window::Hann;
  b.preemphasis = 0.0;
  b.remove_dc_offset = false;
  b.snip_edges = false;
  b.low_freq = 0.0;
  b.high_freq = -400.0;
  audio::FbankOptions c;
  c.num_mel_bins = 64;
  c.window = audio::Window::Hamming;
  c.use_power = false;
  c.frame_length_ms = 20.0;
  c.frame_shift_ms = 12.5;
  return {{"fbank_a", a}, {"fbank_b", b}, {"fbank_c", c}};
}

TEST(AudioFbank, MatchesTorchaudioKaldiFbankOnSpeech) {
  const Tensor waveform = reference().tensors.at("waveform");
  for (const Variant& v : variants()) {
    const Tensor want = reference().tensors.at(v.name);
    const Tensor got64 = audio::fbank(waveform, v.options);
    ASSERT_EQ(got64.shape(), want.shape()) << v.name;
    EXPECT_EQ(got64.size(0), audio::fbank_frames(waveform.numel(), v.options)) << v.name;
    EXPECT_LT(max_abs_diff(got64, want), 1e-9) << v.name;
    const Tensor got32 = audio::fbank(waveform.to(DType::Float32), v.options);
    EXPECT_EQ(got32.dtype(), DType::Float32);
    EXPECT_LT(max_abs_diff(got32, want), 2e-3) << v.name << " from float32";
  }
}

TEST(AudioFbank, FrameCountsAndShortInput) {
  audio::FbankOptions o;
  EXPECT_EQ(audio::fbank_frames(399, o), 0);
  EXPECT_EQ(audio::fbank_frames(400, o), 1);
  EXPECT_EQ(audio::fbank_frames(16000, o), 98);
  EXPECT_EQ(audio::fbank(tg::zeros({300}, DType::Float32), o).shape(), (tg::Shape{0, 80}));
  o.snip_edges = false;
  EXPECT_EQ(audio::fbank_frames(16000, o), 100);
  // Silence: every energy at the floor, log(FLT_EPSILON).
  const Tensor silent = audio::fbank(tg::zeros({1000}, DType::Float64), audio::FbankOptions{});
  EXPECT_NEAR(tg::max(silent).item(), std::log(1.1920928955078125e-07), 1e-12);
}

TEST(AudioFbank, DitherIsSeededNoise) {
  const Tensor x = tg::zeros({4000}, DType::Float64);
  audio::FbankOptions o;
  o.dither = 0.1;
  tg::Generator g1(5), g2(5), g3(6);
  const Tensor a = audio::fbank(x, o, g1), b = audio::fbank(x, o, g2), c = audio::fbank(x, o, g3);
  EXPECT_EQ(max_abs_diff(a, b), 0.0);
  EXPECT_GT(max_abs_diff(a, c), 0.0);
  EXPECT_GT(tg::min(a).item(), std::log(1.1920928955078125e-07));  // the noise lifts silence off the floor
}

TEST(AudioFbank, Errors) {
  EXPECT_TG_ERROR(audio::fbank(tg::zeros({2, 400})), "tg::audio::fbank", "1-D");
  EXPECT_TG_ERROR(audio::fbank(tg::zeros({400}, DType::Int64)), "float32 or float64");
  audio::FbankOptions o;
  o.num_mel_bins = 3;
  EXPECT_TG_ERROR(audio::fbank(tg::zeros({400}), o), "num_mel_bins");
  o = {};
  o.low_freq = 9000;
  EXPECT_TG_ERROR(audio::fbank(tg::zeros({400}), o), "frequency range");
  o = {};
  o.round_to_power_of_two = false;
  o.frame_length_ms = 25.0625;  // 401 samples: an odd FFT
  EXPECT_TG_ERROR(audio::fbank(tg::zeros({400}), o), "must be even");
}

}  // namespace
