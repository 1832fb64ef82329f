#pragma once
// Log-mel filterbank features, Kaldi's compute-fbank-feats as torchaudio.compliance.kaldi.fbank computes it:
// frames of frame_length ms every frame_shift ms (only whole frames with snip_edges, else frames centred
// every shift with the ends reflected), optional dither, each frame's mean removed, pre-emphasis
// (x[i] -= c x[i-1], x[-1] = x[0]), a window (Povey: Hann^0.85, Hann or Hamming, all symmetric), zero
// padding to a power of two, the power spectrum (FFTW), triangular filters equally spaced on Kaldi's mel scale
// 1127 ln(1 + f / 700) between low_freq and high_freq, and log(max(energy, FLT_EPSILON)).
// The same options give torchaudio's values (tests/audio/fbank_test.cpp: within 1e-9 in float64 and 1e-3
// absolute in float32 on speech, against reference values made by tests/reference/make_fbank_reference.py).
#include <cstdint>

#include <tensorgrad/core/random.h>
#include <tensorgrad/core/tensor.h>

namespace tg::audio {

enum class Window { Povey, Hann, Hamming, Rectangular };

struct FbankOptions {
  double sample_rate = 16000;
  double frame_length_ms = 25.0;
  double frame_shift_ms = 10.0;
  int64_t num_mel_bins = 80;
  double low_freq = 20.0;
  double high_freq = 0.0;  // <= 0: that much below the Nyquist frequency
  double preemphasis = 0.97;
  bool remove_dc_offset = true;
  Window window = Window::Povey;
  double dither = 0.0;  // standard deviation of Gaussian noise added to every sample (0: none)
  bool round_to_power_of_two = true;
  bool snip_edges = true;
  bool use_power = true;  // power spectrum (else magnitude)
  bool use_log = true;
};

// waveform: 1-D float32 or float64 [samples], at options.sample_rate. Returns [frames, num_mel_bins] in the
// waveform's dtype (computed in double). Zero frames when the waveform is shorter than one frame (snip_edges).
// Dither draws from `gen`.
Tensor fbank(const Tensor& waveform, const FbankOptions& options = {}, Generator& gen = default_generator());

// The number of frames fbank gives for `samples` samples.
int64_t fbank_frames(int64_t samples, const FbankOptions& options = {});

}  // namespace tg::audio
