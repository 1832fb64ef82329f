// The GEMM tune file (src/kernels/cpu/gemm_tuning.cpp): what tensorgrad-tune writes is read back and chosen,
// the chosen kernel and blocking really drive the GEMM, and every kind of bad file is ignored with a message
// that names the file, never an exception out of the kernel choice.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "../../src/kernels/cpu/gemm_tuning.h"
#include "../../src/kernels/ref/ref_kernels.h"

namespace {

namespace cpu = tg::kernels::cpu;
namespace fs = std::filesystem;

class KernelsGemmTuning : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tg_gemm_tuning_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write_text(const std::string& name, const std::string& text) const {
    fs::create_directories(dir_);
    std::ofstream(path(name)) << text;
    return path(name);
  }
  fs::path dir_;
};

TEST_F(KernelsGemmTuning, WrittenFileIsReadBackAndChosen) {
  const auto f32 = cpu::available_micro_kernels<float>();
  const auto f64 = cpu::available_micro_kernels<double>();
  cpu::GemmTuneFile file;
  file.cpu = "test cpu";
  file.f32 = cpu::GemmTuneEntry{f32.front().name, {40, 72, 136}, 12.5};
  file.f64 = cpu::GemmTuneEntry{f64.back().name, {24, 33, 80}, 0};
  const std::string p = path("nested/dir/gemm.json");  // parent directories are created
  cpu::write_gemm_tune_file(p, file);

  const cpu::GemmTuneFile back = cpu::read_gemm_tune_file(p);
  EXPECT_EQ(back.cpu, "test cpu");
  ASSERT_TRUE(back.f32 && back.f64);
  EXPECT_EQ(back.f32->kernel, f32.front().name);
  EXPECT_EQ(back.f32->blocking.mc, 40);
  EXPECT_EQ(back.f32->blocking.kc, 72);
  EXPECT_EQ(back.f32->blocking.nc, 136);
  EXPECT_DOUBLE_EQ(back.f32->gflops, 12.5);

  std::string message;
  const cpu::MicroKernel<float> k32 = cpu::choose_micro_kernel<float>(f32, nullptr, p, true, &message);
  EXPECT_TRUE(message.empty()) << message;
  EXPECT_STREQ(k32.name, f32.front().name);
  EXPECT_EQ(k32.blocking.mc, 40);
  EXPECT_EQ(k32.blocking.kc, 72);
  EXPECT_EQ(k32.blocking.nc, 136);
  const cpu::MicroKernel<double> k64 = cpu::choose_micro_kernel<double>(f64, nullptr, p, true, &message);
  EXPECT_STREQ(k64.name, f64.back().name);
  EXPECT_EQ(k64.blocking.kc, 33);

  // An entry only for float32: float64 keeps the built-in choice.
  file.f64.reset();
  cpu::write_gemm_tune_file(p, file);
  const cpu::MicroKernel<double> builtin = cpu::choose_micro_kernel<double>(f64, nullptr, p, true, &message);
  EXPECT_TRUE(message.empty()) << message;
  EXPECT_STREQ(builtin.name, f64.back().name);
  EXPECT_EQ(builtin.blocking.kc, f64.back().blocking.kc);
}

// The tuned blocking drives the GEMM: KC = 7 splits k = 30 into partial sums accumulated in C, and the result is
// still exact (integer inputs) against the reference.
TEST_F(KernelsGemmTuning, TunedKernelComputesCorrectProducts) {
  const auto f32 = cpu::available_micro_kernels<float>();
  cpu::GemmTuneFile file;
  file.f32 = cpu::GemmTuneEntry{f32.back().name, {13, 7, 50}, 0};
  const std::string p = path("gemm.json");
  cpu::write_gemm_tune_file(p, file);
  std::string message;
  const cpu::MicroKernel<float> kernel = cpu::choose_micro_kernel<float>(f32, nullptr, p, true, &message);
  ASSERT_EQ(kernel.blocking.kc, 7);
  const int64_t m = 37, n = 71, k = 30;
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> small(-3, 3);
  std::vector<float> a(m * k), b(k * n), c(m * n), want(m * n);
  for (float& v : a) v = float(small(rng));
  for (float& v : b) v = float(small(rng));
  const tg::DType dt = tg::DType::Float32;
  cpu::gemm<float>({}, m, n, k, {c.data(), {n, 1}, dt}, {a.data(), {k, 1}, dt}, {b.data(), {n, 1}, dt}, kernel,
                   kernel.blocking, {2, 1});
  tg::kernels::reference_tables().matmul.find(tg::DeviceType::CPU, dt)({}, m, n, k, {want.data(), {n, 1}, dt},
                                                                      {a.data(), {k, 1}, dt}, {b.data(), {n, 1}, dt}, {});
  EXPECT_EQ(c, want);
}

