#pragma once
// tg_train's command-line flags: what fixes the run (RunConfig, saved in checkpoints) and how to run it.
#include <cstdint>
#include <string>

#include "checkpoint.h"

namespace CLI {
class App;
}

namespace tg::train {

struct Flags {
  RunConfig config;
  int64_t epochs = 5;
  int threads = 0;
  std::string save, resume, data_dir, out_dir;
  int64_t test_limit = 0;
  bool progress = true;
  std::string dist = "none";
  int64_t bucket_kb = 256;
  bool overlap = true;
  std::string compression = "none";
  double topk_ratio = 0.01;
  int64_t staleness_bound = -1;
  std::string progress_thread = "auto";  // auto | on | off
  int64_t micro_batches = 4;
  bool profile = false;
  int64_t profile_steps = 10;
  std::string device = "cpu";  // cpu | cuda
};

// Declares every flag of tg_train on `app`, writing into `flags`.
void add_flags(CLI::App& app, Flags& flags);
// After parsing: the per-model defaults, only where the flag was not given.
void apply_model_defaults(const CLI::App& app, Flags& flags);

}  // namespace tg::train
