#include "step_profiler.h"

#include <cstdio>

#include <tensorgrad/base/error.h>

namespace tg::train {

StepProfiler::StepProfiler(int64_t warmup, int64_t steps, std::string trace_path)
    : warmup_(warmup), steps_(steps), trace_path_(std::move(trace_path)) {
  TG_CHECK(steps_ == 0 || profiler::compiled_in(),
           "--profile: this tg_train was built with -DTG_PROFILER=OFF; rebuild with the profiler on");
}

void StepProfiler::step_begins() {
  if (steps_ > 0 && step_ == warmup_) {
    first_profiled_ = step_;
    profile_ = std::make_unique<profiler::Profile>();
  }
}

void StepProfiler::step_ends() {
  ++step_;
  if (profile_ && step_ == warmup_ + steps_) report();
}

void StepProfiler::finish() {
  if (profile_) report();
}

void StepProfiler::report() {
  profile_->stop();
  const int64_t done = step_ - first_profiled_;
  std::printf("\nprofile of training steps %lld-%lld (%lld steps, %.1f ms):\n",
              static_cast<long long>(first_profiled_ + 1), static_cast<long long>(step_),
              static_cast<long long>(done), static_cast<double>(profile_->duration_ns()) / 1e6);
  // On a GPU the device-time columns are there, and the device's time is what to sort by.
  const profiler::KeyAverages averages = profile_->key_averages();
  const char* sort_by = averages.device().empty() ? "self_cpu_time_total" : "self_device_time_total";
  std::fputs(averages.table(sort_by, 20).c_str(), stdout);
  profile_->export_chrome_trace(trace_path_);
  std::printf("Chrome trace (%zu events): %s; open it in https://ui.perfetto.dev or chrome://tracing\n\n",
              profile_->events().size(), trace_path_.c_str());
  std::fflush(stdout);
  profile_.reset();
}

}  // namespace tg::train
