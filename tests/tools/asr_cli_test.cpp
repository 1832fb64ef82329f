// tg_asr as a user runs it: make-corpus synthesises a small corpus (espeak-ng and flite, from the README's
// dependencies), its manifests hold what they promise, the splits share no voice, the same seed makes the
// same files whatever the number of jobs, and a missing synthesiser is a clear error.
#ifdef TG_ASR_BINARY

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include <tensorgrad/audio/audio_file.h>
#include <tensorgrad/tensorgrad.h>

namespace {

namespace fs = std::filesystem;

struct Result {
  int status;
  std::string output;  // stdout and stderr together
};

Result run(const std::string& args, const std::string& env = "") {
  const std::string cmd = env + " " + std::string(TG_ASR_BINARY) + " " + args + " 2>&1";
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class AsrCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tg_asr_cli_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(AsrCli, MakeCorpusWritesManifestsSplitByVoice) {
  const fs::path out = dir_ / "corpus";
  const Result r = run("make-corpus --out " + out.string() + " --hours 0.03 --seed 7 --jobs 2");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("100%"), std::string::npos) << r.output;
  std::map<std::string, std::set<std::string>> voices;
  double seconds = 0;
  int lines = 0;
  for (const char* split : {"train", "dev", "test"}) {
    std::ifstream in(out / (std::string(split) + ".jsonl"));
    ASSERT_TRUE(in.good()) << split;
    std::string line;
    while (std::getline(in, line)) {
      const auto j = nlohmann::json::parse(line);
      const std::string text = j.at("text");
      for (char c : text) EXPECT_TRUE((c >= 'a' && c <= 'z') || c == ' ' || c == '\'') << text;
      voices[split].insert(j.at("voice").get<std::string>());
      const fs::path file = out / j.at("file").get<std::string>();
      const tg::audio::Audio a = tg::audio::read_audio(file.string(), 0);
      EXPECT_EQ(a.sample_rate, 16000);
      EXPECT_NEAR(static_cast<double>(a.samples.numel()) / 16000, j.at("seconds").get<double>(), 1e-3);
      seconds += j.at("seconds").get<double>();
      ++lines;
    }
  }
  EXPECT_GE(seconds, 0.03 * 3600);
  EXPECT_GT(lines, 20);
  for (const std::string& v : voices["test"]) {
    EXPECT_EQ(voices["train"].count(v), 0u) << v << " is in train and test";
    EXPECT_EQ(voices["dev"].count(v), 0u) << v << " is in dev and test";
  }
  EXPECT_FALSE(fs::exists(out / "tmp"));
}

TEST_F(AsrCli, TheSameSeedMakesTheSameCorpus) {
  ASSERT_EQ(run("make-corpus --out " + (dir_ / "a").string() + " --hours 0.01 --seed 3 --jobs 2").status, 0);
  ASSERT_EQ(run("make-corpus --out " + (dir_ / "b").string() + " --hours 0.01 --seed 3 --jobs 1").status, 0);
  ASSERT_EQ(run("make-corpus --out " + (dir_ / "c").string() + " --hours 0.01 --seed 4 --jobs 1").status, 0);
  EXPECT_EQ(read_file(dir_ / "a" / "train.jsonl"), read_file(dir_ / "b" / "train.jsonl"));
  EXPECT_NE(read_file(dir_ / "a" / "train.jsonl"), read_file(dir_ / "c" / "train.jsonl"));
  for (const auto& entry : fs::recursive_directory_iterator(dir_ / "a"))
    if (entry.is_regular_file()) {
      const fs::path twin = dir_ / "b" / fs::relative(entry.path(), dir_ / "a");
      EXPECT_EQ(read_file(entry.path()), read_file(twin)) << twin;
    }
}

TEST_F(AsrCli, MissingSynthesiserIsAClearError) {
  const Result r = run("make-corpus --out " + (dir_ / "x").string() + " --hours 0.01", "PATH=/nonexistent");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("no utterance could be made"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("could not start"), std::string::npos) << r.output;
  const Result bad = run("make-corpus --hours 1");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.output.find("--out"), std::string::npos) << bad.output;
}

}  // namespace

#endif  // TG_ASR_BINARY
