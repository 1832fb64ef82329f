// Manifests, cached features and length-bucketed batches (dataset.h).
#include "dataset.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include <tensorgrad/audio/audio_file.h>
#include <tensorgrad/audio/augment.h>
#include <tensorgrad/base/error.h>
#include <tensorgrad/io/safetensors.h>
#include <tensorgrad/tensorgrad.h>

#include "vocabulary.h"

namespace tg::asr {

namespace fs = std::filesystem;

std::vector<Utterance> read_manifest(const std::string& path) {
  std::ifstream in(path);
  TG_CHECK(in.good(), "tg_asr: ", path, ": cannot open the manifest");
  std::vector<Utterance> out;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      const auto j = nlohmann::json::parse(line);
      Utterance u;
      u.file = j.at("file").get<std::string>();
      u.seconds = j.value("seconds", 0.0);
      u.text = j.at("text").get<std::string>();
      u.voice = j.value("voice", "");
      out.push_back(std::move(u));
    } catch (const std::exception& e) {
      TG_FAIL("tg_asr: ", path, ":", number, ": not a manifest line (", e.what(), ")");
    }
  }
  return out;
}

audio::FbankOptions feature_options() {
  audio::FbankOptions o;
  o.num_mel_bins = 80;
  return o;
}

Tensor features_of_file(const std::string& path) {
  const audio::Audio a = audio::read_audio(path, 16000);
  const Tensor f = audio::fbank(a.samples, feature_options());
  TG_CHECK(f.size(0) > 0, "tg_asr: ", path, ": shorter than one 25 ms frame");
  return audio::normalize_per_feature(f);
}

namespace {

std::string options_key() {
  const audio::FbankOptions o = feature_options();
  return "fbank bins=" + std::to_string(o.num_mel_bins) + " len=" + std::to_string(o.frame_length_ms) +
         " shift=" + std::to_string(o.frame_shift_ms) + " povey preemph=0.97 per_feature";
}

std::string manifest_key(const std::string& manifest) {
  const std::string bytes = [&] {
    std::ifstream in(manifest, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  return std::to_string(std::hash<std::string>{}(bytes)) + ":" + std::to_string(bytes.size());
}

}  // namespace

FeatureSet load_features(const std::string& manifest, int threads, std::FILE* log) {
  const std::vector<Utterance> utterances = read_manifest(manifest);
  const fs::path base = fs::path(manifest).parent_path();
  const std::string cache = manifest + ".features.safetensors";
  const std::string key = manifest_key(manifest) + " " + options_key();
  FeatureSet set;
  if (fs::exists(cache)) {
    try {
      const SafetensorsFile file = load_safetensors(cache);
      if (file.metadata.count("key") != 0 && file.metadata.at("key") == key) {
        const int64_t n = std::stoll(file.metadata.at("count"));
        for (int64_t i = 0; i < n; ++i) {
          set.features.push_back(file.tensors.at("features." + std::to_string(i)));
          set.texts.push_back(file.metadata.at("text." + std::to_string(i)));
          set.targets.push_back(encode(set.texts.back()));
          set.total_frames += set.features.back().size(0);
        }
        return set;
      }
    } catch (const std::exception& e) {
      if (log != nullptr) std::fprintf(log, "tg_asr: %s: not a usable cache (%s); recomputing\n", cache.c_str(), e.what());
    }
    set = {};
  }
  std::vector<Tensor> features(utterances.size());
  std::vector<std::string> errors(utterances.size());
  std::atomic<size_t> next{0}, done{0};
  auto work = [&] {
    for (size_t i = next++; i < utterances.size(); i = next++) {
      const fs::path file = fs::path(utterances[i].file).is_absolute() ? fs::path(utterances[i].file) : base / utterances[i].file;
      try {
        encode(utterances[i].text);  // a bad transcript is a bad utterance too
        features[i] = features_of_file(file.string());
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
      const size_t d = ++done;
      if (log != nullptr && utterances.size() >= 10 && d % (utterances.size() / 10) == 0)
        std::fprintf(log, "features: %s %zu / %zu\n", fs::path(manifest).filename().c_str(), d, utterances.size());
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::max(threads, 1); ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  StateDict tensors;
  std::map<std::string, std::string> metadata{{"key", key}};
  for (size_t i = 0; i < utterances.size(); ++i) {
    if (!errors[i].empty()) {
      if (log != nullptr) std::fprintf(log, "tg_asr: skipped %s\n", errors[i].c_str());
      continue;
    }
    const std::string id = std::to_string(set.features.size());
    tensors["features." + id] = features[i];
    metadata["text." + id] = utterances[i].text;
    set.features.push_back(features[i]);
    set.texts.push_back(utterances[i].text);
    set.targets.push_back(encode(utterances[i].text));
    set.total_frames += features[i].size(0);
  }
  metadata["count"] = std::to_string(set.features.size());
  TG_CHECK(!set.features.empty(), "tg_asr: ", manifest, ": no utterance could be read");
  save_safetensors(cache, tensors, metadata);
  return set;
}

std::vector<std::vector<size_t>> make_batches(const FeatureSet& set, int64_t max_frames, uint64_t seed, int64_t epoch,
                                              bool shuffle) {
  std::vector<size_t> order(set.features.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return set.features[a].size(0) < set.features[b].size(0); });
  std::vector<std::vector<size_t>> batches;
  std::vector<size_t> current;
  for (size_t i : order) {
    const int64_t longest = set.features[i].size(0);  // sorted: the newest is the longest
    if (!current.empty() && static_cast<int64_t>(current.size() + 1) * longest > max_frames) {
      batches.push_back(std::move(current));
      current.clear();
    }
    current.push_back(i);
  }
  if (!current.empty()) batches.push_back(std::move(current));
  if (shuffle) {
    std::mt19937_64 rng(seed * 1000003u + static_cast<uint64_t>(epoch));
    std::shuffle(batches.begin(), batches.end(), rng);
  }
  return batches;
}

Batch collate(const FeatureSet& set, const std::vector<size_t>& indices) {
  const auto N = static_cast<int64_t>(indices.size());
  int64_t T = 0, S = 1;
  for (size_t i : indices) {
    T = std::max(T, set.features[i].size(0));
    S = std::max(S, static_cast<int64_t>(set.targets[i].size()));
  }
  const int64_t F = set.features[indices[0]].size(1);
  Batch b;
  b.features = zeros({N, T, F}, DType::Float32);
  std::vector<int64_t> lengths, target_lengths, targets(static_cast<size_t>(N * S), 0);
  float* dst = static_cast<float*>(b.features.data_ptr());
  for (int64_t n = 0; n < N; ++n) {
    const size_t i = indices[static_cast<size_t>(n)];
    const Tensor& f = set.features[i];
    const Tensor fc = f.contiguous();
    std::copy_n(static_cast<const float*>(fc.data_ptr()), fc.numel(), dst + n * T * F);
    lengths.push_back(f.size(0));
    b.frames += f.size(0);
    target_lengths.push_back(static_cast<int64_t>(set.targets[i].size()));
    std::copy(set.targets[i].begin(), set.targets[i].end(), targets.begin() + n * S);
  }
  b.lengths = from_vector<int64_t>(lengths);
  b.target_lengths = from_vector<int64_t>(target_lengths);
  b.targets = from_vector<int64_t>(targets, {N, S});
  return b;
}

}  // namespace tg::asr
