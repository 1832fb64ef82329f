#pragma once
// Internal: a Work that finishes by being polled, with the deadline logic shared by every backend.
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include <tensorgrad/base/error.h>
#include <tensorgrad/dist/communicator.h>

#include "termination.h"

namespace tg::dist::detail {

class PolledWork : public Work {
 public:
  PolledWork(std::string description, double timeout_seconds)
      : description_(std::move(description)), timeout_seconds_(timeout_seconds) {}

  bool test() override {
    if (!done_ && poll_once()) {
      done_ = true;
      on_complete();
    }
    return done_;
  }

  void wait() override {
    if (test()) return;
    const CallInProgress waiting;
    const auto started = std::chrono::steady_clock::now();
    const auto deadline = started + std::chrono::duration<double>(timeout_seconds_);
    // Spins: MPI progresses only inside its calls. Yields the core (to ranks sharing it) only after 2 ms: a
    // yield on a loaded machine can cost a whole scheduler time slice, ten times a medium all-reduce.
    const auto yield_after = started + std::chrono::milliseconds(2);
    for (int64_t spins = 0; !test(); ++spins) {
      if ((spins & 63) != 0) continue;
      if (pending_termination() != 0) report_termination(description_, started);
      const auto now = std::chrono::steady_clock::now();
      if (now > deadline)
        TG_FAIL("tg::dist: ", description_, " did not complete within ", timeout_seconds_, " s", timeout_report());
      if (now > yield_after) std::this_thread::yield();
    }
  }

  std::string describe() const override { return description_; }
  bool done() const { return done_; }

 protected:
  virtual bool poll_once() = 0;     // true once the operation has finished
  virtual void on_complete() {}     // e.g. the division of an average
  virtual std::string timeout_report() { return ""; }

 private:
  std::string description_;
  double timeout_seconds_;
  bool done_ = false;
};

// A Work that is already finished (world of one).
class DoneWork final : public Work {
 public:
  explicit DoneWork(std::string description) : description_(std::move(description)) {}
  bool test() override { return true; }
  void wait() override {}
  std::string describe() const override { return description_; }

 private:
  std::string description_;
};

// Checks shared by the backends: a contiguous CPU tensor of a dtype the collectives carry. buffer_ok is the
// same test without building a message (for fast paths that call check_buffer only when it fails).
bool buffer_ok(const Tensor& t);
void check_buffer(const Tensor& t, const std::string& what);
// "float32[4, 5]"
std::string tensor_summary(const Tensor& t);
// "all_reduce(avg) 'bucket 3' (call #12, float32[65536])"; call 0 (point to point) is left out.
std::string call_description(const std::string& op, const std::string& label, uint64_t call, const std::string& extra);

}  // namespace tg::dist::detail
