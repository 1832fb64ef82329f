// read_audio / write_wav / resample: a WAV round trip, channel mixing, resampling a sine, and each bad file
// named in its error (missing, a directory, not audio, empty, truncated).
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <string>

#include <gtest/gtest.h>

#include <tensorgrad/audio/audio_file.h>
#include <tensorgrad/tensorgrad.h>

#include "../support/expect_error.h"

namespace {

using tg::DType;
using tg::Tensor;
namespace audio = tg::audio;
namespace fs = std::filesystem;

class AudioFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tg_audio_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

 private:
  fs::path dir_;
};

Tensor sine(double hz, int64_t rate, int64_t n, double amplitude = 0.5) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    v[static_cast<size_t>(i)] = static_cast<float>(amplitude * std::sin(2 * std::numbers::pi * hz * static_cast<double>(i) / static_cast<double>(rate)));
  return tg::from_vector<float>(v);
}

TEST_F(AudioFile, WavRoundTripKeepsSixteenBitValues) {
  const Tensor x = sine(440, 16000, 1600);
  audio::write_wav(path("a.wav"), x, 16000);
  const audio::Audio a = audio::read_audio(path("a.wav"), 0);
  EXPECT_EQ(a.sample_rate, 16000);
  ASSERT_EQ(a.samples.shape(), x.shape());
  EXPECT_LT(tg::max(tg::abs(a.samples - x)).item(), 1.0 / 32768 + 1e-7);  // 16-bit quantisation
  EXPECT_FALSE(fs::exists(path("a.wav.tmp")));
}

TEST_F(AudioFile, ResamplesToTheRequestedRate) {
  // A 1 kHz sine at 22050 Hz read at 16 kHz is a 1 kHz sine at 16 kHz (away from the filter's edge effects).
  audio::write_wav(path("s.wav"), sine(1000, 22050, 22050), 22050);
  const audio::Audio a = audio::read_audio(path("s.wav"));
  EXPECT_EQ(a.sample_rate, 16000);
  EXPECT_EQ(a.samples.numel(), 16000);
  const Tensor want = sine(1000, 16000, 16000);
  const Tensor middle = tg::narrow(a.samples - want, 0, 1000, 14000);
  EXPECT_LT(tg::max(tg::abs(middle)).item(), 2e-3);
  EXPECT_EQ(audio::resample(want, 16000, 16000).numel(), 16000);
  EXPECT_EQ(audio::resample(want, 16000, 8000).numel(), 8000);
}

TEST_F(AudioFile, ErrorsNameTheFileAndTheProblem) {
  EXPECT_TG_ERROR(audio::read_audio(path("missing.wav")), "missing.wav", "no such file");
  fs::create_directories(path("dir.wav"));
  EXPECT_TG_ERROR(audio::read_audio(path("dir.wav")), "dir.wav", "is a directory");
  std::ofstream(path("text.wav")) << "this is not audio at all, just some text in a file named .wav\n";
  EXPECT_TG_ERROR(audio::read_audio(path("text.wav")), "text.wav", "not a sound file");
  audio::write_wav(path("empty.wav"), tg::zeros({0}), 16000);
  EXPECT_TG_ERROR(audio::read_audio(path("empty.wav")), "empty.wav", "no samples");
  // A WAV whose data chunk was cut short: the header still declares every sample.
  audio::write_wav(path("cut.wav"), sine(440, 16000, 8000), 16000);
  fs::resize_file(path("cut.wav"), fs::file_size(path("cut.wav")) - 4000);
  EXPECT_TG_ERROR(audio::read_audio(path("cut.wav")), "cut.wav", "truncated");
  EXPECT_TG_ERROR(audio::write_wav(path("x.wav"), tg::zeros({2, 3}), 16000), "1-D");
}

}  // namespace
