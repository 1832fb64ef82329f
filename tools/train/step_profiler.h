#pragma once
// tg_train --profile: records a window of training steps with tg::profiler, then prints the per-op table
// and writes a Chrome trace. The first steps are skipped as warm-up (first-touch page faults, GEMM pack
// buffers), as torch.profiler's schedule does.
#include <cstdint>
#include <memory>
#include <string>

#include <tensorgrad/profiler/profile.h>

namespace tg::train {

class StepProfiler {
 public:
  // Disabled when `steps` is 0. Throws tg::Error when the build has the profiler compiled out.
  StepProfiler(int64_t warmup, int64_t steps, std::string trace_path);
  // Call around every training step (counted across epochs).
  void step_begins();
  void step_ends();
  // Call at the end of each epoch: reports a window cut short there, so evaluation is never profiled.
  void finish();

 private:
  void report();

  int64_t warmup_, steps_, step_ = 0, first_profiled_ = 0;
  std::string trace_path_;
  std::unique_ptr<profiler::Profile> profile_;
};

}  // namespace tg::train