TEST_F(KernelsGemmTuning, BadFilesAreIgnoredWithAMessage) {
  const auto f32 = cpu::available_micro_kernels<float>();
  const std::string ok_entry = std::string("\"kernel\": \"") + f32.front().name + "\"";
  const struct {
    const char* what;
    std::string text;
    const char* expect;  // a fragment of the message
  } cases[] = {
      {"not json", "{ this is not json", "not valid JSON"},
      {"empty", "", "not valid JSON"},
      {"wrong format", R"({"format": "other", "version": 1})", "not a tensorgrad GEMM tune file"},
      {"no version", R"({"format": "tensorgrad-gemm-tune"})", "unsupported version"},
      {"future version", R"({"format": "tensorgrad-gemm-tune", "version": 99})", "unsupported version 99"},
      {"entry not object", R"({"format": "tensorgrad-gemm-tune", "version": 1, "float32": 5})", "expected an object"},
      {"unknown kernel",
       R"({"format": "tensorgrad-gemm-tune", "version": 1, "float32": {"kernel": "sve9", "mc": 8, "kc": 8, "nc": 8}})",
       "\"sve9\" is not available"},
      {"missing kc", R"({"format": "tensorgrad-gemm-tune", "version": 1, "float32": {)" + ok_entry + R"(, "mc": 8, "nc": 8}})",
       "missing \"kc\""},
      {"negative mc", R"({"format": "tensorgrad-gemm-tune", "version": 1, "float32": {)" + ok_entry + R"(, "mc": -8, "kc": 8, "nc": 8}})",
       "outside [1,"},
      {"huge nc", R"({"format": "tensorgrad-gemm-tune", "version": 1, "float32": {)" + ok_entry + R"(, "mc": 8, "kc": 8, "nc": 1e12}})",
       "must be an integer"},
      {"string size", R"({"format": "tensorgrad-gemm-tune", "version": 1, "float32": {)" + ok_entry + R"(, "mc": "8", "kc": 8, "nc": 8}})",
       "must be an integer"},
  };
  int i = 0;
  for (const auto& c : cases) {
    const std::string p = write_text("bad" + std::to_string(i++) + ".json", c.text);
    std::string message;
    cpu::MicroKernel<float> k;
    ASSERT_NO_THROW(k = cpu::choose_micro_kernel<float>(f32, nullptr, p, true, &message)) << c.what;
    EXPECT_STREQ(k.name, f32.back().name) << c.what;
    EXPECT_EQ(k.blocking.kc, f32.back().blocking.kc) << c.what;
    EXPECT_NE(message.find(p), std::string::npos) << c.what << ": " << message;
    EXPECT_NE(message.find(c.expect), std::string::npos) << c.what << ": " << message;
    // The reader checks the format; whether the CPU has the kernel is the chooser's question.
    if (std::string(c.what) != "unknown kernel") {
      EXPECT_THROW(cpu::read_gemm_tune_file(p), tg::Error) << c.what;
    }
  }
  // A directory where the file should be: still no exception.
  fs::create_directories(dir_ / "a_dir.json");
  std::string message;
  EXPECT_NO_THROW(cpu::choose_micro_kernel<float>(f32, nullptr, path("a_dir.json"), true, &message));
  EXPECT_FALSE(message.empty());
}

