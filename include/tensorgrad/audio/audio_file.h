#pragma once
// Sound files in and out (libsndfile) and resampling (libsoxr): the audio front of the speech pipeline.
//
// Samples are float32 in [-1, 1] (the scale libsndfile reads integer PCM at), one channel. Every error is a
// tg::Error that names the file and what is wrong with it.
#include <cstdint>
#include <string>

#include <tensorgrad/core/tensor.h>

namespace tg::audio {

struct Audio {
  Tensor samples;           // float32 [frames], mono
  int64_t sample_rate = 0;  // Hz
};

// Reads any format libsndfile reads (WAV / AIFF / FLAC / ... with PCM 8, 16, 24 or 32 bits or float samples),
// mixes several channels to mono (their mean), and resamples to `sample_rate` Hz unless it is 0 (keep the
// file's rate). Errors: a missing or unreadable file, one that is not a sound file, one with no samples, and a
// truncated one (fewer samples than its header declares).
Audio read_audio(const std::string& path, int64_t sample_rate = 16000);

// Writes mono float32 samples as a WAV file of 16-bit PCM (values outside [-1, 1] clipped), to a temporary
// file renamed into place, so `path` is either the old file or the complete new one.
void write_wav(const std::string& path, const Tensor& samples, int64_t sample_rate);

// Resamples float32 [frames] from one rate to another with libsoxr's very-high-quality filter (linear phase;
// the output has round(frames * to / from) samples). The same rate returns the input.
Tensor resample(const Tensor& samples, int64_t from_rate, int64_t to_rate);

}  // namespace tg::audio
