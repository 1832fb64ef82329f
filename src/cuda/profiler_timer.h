#pragma once
// The profiler's device clock on CUDA (profiler_timer.cpp): CUDA events queued on the default stream.
#include <tensorgrad/profiler/record.h>

namespace tg::cuda::detail {

// The process's CUDA timer, registered with the profiler by tg::cuda::init().
profiler::DeviceTimer& cuda_timer();

}  // namespace tg::cuda::detail