TEST_F(KernelsGemmTuning, MissingFileAndKernelOverride) {
  const auto f32 = cpu::available_micro_kernels<float>();
  std::string message;
  // The default path may simply not exist yet: silent. An explicit TG_GEMM_TUNE_FILE that is missing: said so.
  cpu::choose_micro_kernel<float>(f32, nullptr, path("missing.json"), false, &message);
  EXPECT_TRUE(message.empty());
  cpu::choose_micro_kernel<float>(f32, nullptr, path("missing.json"), true, &message);
  EXPECT_NE(message.find("does not exist"), std::string::npos);
  // An empty path (TG_GEMM_TUNE_FILE="") turns tune files off.
  EXPECT_STREQ(cpu::choose_micro_kernel<float>(f32, nullptr, "", true, &message).name, f32.back().name);
  EXPECT_TRUE(message.empty());

  // TG_GEMM_KERNEL names the kernel; a file tuned for another kernel does not override it.
  cpu::GemmTuneFile file;
  file.f32 = cpu::GemmTuneEntry{f32.back().name, {16, 16, 64}, 0};
  const std::string p = path("gemm.json");
  cpu::write_gemm_tune_file(p, file);
  const cpu::MicroKernel<float> forced = cpu::choose_micro_kernel<float>(f32, "generic", p, true, &message);
  EXPECT_STREQ(forced.name, "generic");
  if (f32.size() > 1) {
    EXPECT_NE(forced.blocking.kc, 16);
  }
  const cpu::MicroKernel<float> agreeing = cpu::choose_micro_kernel<float>(f32, f32.back().name, p, true, &message);
  EXPECT_EQ(agreeing.blocking.kc, 16);
}

}  // namespace

namespace {

// The built-in blocking fitted to the caches a CPU reports: unchanged on the cores it was measured on, shrunk
// for a smaller L1 or L2, left alone where the size is unknown.
TEST(KernelsGemmBlocking, FitsTheReportedCaches) {
  const cpu::GemmBlocking avx512{120, 256, 4096}, avx2{120, 256, 4080};
  auto same = [](const cpu::GemmBlocking& a, const cpu::GemmBlocking& b) {
    return a.mc == b.mc && a.kc == b.kc && a.nc == b.nc;
  };
  // 48 KB L1, 2 MB L2 (this project's Intel Xeon): 12 x 32 floats use 176 B a step of k, 256 steps 45 KB.
  EXPECT_TRUE(same(cpu::blocking_for_caches(avx512, 12, 32, 4, 48 << 10, 2 << 20), avx512));
  // 32 KB L1 (Zen 4, Skylake-X): 30 KB / 176 B = 174 -> 160 steps; L2 1 MB still holds 120 x 160.
  const cpu::GemmBlocking zen4 = cpu::blocking_for_caches(avx512, 12, 32, 4, 32 << 10, 1 << 20);
  EXPECT_EQ(zen4.kc, 160);
  EXPECT_EQ(zen4.mc, 120);
  EXPECT_EQ(zen4.nc, 4096);
  // AVX2 6 x 16 on a 32 KB L1, 256 KB L2: KC stays 256 (88 B a step), a quarter of L2 holds 64 rows -> 60.
  const cpu::GemmBlocking small_l2 = cpu::blocking_for_caches(avx2, 6, 16, 4, 32 << 10, 256 << 10);
  EXPECT_EQ(small_l2.kc, 256);
  EXPECT_EQ(small_l2.mc, 60);
  // float64 12 x 16 on 48 KB: 224 B a step -> 192, the kernel's own constant.
  EXPECT_EQ(cpu::blocking_for_caches({96, 192, 4096}, 12, 16, 8, 48 << 10, 2 << 20).kc, 192);
  // Unknown sizes, and never below the floors.
  EXPECT_TRUE(same(cpu::blocking_for_caches(avx2, 6, 16, 4, 0, 0), avx2));
  const cpu::GemmBlocking tiny = cpu::blocking_for_caches(avx2, 6, 16, 4, 1024, 1024);
  EXPECT_EQ(tiny.kc, 64);
  EXPECT_EQ(tiny.mc, 6);
}

}  // namespace
