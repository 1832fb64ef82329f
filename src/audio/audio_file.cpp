// read_audio / write_wav / resample (audio_file.h): libsndfile for the files, libsoxr for the rates.
#include <tensorgrad/audio/audio_file.h>

#include <sndfile.h>
#include <soxr.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <vector>

#include <tensorgrad/base/error.h>
#include <tensorgrad/ops/creation.h>

namespace tg::audio {

namespace {

struct SndfileCloser {
  void operator()(SNDFILE* f) const { sf_close(f); }
};
using SndfilePtr = std::unique_ptr<SNDFILE, SndfileCloser>;

Tensor from_floats(const std::vector<float>& v) {
  Tensor t = Tensor::empty({static_cast<int64_t>(v.size())}, DType::Float32);
  std::copy(v.begin(), v.end(), static_cast<float*>(t.data_ptr()));
  return t;
}

std::vector<float> to_floats(const Tensor& samples, const char* op) {
  TG_CHECK(samples.defined() && samples.dim() == 1, op, ": samples must be a 1-D tensor [frames], got ",
           samples.defined() ? samples.shape() : Shape{});
  const Tensor f = samples.to(DType::Float32).contiguous();
  const float* p = static_cast<const float*>(f.data_ptr());
  return {p, p + f.numel()};
}

// libsndfile opens a file whose data chunk is cut short and reads what is there, noting in its log a line such
// as "data : 16000 (should be 12000)": the declared and the present byte counts. Empty when nothing was cut.
std::string truncation(SNDFILE* file) {
  std::vector<char> log(16384, '\0');
  sf_command(file, SFC_GET_LOG_INFO, log.data(), static_cast<int>(log.size()) - 1);
  const std::string text(log.data());
  for (size_t begin = 0; begin < text.size();) {
    const size_t end = std::min(text.find('\n', begin), text.size());
    const std::string line = text.substr(begin, end - begin);
    begin = end + 1;
    if (line.rfind("data", 0) != 0) continue;
    const size_t colon = line.find(':'), should = line.find("(should be ");
    if (colon == std::string::npos || should == std::string::npos) continue;
    const std::string declared = line.substr(colon + 1, should - colon - 1);
    const std::string present = line.substr(should + 11, line.find(')', should) - should - 11);
    return "its data chunk declares" + declared + "bytes, the file holds " + present;
  }
  return "";
}

}  // namespace

Audio read_audio(const std::string& path, int64_t sample_rate) {
  TG_CHECK(sample_rate >= 0, "tg::audio::read_audio: sample_rate must be >= 0 (0 keeps the file's), got ", sample_rate);
  std::error_code ec;
  TG_CHECK(std::filesystem::exists(path, ec), "tg::audio::read_audio: ", path, ": no such file");
  TG_CHECK(!std::filesystem::is_directory(path, ec), "tg::audio::read_audio: ", path, ": is a directory");
  SF_INFO info{};
  SndfilePtr file(sf_open(path.c_str(), SFM_READ, &info));
  TG_CHECK(file != nullptr, "tg::audio::read_audio: ", path, ": not a sound file libsndfile can read (",
           sf_strerror(nullptr), ")");
  TG_CHECK(info.channels > 0 && info.samplerate > 0, "tg::audio::read_audio: ", path, ": bad header (", info.channels,
           " channels at ", info.samplerate, " Hz)");
  const std::string cut = truncation(file.get());
  TG_CHECK(cut.empty(), "tg::audio::read_audio: ", path, ": truncated: ", cut);
  TG_CHECK(info.frames > 0, "tg::audio::read_audio: ", path, ": no samples (empty audio)");
  const auto channels = static_cast<size_t>(info.channels);
  std::vector<float> interleaved(static_cast<size_t>(info.frames) * channels);
  const sf_count_t got = sf_readf_float(file.get(), interleaved.data(), info.frames);
  TG_CHECK(got == info.frames, "tg::audio::read_audio: ", path, ": truncated: the header declares ", info.frames,
           " frames, the file holds ", got);
  std::vector<float> mono(static_cast<size_t>(info.frames));
  for (size_t i = 0; i < mono.size(); ++i) {
    double sum = 0;
    for (size_t c = 0; c < channels; ++c) sum += interleaved[i * channels + c];
    mono[i] = static_cast<float>(sum / static_cast<double>(channels));
  }
  Audio audio{from_floats(mono), info.samplerate};
  if (sample_rate != 0 && sample_rate != audio.sample_rate) {
    audio.samples = resample(audio.samples, audio.sample_rate, sample_rate);
    audio.sample_rate = sample_rate;
  }
  return audio;
}

void write_wav(const std::string& path, const Tensor& samples, int64_t sample_rate) {
  TG_CHECK(sample_rate > 0 && sample_rate <= (int64_t{1} << 30), "tg::audio::write_wav: ", path,
           ": sample_rate must be positive, got ", sample_rate);
  std::vector<float> data = to_floats(samples, "tg::audio::write_wav");
  for (float& v : data) v = std::clamp(v, -1.0f, 1.0f);
  const std::string temp = path + ".tmp";
  SF_INFO info{};
  info.samplerate = static_cast<int>(sample_rate);
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  {
    SndfilePtr file(sf_open(temp.c_str(), SFM_WRITE, &info));
    TG_CHECK(file != nullptr, "tg::audio::write_wav: ", path, ": cannot create ", temp, " (", sf_strerror(nullptr), ")");
    const auto n = static_cast<sf_count_t>(data.size());
    const sf_count_t written = sf_writef_float(file.get(), data.data(), n);
    if (written != n) {
      const std::string why = sf_strerror(file.get());
      file.reset();
      std::remove(temp.c_str());
      TG_FAIL("tg::audio::write_wav: ", path, ": wrote ", written, " of ", n, " samples (", why, ")");
    }
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    std::remove(temp.c_str());
    TG_FAIL("tg::audio::write_wav: ", path, ": cannot rename ", temp, " into place (", ec.message(), ")");
  }
}

Tensor resample(const Tensor& samples, int64_t from_rate, int64_t to_rate) {
  TG_CHECK(from_rate > 0 && to_rate > 0, "tg::audio::resample: rates must be positive, got ", from_rate, " -> ", to_rate);
  std::vector<float> in = to_floats(samples, "tg::audio::resample");
  if (from_rate == to_rate) return from_floats(in);
  const auto out_len = static_cast<size_t>(
      std::llround(static_cast<double>(in.size()) * static_cast<double>(to_rate) / static_cast<double>(from_rate)));
  std::vector<float> out(out_len);
  size_t done = 0;
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_VHQ, 0);
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  const soxr_error_t error = soxr_oneshot(static_cast<double>(from_rate), static_cast<double>(to_rate), 1, in.data(),
                                          in.size(), nullptr, out.data(), out.size(), &done, &io, &quality, nullptr);
  TG_CHECK(error == nullptr, "tg::audio::resample: ", from_rate, " -> ", to_rate, " Hz failed: ", error);
  out.resize(done);
  return from_floats(out);
}

}  // namespace tg::audio
