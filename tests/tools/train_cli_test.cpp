// The trainer as a user runs it: flags, data and checkpoint errors, learning, resuming. Uses a small
// synthetic Fashion-MNIST-shaped data set written by the test, so each run takes well under a second.
#ifdef TG_TRAIN_BINARY

#include <gtest/gtest.h>
#include <tensorgrad/tensorgrad.h>
#include <zlib.h>

#include "support/process.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

using Result = tgtest::CommandResult;
using tgtest::read_file;

Result run(const std::string& args) {
  return tgtest::run_command(std::string(TG_TRAIN_BINARY) + " --no-progress --threads 1 " + args);
}

void write_gz(const fs::path& path, const std::vector<unsigned char>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  gzclose(f);
}

void put_u32(std::vector<unsigned char>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<unsigned char>(v >> shift));
}

// Class c lights up rows 2c and 2c+1 of an otherwise noisy image: easy to learn, hard to get by chance.
void write_split(const fs::path& dir, const std::string& prefix, int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<unsigned char> images, labels;
  put_u32(images, 0x803);
  put_u32(images, static_cast<uint32_t>(n));
  put_u32(images, 28);
  put_u32(images, 28);
  put_u32(labels, 0x801);
  put_u32(labels, static_cast<uint32_t>(n));
  for (int i = 0; i < n; ++i) {
    const int c = static_cast<int>(rng() % 10);
    labels.push_back(static_cast<unsigned char>(c));
    for (int r = 0; r < 28; ++r)
      for (int col = 0; col < 28; ++col)
        images.push_back(static_cast<unsigned char>(r / 2 == c ? 200 + rng() % 56 : rng() % 60));
  }
  write_gz(dir / (prefix + "-images-idx3-ubyte.gz"), images);
  write_gz(dir / (prefix + "-labels-idx1-ubyte.gz"), labels);
}

class TrainCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tg_train_cli_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "data");
    write_split(dir_ / "data", "train", 512, 1);
    write_split(dir_ / "data", "t10k", 200, 2);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A run on the synthetic data, writing its metrics under `out`.
  Result train(const std::string& args, const std::string& out = "out") {
    return run("--data-dir " + (dir_ / "data").string() + " --out " + (dir_ / out).string() + " --batch-size 32 " +
               args);
  }
  fs::path dir_;
};

// The metrics CSV without the timing columns (seconds, samples/s), which differ between runs.
std::vector<std::string> metrics_without_timing(const fs::path& csv) {
  std::vector<std::string> rows;
  std::istringstream in(read_file(csv));
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, ',')) cells.push_back(cell);
    if (cells.size() != 8) return {"malformed: " + line};
    rows.push_back(cells[0] + "," + cells[1] + "," + cells[2] + "," + cells[3] + "," + cells[4] + "," + cells[7]);
  }
  return rows;
}

TEST_F(TrainCli, HelpExplainsEveryFlag) {
  const Result r = run("--help");
  EXPECT_EQ(r.status, 0) << r.output;
  for (const char* flag : {"--model", "--epochs", "--batch-size", "--lr", "--optimizer", "--threads", "--seed",
                           "--save", "--resume", "--data-dir", "--out"})
    EXPECT_NE(r.output.find(flag), std::string::npos) << flag << " missing from:\n" << r.output;
}

TEST_F(TrainCli, BadFlagsFailWithAMessage) {
  Result r = train("--model resnet");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("resnet"), std::string::npos) << r.output;
  r = train("--epochs 0");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("--epochs"), std::string::npos) << r.output;
  r = train("--optimizer lbfgs");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("lbfgs"), std::string::npos) << r.output;
  r = train("--resume " + (dir_ / "no-such.ck").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("no-such.ck"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir_ / "out")) << "a failed start must not write outputs";
}

TEST_F(TrainCli, MissingDataNamesThePackage) {
  const Result r = run("--data-dir " + (dir_ / "empty").string() + " --out " + (dir_ / "out").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("dataset-fashion-mnist"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find((dir_ / "empty").string()), std::string::npos) << r.output;
}

TEST_F(TrainCli, CorruptDataNamesTheFileAndOffset) {
  const fs::path labels = dir_ / "data" / "train-labels-idx1-ubyte.gz";
  std::vector<unsigned char> truncated;
  put_u32(truncated, 0x801);
  put_u32(truncated, 512);
  truncated.insert(truncated.end(), 100, 3);  // 412 labels short
  write_gz(labels, truncated);
  const Result r = train("--epochs 1");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find(labels.string()), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("byte"), std::string::npos) << r.output;
}

TEST_F(TrainCli, LearnsAndWritesMetrics) {
  const Result r = train("--epochs 3");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("epoch 3/3"), std::string::npos) << r.output;
  const auto rows = metrics_without_timing(dir_ / "out" / "metrics.csv");
  ASSERT_EQ(rows.size(), 4u);
  double test_accuracy = 0;
  ASSERT_EQ(std::sscanf(rows[3].c_str(), "3,%*f,%*f,%*f,%lf", &test_accuracy), 1) << rows[3];
  EXPECT_GT(test_accuracy, 0.9) << r.output;
  const std::string svg = read_file(dir_ / "out" / "metrics.svg");
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("test accuracy"), std::string::npos);
}

