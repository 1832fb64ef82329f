#pragma once
// Internal: the watchdog behind the blocking fast path. A blocking MPI call (MPI_Allreduce, ...) cannot be
// interrupted or made to throw, so a thread watches it instead: the caller arms the watchdog with a deadline
// and a way to describe the call, runs the blocking call, and disarms it. If the deadline passes while armed,
// the watchdog thread calls `expire(description, timeout)`, which must end the process (it never returns to a
// caller that is still stuck in MPI). A termination signal while armed (termination.h) is reported the same way:
// the watchdog prints the call and ends the process.
//
// Cost on the caller's side: two uncontended mutex lock/unlock pairs and one clock read per call; no string
// is built and the watchdog thread is not woken (it wakes on its own every few milliseconds while armed, every
// 100 ms otherwise). The watchdog itself never calls MPI; what `expire` may call depends on the thread level
// (see mpi.cpp).
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace tg::dist::detail {

class Watchdog {
 public:
  using Expire = std::function<void(const std::string& description, double timeout_seconds)>;
  explicit Watchdog(Expire expire);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // `describe` (a callable returning std::string) must stay valid until disarm(); it is called at most once, on
  // the watchdog thread, only if the deadline passes.
  template <class Describe>
  void arm(double timeout_seconds, const Describe& describe) {
    arm_impl(timeout_seconds, &describe, [](const void* f) -> std::string { return (*static_cast<const Describe*>(f))(); });
  }
  void disarm();

  // Arms for the lifetime of the guard.
  template <class Describe>
  class Guard {
   public:
    Guard(Watchdog& w, double timeout_seconds, const Describe& describe) : w_(w) { w_.arm(timeout_seconds, describe); }
    ~Guard() { w_.disarm(); }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    Watchdog& w_;
  };

 private:
  using DescribeFn = std::string (*)(const void*);
  void arm_impl(double timeout_seconds, const void* context, DescribeFn describe);
  void run();

  Expire expire_;
  std::mutex mutex_;
  std::condition_variable wake_;  // only for stopping
  bool stop_ = false;
  bool armed_ = false;
  std::chrono::steady_clock::time_point armed_at_{}, deadline_{};
  double timeout_seconds_ = 0;
  const void* context_ = nullptr;
  DescribeFn describe_ = nullptr;
  std::thread thread_;  // last: started once the rest is initialised
};

}  // namespace tg::dist::detail
