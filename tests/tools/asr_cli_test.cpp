// tg_asr as a user runs it: make-corpus synthesises a small corpus (espeak-ng and flite, from the README's
// dependencies), its manifests hold what they promise, the splits share no voice, the same seed makes the
// same files whatever the number of jobs, and a missing synthesiser is a clear error; train on a tiny model
// lowers the loss, writes metrics and a checkpoint, and --resume reproduces the uninterrupted run, in one
// process and data parallel under mpirun; eval and transcribe read the checkpoint.
#ifdef TG_ASR_BINARY

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <tensorgrad/audio/audio_file.h>
#include <tensorgrad/io/safetensors.h>
#include <tensorgrad/tensorgrad.h>

#include "support/process.h"

namespace {

namespace fs = std::filesystem;

using Result = tgtest::CommandResult;
using tgtest::read_file;

Result run(const std::string& args, const std::string& env = "") {
  return tgtest::run_command(env + " " + std::string(TG_ASR_BINARY) + " " + args);
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

std::vector<std::vector<double>> metrics(const fs::path& csv) {
  std::vector<std::vector<double>> rows;
  std::istringstream in(read_file(csv));
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<double> row;
    std::istringstream f(line);
    std::string cell;
    while (std::getline(f, cell, ',')) row.push_back(std::stod(cell));
    rows.push_back(row);
  }
  return rows;
}

// `train` flags for a tiny model on a corpus of a few dozen utterances made in `corpus`.
std::string make_tiny_training(const fs::path& corpus, int64_t max_frames) {
  const Result made = run("make-corpus --out " + corpus.string() + " --hours 0.02 --seed 5");
  EXPECT_EQ(made.status, 0) << made.output;
  return " --corpus " + corpus.string() +
         " --threads 1 --d-model 32 --layers 1 --heads 2 --ffn 64 --subsampling-channels 8 --kernel 5 --max-frames " +
         std::to_string(max_frames) + " --warmup 5 --lr 3e-3 --seed 2";
}

// Two training runs ended alike: the same losses and error rates every epoch, the same weights.
void expect_same_run(const fs::path& a, const fs::path& b) {
  const auto rows_a = metrics(a / "metrics.csv"), rows_b = metrics(b / "metrics.csv");
  ASSERT_EQ(rows_a.size(), rows_b.size());
  for (size_t e = 0; e < rows_a.size(); ++e)
    for (size_t c : {1, 2, 3, 4}) EXPECT_EQ(rows_b[e][c], rows_a[e][c]) << "epoch " << e + 1 << " column " << c;
  const auto ta = tg::load_safetensors((a / "checkpoint.safetensors").string());
  const auto tb = tg::load_safetensors((b / "checkpoint.safetensors").string());
  for (const auto& [name, t] : ta.tensors) {
    if (name.rfind("model.", 0) != 0) continue;
    EXPECT_EQ(tg::max(tg::abs(t.to(tg::DType::Float64) - tb.tensors.at(name).to(tg::DType::Float64))).item(), 0.0) << name;
  }
}

TEST_F(AsrCli, TrainResumeEvalTranscribe) {
  const fs::path corpus = dir_ / "corpus";
  const std::string tiny = make_tiny_training(corpus, 3000);
  const Result whole = run("train --out " + (dir_ / "whole").string() + " --epochs 3" + tiny);
  ASSERT_EQ(whole.status, 0) << whole.output;
  const auto rows = metrics(dir_ / "whole" / "metrics.csv");
  ASSERT_EQ(rows.size(), 3u) << whole.output;
  EXPECT_LT(rows[2][1], rows[0][1]) << "the training loss did not fall: " << whole.output;
  EXPECT_TRUE(fs::exists(dir_ / "whole" / "metrics.svg"));

  // Interrupted after two epochs, then --resume: the same losses and the same weights as the whole run.
  ASSERT_EQ(run("train --out " + (dir_ / "split").string() + " --epochs 3 --stop-after 2" + tiny).status, 0);
  ASSERT_EQ(metrics(dir_ / "split" / "metrics.csv").size(), 2u);
  const Result resumed = run("train --out " + (dir_ / "split").string() + " --resume" + tiny);
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resumed"), std::string::npos) << resumed.output;
  expect_same_run(dir_ / "whole", dir_ / "split");

  const std::string ckpt = (dir_ / "whole" / "checkpoint.safetensors").string();
  const Result eval = run("eval " + ckpt + " " + (corpus / "test.jsonl").string() + " --threads 1");
  ASSERT_EQ(eval.status, 0) << eval.output;
  EXPECT_NE(eval.output.find("WER"), std::string::npos) << eval.output;
  std::ifstream test(corpus / "test.jsonl");
  std::string line;
  std::getline(test, line);
  const fs::path wav = corpus / nlohmann::json::parse(line).at("file").get<std::string>();
  const Result t = run("transcribe " + ckpt + " " + wav.string() + " " + (dir_ / "missing.wav").string() +
                       " --beam 4 --threads 1");
  EXPECT_EQ(t.status, 1) << t.output;  // one file failed, the other was transcribed
  EXPECT_NE(t.output.find(wav.string() + "\t"), std::string::npos) << t.output;
  EXPECT_NE(t.output.find("missing.wav: no such file"), std::string::npos) << t.output;
}

#ifdef TG_MPIEXEC
// mpirun -np 2 tg_asr train --dist ddp: rank 0 alone prints and writes; the loss falls; a run stopped after two
// epochs and resumed on 2 ranks ends with the uninterrupted run's losses and weights; resuming it in one
// process is refused (each step's batches depend on the number of ranks).
TEST_F(AsrCli, DataParallelTrainingResumesExactly) {
  const std::string tiny = make_tiny_training(dir_ / "corpus", 1500);  // enough batches for 2 ranks
  // TG_MPI_TEST_ENV: the environment of the ctest MPI entries (tests/CMakeLists.txt says why each variable).
  const std::string mpirun = TG_MPI_TEST_ENV " " TG_MPIEXEC " -np 2 " TG_ASR_BINARY " ";
  auto ddp = [&](const std::string& args) { return tgtest::run_command(mpirun + "train --dist ddp" + args + tiny); };
  const Result whole = ddp(" --out " + (dir_ / "whole").string() + " --epochs 3");
  ASSERT_EQ(whole.status, 0) << whole.output;
  EXPECT_NE(whole.output.find("data parallel over 2 ranks"), std::string::npos) << whole.output;
  size_t epoch_lines = 0;
  for (size_t at = whole.output.find("epoch 3:"); at != std::string::npos; at = whole.output.find("epoch 3:", at + 1))
    ++epoch_lines;
  EXPECT_EQ(epoch_lines, 1u) << "only rank 0 reports: " << whole.output;
  const auto rows = metrics(dir_ / "whole" / "metrics.csv");
  ASSERT_EQ(rows.size(), 3u) << whole.output;
  EXPECT_LT(rows[2][1], rows[0][1]) << "the training loss did not fall: " << whole.output;

  ASSERT_EQ(ddp(" --out " + (dir_ / "split").string() + " --epochs 3 --stop-after 2").status, 0);
  const Result resumed = ddp(" --out " + (dir_ / "split").string() + " --resume");
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  expect_same_run(dir_ / "whole", dir_ / "split");
  EXPECT_EQ(tg::load_safetensors((dir_ / "whole" / "checkpoint.safetensors").string()).metadata.at("train.world_size"), "2");

  const Result single = run("train --out " + (dir_ / "split").string() + " --resume" + tiny);
  EXPECT_NE(single.status, 0);
  EXPECT_NE(single.output.find("written by a run on 2 rank(s)"), std::string::npos) << single.output;
}
#endif

TEST_F(AsrCli, ProfilePrintsPerOpTables) {
  const std::string trace = (dir_ / "trace.json").string();
  const Result r = run("profile --batch 2 --seconds 0.5 --layers 1 --d-model 32 --threads 1 --rows 0 --trace " + trace);
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* want : {"one forward", "one training step", "GFLOP/s", "Input Shapes", "ctc_loss", "matmul",
                           "scaled_dot_product_attention"})
    EXPECT_NE(r.output.find(want), std::string::npos) << want << " missing from:\n" << r.output;
  EXPECT_GT(fs::file_size(trace), 100u);
}

}  // namespace

#endif  // TG_ASR_BINARY
