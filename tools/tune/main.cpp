// tensorgrad-tune: searches tuning parameters on this machine and writes them where the library reads them.
//   tensorgrad-tune gemm [--budget 60] [--output PATH] [--dtypes float32,float64] [--threads 1]
// searches each dtype's micro-kernel and blocking (MC, KC, NC) by coordinate descent from the built-in values,
// scored by the geometric mean GFLOP/s over a few representative products, and writes the GEMM tune file
// (default: $TG_GEMM_TUNE_FILE, else ~/.cache/tensorgrad/gemm.json; see src/kernels/cpu/gemm_tuning.h).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include <tensorgrad/base/error.h>

#include "../../src/kernels/cpu/gemm_tuning.h"
#include "gemm_search.h"

int main(int argc, char** argv) {
  CLI::App app{"tensorgrad autotuning"};
  app.require_subcommand(1);
  CLI::App* gemm = app.add_subcommand("gemm", "Tune the CPU GEMM's micro-kernel and blocking; write the tune file");
  tg::tune::GemmSearchOptions opt;
  std::string output = tg::kernels::cpu::gemm_tune_file_path();
  std::vector<std::string> dtypes{"float32", "float64"};
  std::vector<std::string> shapes{"512x512x512", "1024x1024x1024", "128x512x784", "3136x64x288"};
  gemm->add_option("--budget", opt.budget_seconds, "Seconds of search in all (split across dtypes)")
      ->check(CLI::PositiveNumber);
  gemm->add_option("--output", output, "Tune file to write")->capture_default_str();
  gemm->add_option("--dtypes", dtypes, "Dtypes to tune")->delimiter(',')->check(CLI::IsMember({"float32", "float64"}));
  gemm->add_option("--threads", opt.threads, "Threads while measuring")->check(CLI::PositiveNumber);
  gemm->add_option("--shapes", shapes, "Products scored, as MxNxK")->delimiter(',');
  gemm->add_option("--kernels", opt.kernels, "Micro-kernels to try (default: every SIMD one this CPU has)")
      ->delimiter(',');
  CLI11_PARSE(app, argc, argv);

  try {
    for (const std::string& s : shapes) opt.problems.push_back(tg::tune::parse_shape(s));
    tg::kernels::cpu::GemmTuneFile file;
    file.cpu = tg::tune::cpu_model();
    const double share = opt.budget_seconds / double(dtypes.size());
    for (const std::string& dtype : dtypes) {
      tg::tune::GemmSearchOptions one = opt;
      one.budget_seconds = share;
      if (dtype == "float32") file.f32 = tg::tune::search_gemm<float>(one);
      else file.f64 = tg::tune::search_gemm<double>(one);
    }
    tg::kernels::cpu::write_gemm_tune_file(output, file);
    std::printf("wrote %s\nthe library reads it at its first GEMM (TG_GEMM_TUNE_FILE=%s to point a run at it)\n",
                output.c_str(), output.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tensorgrad-tune: %s\n", e.what());
    return 1;
  }
  return 0;
}
