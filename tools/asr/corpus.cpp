// make_corpus (corpus.h): synthesiser processes (espeak-ng, flite) on worker threads, each utterance's
// choices from its own seeded generator, noise and gain added here, manifests written at the end.
#include "corpus.h"

#include <spawn.h>
#include <sys/wait.h>

#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include <tensorgrad/audio/audio_file.h>
#include <tensorgrad/base/error.h>
#include <tensorgrad/tensorgrad.h>

#include "grammar.h"
#include "voices.h"

extern char** environ;

namespace tg::asr {

namespace {

namespace fs = std::filesystem;
constexpr int64_t kRate = 16000;

// The whole plan of one utterance, drawn from its own generator.
struct Plan {
  Split split = Split::Train;
  Voice voice;
  std::string text;
  double speed = 1.0;   // espeak-ng words per minute / 175, or flite's 1 / duration stretch
  double pitch = 0.5;   // 0..1 of the engine's range
  double snr_db = 20;
  double gain_db = -6;  // the peak, in dB below full scale
  double lead_s = 0.1, tail_s = 0.1;
  bool pink = false;
  uint64_t noise_seed = 0;
};

uint64_t mix(uint64_t seed, uint64_t i) {  // splitmix64 of (seed, i)
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + i + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

Plan plan_of(const CorpusOptions& o, int64_t i, const std::vector<Voice> (&by_split)[3]) {
  std::mt19937_64 rng(mix(o.seed, static_cast<uint64_t>(i)));
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Plan p;
  const double r = u(rng);
  p.split = r < o.test_fraction ? Split::Test : r < o.test_fraction + o.dev_fraction ? Split::Dev : Split::Train;
  const auto& pool = by_split[static_cast<int>(p.split)];
  p.voice = pool[std::uniform_int_distribution<size_t>(0, pool.size() - 1)(rng)];
  p.text = random_sentence(rng);
  p.speed = 0.8 + 0.45 * u(rng);
  p.pitch = u(rng);
  p.snr_db = 8 + 27 * u(rng);
  p.gain_db = -16 + 15 * u(rng);
  p.lead_s = 0.05 + 0.35 * u(rng);
  p.tail_s = 0.05 + 0.35 * u(rng);
  p.pink = u(rng) < 0.5;
  p.noise_seed = rng();
  return p;
}

// Runs argv[0] with the arguments, its output discarded; the exit status ("" when it succeeded).
std::string run(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int err = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) return args[0] + " could not start (" + std::strerror(err) + "; is it installed?)";
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return args[0] + ": waitpid failed";
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return args[0] + " failed (status " + std::to_string(status) + ")";
  return "";
}

std::vector<std::string> synthesiser_command(const Plan& p, const std::string& wav) {
  if (p.voice.engine == "espeak-ng") {
    const int wpm = static_cast<int>(std::lround(175 * p.speed));
    const int pitch = static_cast<int>(std::lround(25 + 50 * p.pitch));
    return {"espeak-ng", "-v", p.voice.name, "-s", std::to_string(wpm), "-p", std::to_string(pitch), "-w", wav, p.text};
  }
  const double f0 = 90 + 90 * p.pitch;
  return {"flite", "-voice", p.voice.name, "--setf", "duration_stretch=" + std::to_string(1.0 / p.speed), "--setf",
          "int_f0_target_mean=" + std::to_string(f0), "-t", p.text, "-o", wav};
}

// Silence around the speech, noise at the planned SNR (against the speech's mean power), then the gain.
std::vector<float> dress(const std::vector<float>& speech, const Plan& p) {
  const auto lead = static_cast<size_t>(p.lead_s * kRate), tail = static_cast<size_t>(p.tail_s * kRate);
  std::vector<float> out(lead + speech.size() + tail, 0.0f);
  std::copy(speech.begin(), speech.end(), out.begin() + static_cast<std::ptrdiff_t>(lead));
  double power = 0;
  for (float v : speech) power += static_cast<double>(v) * v;
  power /= static_cast<double>(std::max<size_t>(speech.size(), 1));
  const double noise_rms = std::sqrt(power / std::pow(10.0, p.snr_db / 10.0));
  std::mt19937_64 rng(p.noise_seed);
  std::normal_distribution<double> gauss(0.0, 1.0);
  double b0 = 0, b1 = 0, b2 = 0;  // Paul Kellet's economy pink filter
  for (float& v : out) {
    double n = gauss(rng);
    if (p.pink) {
      b0 = 0.99765 * b0 + n * 0.0990460;
      b1 = 0.96300 * b1 + n * 0.2965164;
      b2 = 0.57000 * b2 + n * 1.0526913;
      n = (b0 + b1 + b2 + n * 0.1848) * 0.25;
    }
    v += static_cast<float>(noise_rms * n);
  }
  float peak = 1e-9f;
  for (float v : out) peak = std::max(peak, std::abs(v));
  const auto scale = static_cast<float>(std::pow(10.0, p.gain_db / 20.0) / peak);
  for (float& v : out) v *= scale;
  return out;
}

struct Made {
  bool ok = false;
  double seconds = 0;
  std::string error;
};

Made make_one(const CorpusOptions& o, int64_t i, const Plan& p) {
  const std::string tmp = (fs::path(o.out_dir) / "tmp" / (std::to_string(i) + ".wav")).string();
  if (std::string why = run(synthesiser_command(p, tmp)); !why.empty()) return {false, 0, why};
  try {
    const audio::Audio a = audio::read_audio(tmp, kRate);
    fs::remove(tmp);
    const Tensor s = a.samples.contiguous();
    const float* d = static_cast<const float*>(s.data_ptr());
    const std::vector<float> dressed = dress(std::vector<float>(d, d + s.numel()), p);
    const fs::path file = fs::path(o.out_dir) / "wav" / split_name(p.split) / (std::to_string(i) + ".wav");
    audio::write_wav(file.string(), from_vector<float>(dressed), kRate);
    return {true, static_cast<double>(dressed.size()) / kRate, ""};
  } catch (const std::exception& e) {
    std::error_code ec;
    fs::remove(tmp, ec);
    return {false, 0, e.what()};
  }
}

}  // namespace

CorpusReport make_corpus(const CorpusOptions& o, std::FILE* progress) {
  TG_CHECK(!o.out_dir.empty(), "make-corpus: --out is required");
  TG_CHECK(o.hours > 0, "make-corpus: --hours must be positive, got ", o.hours);
  TG_CHECK(o.jobs >= 1, "make-corpus: --jobs must be >= 1, got ", o.jobs);
  TG_CHECK(o.dev_fraction >= 0 && o.test_fraction >= 0 && o.dev_fraction + o.test_fraction < 1,
           "make-corpus: dev and test fractions must leave some training data");
  for (const char* sub : {"tmp", "wav/train", "wav/dev", "wav/test"}) fs::create_directories(fs::path(o.out_dir) / sub);
  const std::vector<Voice> by_split[3] = {voices(Split::Train), voices(Split::Dev), voices(Split::Test)};

  const double target = o.hours * 3600.0;
  std::vector<Plan> plans;
  std::vector<Made> made;
  CorpusReport report;
  double total = 0;
  int64_t kept = 0;  // utterances [0, kept) are the corpus
  const auto start = std::chrono::steady_clock::now();
  double next_report = 0.1;
  constexpr int64_t kChunk = 64;
  int consecutive_failed_chunks = 0;
  while (total < target) {
    const auto first = static_cast<int64_t>(plans.size());
    for (int64_t i = first; i < first + kChunk; ++i) plans.push_back(plan_of(o, i, by_split));
    made.resize(plans.size());
    std::atomic<int64_t> next{first};
    std::vector<std::thread> workers;
    for (int j = 0; j < o.jobs; ++j)
      workers.emplace_back([&] {
        for (int64_t i = next++; i < first + kChunk; i = next++) made[static_cast<size_t>(i)] = make_one(o, i, plans[static_cast<size_t>(i)]);
      });
    for (std::thread& w : workers) w.join();
    int64_t ok_in_chunk = 0;
    for (int64_t i = first; i < first + kChunk && total < target; ++i) {
      kept = i + 1;
      const Made& m = made[static_cast<size_t>(i)];
      if (!m.ok) {
        report.failures.push_back("utterance " + std::to_string(i) + " (" + plans[static_cast<size_t>(i)].voice.id() + "): " + m.error);
        continue;
      }
      ++ok_in_chunk;
      total += m.seconds;
    }
    consecutive_failed_chunks = ok_in_chunk == 0 ? consecutive_failed_chunks + 1 : 0;
    TG_CHECK(consecutive_failed_chunks < 2, "make-corpus: no utterance could be made; the first error: ",
             report.failures.empty() ? std::string("?") : report.failures.front());
    if (progress != nullptr && (total >= next_report * target || total >= target)) {
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::fprintf(progress, "make-corpus: %.0f / %.0f s of audio (%3.0f%%), %lld utterances, %.1f s elapsed, ETA %.0f s\n",
                   std::min(total, target), target, 100 * std::min(total / target, 1.0), static_cast<long long>(kept),
                   elapsed, elapsed * std::max(target - total, 0.0) / std::max(total, 1e-9));
      std::fflush(progress);
      while (next_report * target <= total) next_report += 0.1;
    }
  }
  // Files made past the last kept utterance (the final chunk's tail) are not part of the corpus.
  for (auto i = kept; i < static_cast<int64_t>(plans.size()); ++i)
    if (made[static_cast<size_t>(i)].ok) {
      std::error_code ec;
      fs::remove(fs::path(o.out_dir) / "wav" / split_name(plans[static_cast<size_t>(i)].split) / (std::to_string(i) + ".wav"), ec);
    }
  std::error_code ec;
  fs::remove_all(fs::path(o.out_dir) / "tmp", ec);

  std::ofstream manifests[3];
  for (int s = 0; s < 3; ++s) {
    const fs::path path = fs::path(o.out_dir) / (std::string(split_name(static_cast<Split>(s))) + ".jsonl.tmp");
    manifests[s].open(path);
    TG_CHECK(manifests[s].good(), "make-corpus: cannot write ", path.string());
  }
  for (int64_t i = 0; i < kept; ++i) {
    const Plan& p = plans[static_cast<size_t>(i)];
    const Made& m = made[static_cast<size_t>(i)];
    if (!m.ok) continue;
    const int s = static_cast<int>(p.split);
    nlohmann::ordered_json line;
    line["file"] = "wav/" + std::string(split_name(p.split)) + "/" + std::to_string(i) + ".wav";
    line["seconds"] = std::round(m.seconds * 1000) / 1000;
    line["text"] = p.text;
    line["voice"] = p.voice.id();
    manifests[s] << line.dump() << "\n";
    ++report.utterances[s];
    report.seconds[s] += m.seconds;
  }
  for (int s = 0; s < 3; ++s) {
    manifests[s].close();
    const std::string name = split_name(static_cast<Split>(s));
    fs::rename(fs::path(o.out_dir) / (name + ".jsonl.tmp"), fs::path(o.out_dir) / (name + ".jsonl"));
  }
  return report;
}

}  // namespace tg::asr
