// Kaldi-compatible log-mel filterbank (fbank.h), in double throughout; one real FFT per frame (FFTW, planned
// once per call with FFTW_ESTIMATE: no timing runs, the same plan every time).
#include <tensorgrad/audio/fbank.h>

#include <fftw3.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <memory>
#include <mutex>
#include <numbers>
#include <vector>

#include <tensorgrad/base/error.h>
#include <tensorgrad/ops/creation.h>

namespace tg::audio {

namespace {

struct Geometry {
  int64_t window = 0, shift = 0, padded = 0;
};

Geometry geometry(const FbankOptions& o) {
  TG_CHECK(o.sample_rate > 0, "tg::audio::fbank: sample_rate must be positive, got ", o.sample_rate);
  Geometry g;
  g.shift = static_cast<int64_t>(o.sample_rate * o.frame_shift_ms * 0.001);
  g.window = static_cast<int64_t>(o.sample_rate * o.frame_length_ms * 0.001);
  TG_CHECK(g.shift > 0, "tg::audio::fbank: frame_shift_ms ", o.frame_shift_ms, " is under one sample");
  TG_CHECK(g.window >= 2, "tg::audio::fbank: frame_length_ms ", o.frame_length_ms, " gives fewer than 2 samples");
  g.padded = g.window;
  if (o.round_to_power_of_two)
    for (g.padded = 1; g.padded < g.window; g.padded *= 2) {
    }
  TG_CHECK(g.padded % 2 == 0, "tg::audio::fbank: the FFT size ", g.padded,
           " must be even (use round_to_power_of_two or change frame_length_ms)");
  TG_CHECK(o.num_mel_bins > 3, "tg::audio::fbank: num_mel_bins must be > 3, got ", o.num_mel_bins);
  TG_CHECK(o.preemphasis >= 0 && o.preemphasis <= 1, "tg::audio::fbank: preemphasis must be in [0, 1], got ",
           o.preemphasis);
  TG_CHECK(o.dither >= 0, "tg::audio::fbank: dither must be >= 0, got ", o.dither);
  return g;
}

int64_t frame_count(int64_t samples, const Geometry& g, bool snip_edges) {
  if (snip_edges) return samples < g.window ? 0 : 1 + (samples - g.window) / g.shift;
  return (samples + g.shift / 2) / g.shift;
}

std::vector<double> window_function(Window type, int64_t n) {
  std::vector<double> w(static_cast<size_t>(n));
  const double a = 2 * std::numbers::pi / static_cast<double>(n - 1);
  for (int64_t i = 0; i < n; ++i) {
    const double hann = 0.5 - 0.5 * std::cos(a * static_cast<double>(i));
    double v = 1.0;
    switch (type) {
      case Window::Povey: v = std::pow(hann, 0.85); break;
      case Window::Hann: v = hann; break;
      case Window::Hamming: v = 0.54 - 0.46 * std::cos(a * static_cast<double>(i)); break;
      case Window::Rectangular: v = 1.0; break;
    }
    w[static_cast<size_t>(i)] = v;
  }
  return w;
}

double mel(double hz) { return 1127.0 * std::log(1.0 + hz / 700.0); }

// banks[b * bins + k]: the weight of FFT bin k (of padded / 2, the Nyquist bin excluded) in mel bin b.
std::vector<double> mel_banks(const FbankOptions& o, int64_t padded) {
  const double nyquist = 0.5 * o.sample_rate;
  const double high = o.high_freq <= 0 ? o.high_freq + nyquist : o.high_freq;
  TG_CHECK(o.low_freq >= 0 && o.low_freq < nyquist && high > 0 && high <= nyquist && o.low_freq < high,
           "tg::audio::fbank: bad frequency range: low_freq ", o.low_freq, ", high_freq ", high, " (Nyquist ",
           nyquist, ")");
  const int64_t bins = padded / 2, nb = o.num_mel_bins;
  const double lo = mel(o.low_freq), delta = (mel(high) - lo) / static_cast<double>(nb + 1);
  const double bin_width = o.sample_rate / static_cast<double>(padded);
  std::vector<double> banks(static_cast<size_t>(nb * bins));
  for (int64_t b = 0; b < nb; ++b) {
    const double left = lo + static_cast<double>(b) * delta, center = left + delta, right = center + delta;
    for (int64_t k = 0; k < bins; ++k) {
      const double m = mel(bin_width * static_cast<double>(k));
      const double up = (m - left) / (center - left), down = (right - m) / (right - center);
      banks[static_cast<size_t>(b * bins + k)] = std::max(0.0, std::min(up, down));
    }
  }
  return banks;
}

// FFTW's planner is not thread-safe: plans are made under one lock (executing them is).
std::mutex& planner_mutex() {
  static std::mutex m;
  return m;
}

struct Fft {
  explicit Fft(int64_t n) : n_(n) {
    in_ = static_cast<double*>(fftw_malloc(sizeof(double) * static_cast<size_t>(n)));
    out_ = static_cast<fftw_complex*>(fftw_malloc(sizeof(fftw_complex) * static_cast<size_t>(n / 2 + 1)));
    TG_CHECK(in_ != nullptr && out_ != nullptr, "tg::audio::fbank: out of memory for an FFT of ", n);
    std::lock_guard<std::mutex> lock(planner_mutex());
    plan_ = fftw_plan_dft_r2c_1d(static_cast<int>(n), in_, out_, FFTW_ESTIMATE);
    TG_CHECK(plan_ != nullptr, "tg::audio::fbank: FFTW could not plan a real FFT of ", n);
  }
  ~Fft() {
    {
      std::lock_guard<std::mutex> lock(planner_mutex());
      if (plan_ != nullptr) fftw_destroy_plan(plan_);
    }
    fftw_free(in_);
    fftw_free(out_);
  }
  Fft(const Fft&) = delete;
  Fft& operator=(const Fft&) = delete;
  double* input() { return in_; }
  // |X_k|^2 (or |X_k|) for k < n / 2 after the transform.
  void spectrum(bool power, std::vector<double>& out) {
    fftw_execute(plan_);
    for (int64_t k = 0; k < n_ / 2; ++k) {
      const double re = out_[k][0], im = out_[k][1], p = re * re + im * im;
      out[static_cast<size_t>(k)] = power ? p : std::sqrt(p);
    }
  }

