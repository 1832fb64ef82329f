#pragma once
// The corpus as the trainer sees it: manifests, log-mel features computed once and cached, and batches of
// utterances of similar length, padded, with their lengths.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <tensorgrad/audio/fbank.h>
#include <tensorgrad/core/tensor.h>

namespace tg::asr {

struct Utterance {
  std::string file;  // as written in the manifest (relative to the manifest's directory, or absolute)
  double seconds = 0;
  std::string text;
  std::string voice;
};

// One JSON object per line with file, seconds, text (voice optional). Errors name the file and line.
std::vector<Utterance> read_manifest(const std::string& path);

// The features every model here uses: 80 log-mel bins (Kaldi's fbank, 25 ms / 10 ms, Povey window).
audio::FbankOptions feature_options();

struct FeatureSet {
  std::vector<Tensor> features;  // float32 [frames, 80], normalised per feature
  std::vector<std::vector<int64_t>> targets;
  std::vector<std::string> texts;
  int64_t total_frames = 0;
};

// The features of every utterance of the manifest, from the cache <manifest>.features.safetensors when it was
// made from the same manifest with the same options, else computed (on `threads` threads) and cached. A file
// that cannot be read is reported on `log` and skipped.
FeatureSet load_features(const std::string& manifest, int threads, std::FILE* log);

// Features of one audio file (read, resampled to 16 kHz, fbank, normalised): what transcribe feeds the model.
Tensor features_of_file(const std::string& path);

struct Batch {
  Tensor features;        // float32 [N, T, 80], zero past each length
  Tensor lengths;         // int64 [N]
  Tensor targets;         // int64 [N, S], padded with 0
  Tensor target_lengths;  // int64 [N]
  int64_t frames = 0;     // real frames in the batch
};

// Utterances sorted by length and cut into batches whose padded size (N x the longest) stays under
// max_frames; the batches' order shuffled from (seed, epoch).
std::vector<std::vector<size_t>> make_batches(const FeatureSet& set, int64_t max_frames, uint64_t seed, int64_t epoch,
                                              bool shuffle = true);
Batch collate(const FeatureSet& set, const std::vector<size_t>& indices);

}  // namespace tg::asr
