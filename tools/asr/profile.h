#pragma once
// `tg_asr profile`: the per-op table of one forward pass (eval mode, no gradients) and of one training step
// (forward, CTC loss, backward, clipping, AdamW step) of the recogniser, as torch.profiler prints it: self and
// total time, calls, input shapes, FLOPs and GFLOP/s; a Chrome trace of the step beside it.
#include <cstdint>
#include <string>

#include "model.h"

namespace tg::asr {

struct ProfileOptions {
  ModelConfig model;
  int64_t batch = 16;
  double seconds = 4.0;  // per utterance (random features of that many 10 ms frames)
  int threads = 0;
  int rows = 25;
  std::string trace;      // Chrome trace path of the training step ("" : none)
  int64_t time_steps = 0;  // > 0: time this many un-profiled training steps instead of printing the tables
};

// With time_steps > 0 it prints one machine-readable line instead of the tables,
//   tg_step_ms median=... min=... threads=T batch=B frames=F params=P
// the line bench/asr_vs_torch.sh sets beside bench/asr_torch.py's. Returns a process exit code.
int profile(const ProfileOptions& options);

}  // namespace tg::asr