 private:
  int64_t n_;
  double* in_ = nullptr;
  fftw_complex* out_ = nullptr;
  fftw_plan plan_ = nullptr;
};

}  // namespace

int64_t fbank_frames(int64_t samples, const FbankOptions& options) {
  return frame_count(samples, geometry(options), options.snip_edges);
}

Tensor fbank(const Tensor& waveform, const FbankOptions& o, Generator& gen) {
  TG_CHECK(waveform.defined() && waveform.dim() == 1 && (waveform.dtype() == DType::Float32 ||
                                                         waveform.dtype() == DType::Float64),
           "tg::audio::fbank: waveform must be a 1-D float32 or float64 tensor [samples], got ",
           waveform.defined() ? dtype_name(waveform.dtype()) : "undefined", " ",
           waveform.defined() ? waveform.shape() : Shape{});
  TG_CHECK(waveform.device().type == DeviceType::CPU, "tg::audio::fbank: the waveform must be on the CPU");
  const Geometry g = geometry(o);
  const Tensor x64 = waveform.to(DType::Float64).contiguous();
  const double* x = static_cast<const double*>(x64.data_ptr());
  const int64_t n = x64.numel(), frames = frame_count(n, g, o.snip_edges);
  Tensor out = Tensor::empty({frames, o.num_mel_bins}, DType::Float64);
  if (frames == 0) return out.to(waveform.dtype());

  // Without snip_edges, frame f is centred at f * shift + shift / 2, the signal reflected at both ends
  // (torchaudio's [2 1 0 | 0 1 2 ... n-1 | n-1 n-2 ...]).
  const int64_t start_offset = o.snip_edges ? 0 : g.shift / 2 - g.window / 2;
  auto sample = [&](int64_t i) {
    if (i < 0) i = -i - 1;
    if (i >= n) i = 2 * n - 1 - i;
    return x[std::clamp<int64_t>(i, 0, n - 1)];
  };
  Tensor noise;
  if (o.dither > 0) noise = tg::randn({frames, g.window}, DType::Float64, gen).contiguous();
  const double* eps_noise = noise.defined() ? static_cast<const double*>(noise.data_ptr()) : nullptr;

  const std::vector<double> window = window_function(o.window, g.window);
  const std::vector<double> banks = mel_banks(o, g.padded);
  const int64_t bins = g.padded / 2;
  Fft fft(g.padded);
  std::vector<double> frame(static_cast<size_t>(g.window)), spectrum(static_cast<size_t>(bins));
  double* result = static_cast<double*>(out.data_ptr());
  for (int64_t f = 0; f < frames; ++f) {
    const int64_t begin = f * g.shift + start_offset;
    for (int64_t i = 0; i < g.window; ++i) {
      double v = sample(begin + i);
      if (eps_noise != nullptr) v += o.dither * eps_noise[f * g.window + i];
      frame[static_cast<size_t>(i)] = v;
    }
    if (o.remove_dc_offset) {
      double mean = 0;
      for (double v : frame) mean += v;
      mean /= static_cast<double>(g.window);
      for (double& v : frame) v -= mean;
    }
    if (o.preemphasis != 0) {
      for (int64_t i = g.window - 1; i > 0; --i) frame[static_cast<size_t>(i)] -= o.preemphasis * frame[static_cast<size_t>(i - 1)];
      frame[0] -= o.preemphasis * frame[0];
    }
    double* in = fft.input();
    for (int64_t i = 0; i < g.window; ++i) in[i] = frame[static_cast<size_t>(i)] * window[static_cast<size_t>(i)];
    for (int64_t i = g.window; i < g.padded; ++i) in[i] = 0.0;
    fft.spectrum(o.use_power, spectrum);
    for (int64_t b = 0; b < o.num_mel_bins; ++b) {
      double e = 0;
      const double* w = banks.data() + b * bins;
      for (int64_t k = 0; k < bins; ++k) e += w[k] * spectrum[static_cast<size_t>(k)];
      result[f * o.num_mel_bins + b] = o.use_log ? std::log(std::max(e, static_cast<double>(FLT_EPSILON))) : e;
    }
  }
  return out.to(waveform.dtype());
}

}  // namespace tg::audio