TEST_F(TrainCli, ResumeGivesTheSameResultAsAnUninterruptedRun) {
  for (const char* model : {"mlp", "cnn"}) {
    SCOPED_TRACE(model);
    const std::string m = std::string(" --model ") + model + " --train-limit 96 --test-limit 64";
    const fs::path whole = dir_ / (std::string(model) + "-whole.ck"), parts = dir_ / (std::string(model) + "-parts.ck");
    Result r = train("--epochs 2 --save " + whole.string() + m, "whole");
    ASSERT_EQ(r.status, 0) << r.output;
    r = train("--epochs 1 --save " + parts.string() + m, "parts");
    ASSERT_EQ(r.status, 0) << r.output;
    r = train("--epochs 2 --test-limit 64 --resume " + parts.string() + " --save " + parts.string(), "parts");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("resumed"), std::string::npos) << r.output;
    EXPECT_EQ(metrics_without_timing(dir_ / "whole" / "metrics.csv"), metrics_without_timing(dir_ / "parts" / "metrics.csv"));
    const auto a = tg::load_safetensors(whole.string()), b = tg::load_safetensors(parts.string());
    ASSERT_EQ(a.tensors.size(), b.tensors.size());
    for (const auto& [name, t] : a.tensors) {
      ASSERT_TRUE(b.tensors.count(name)) << name;
      const tg::Tensor& other = b.tensors.at(name);
      ASSERT_EQ(t.shape(), other.shape()) << name;
      EXPECT_EQ(tg::sum(tg::ne(t, other)).item<int64_t>(), 0) << name << " differs";
    }
  }
}

TEST_F(TrainCli, DamagedCheckpointIsRejectedAndKept) {
  const fs::path ck = dir_ / "run.ck";
  ASSERT_EQ(train("--epochs 1 --save " + ck.string()).status, 0);
  std::string bytes = read_file(ck);
  bytes.resize(bytes.size() / 2);
  { std::ofstream(ck, std::ios::binary) << bytes; }
  const Result r = train("--epochs 2 --resume " + ck.string() + " --save " + ck.string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find(ck.string()), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("offset"), std::string::npos) << r.output;
  EXPECT_EQ(read_file(ck), bytes) << "the damaged checkpoint was overwritten";
}

TEST_F(TrainCli, CheckpointThatDoesNotFitTheModelIsRejected) {
  const fs::path ck = dir_ / "run.ck";
  ASSERT_EQ(train("--epochs 1 --save " + ck.string()).status, 0);
  // Same metadata, but one weight has the wrong shape and one is missing.
  tg::SafetensorsFile file = tg::load_safetensors(ck.string());
  file.tensors["model.1.weight"] = tg::zeros({10, 10});
  file.tensors.erase("model.3.bias");
  tg::save_safetensors(ck.string(), file.tensors, file.metadata);
  const std::string before = read_file(ck);
  Result r = train("--epochs 2 --resume " + ck.string() + " --save " + ck.string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("1.weight: checkpoint [10, 10] vs model [512, 784]"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("missing keys: [3.bias]"), std::string::npos) << r.output;
  EXPECT_EQ(read_file(ck), before);
  // A flag that contradicts the checkpoint's run is refused rather than silently ignored.
  r = train("--epochs 2 --model cnn --resume " + ck.string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("contradicts"), std::string::npos) << r.output;
  r = train("--epochs 2 --inputs standard --resume " + ck.string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("--inputs standard contradicts"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("trained with unit"), std::string::npos) << r.output;
}

#if TG_PROFILER_ENABLED
TEST_F(TrainCli, ProfilePrintsTheOpTableAndWritesATrace) {
  const Result r = train("--epochs 1 --train-limit 192 --test-limit 64 --profile --profile-steps 3");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("profile of training steps 3-5 (3 steps"), std::string::npos) << r.output;
  for (const char* text : {"Self CPU %", "CPU time avg", "GFLOP/s", "matmul", "Self CPU time total:"})
    EXPECT_NE(r.output.find(text), std::string::npos) << text << " missing from:\n" << r.output;
  const nlohmann::json trace = nlohmann::json::parse(read_file(dir_ / "out" / "trace.json"));
  int64_t steps = 0, complete = 0;
  for (const auto& e : trace.at("traceEvents")) {
    complete += e.at("ph") == "X";
    steps += e.at("name") == "train_step";
  }
  EXPECT_EQ(steps, 3);
  EXPECT_NE(r.output.find("Chrome trace (" + std::to_string(complete) + " events)"), std::string::npos) << r.output;
}
#endif

}  // namespace

#endif  // TG_TRAIN_BINARY
