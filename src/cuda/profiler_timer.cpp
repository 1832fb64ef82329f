// The profiler's device clock on CUDA: each mark records a CUDA event on the default stream (the stream every
// kernel of the backend runs on), so the time between an op's two marks is the device time from reaching the
// op's first queued work to finishing its last. Events are created on first use and reused by later
// sessions; a mark costs one cudaEventRecord (a microsecond or two of host time, only while profiling).
#include "profiler_timer.h"

#include <cuda_runtime.h>

#include <mutex>
#include <vector>

namespace tg::cuda::detail {

namespace {

class CudaTimer final : public profiler::DeviceTimer {
 public:
  const char* name() const override { return "CUDA"; }

  int64_t mark() noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (next_ == events_.size()) {
      cudaEvent_t e = nullptr;
      if (cudaEventCreate(&e) != cudaSuccess) {
        (void)cudaGetLastError();
        return -1;
      }
      events_.push_back(e);
    }
    if (cudaEventRecord(events_[next_], nullptr) != cudaSuccess) {
      (void)cudaGetLastError();
      return -1;
    }
    return static_cast<int64_t>(next_++);
  }

  int64_t elapsed_ns(int64_t from, int64_t to) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (from < 0 || to < 0 || static_cast<size_t>(from) >= next_ || static_cast<size_t>(to) >= next_) return -1;
    float ms = 0;
    if (cudaEventSynchronize(events_[static_cast<size_t>(to)]) != cudaSuccess ||
        cudaEventElapsedTime(&ms, events_[static_cast<size_t>(from)], events_[static_cast<size_t>(to)]) !=
            cudaSuccess) {
      (void)cudaGetLastError();
      return -1;
    }
    return static_cast<int64_t>(static_cast<double>(ms) * 1e6);
  }

  void release_all() noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    next_ = 0;  // the events stay, for the next session
  }

 private:
  std::mutex mutex_;
  std::vector<cudaEvent_t> events_;
  size_t next_ = 0;
};

}  // namespace

profiler::DeviceTimer& cuda_timer() {
  static auto* timer = new CudaTimer();  // lives as long as the process, as the allocator does
  return *timer;
}

}  // namespace tg::cuda::detail
