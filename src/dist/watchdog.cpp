// The watchdog of the blocking fast path (watchdog.h).
#include "watchdog.h"

#include "termination.h"

#include <algorithm>
#include <cstdlib>

namespace tg::dist::detail {

Watchdog::Watchdog(Expire expire) : expire_(std::move(expire)), thread_([this] { run(); }) {}

Watchdog::~Watchdog() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void Watchdog::arm_impl(double timeout_seconds, const void* context, DescribeFn describe) {
  const auto now = std::chrono::steady_clock::now();
  const auto deadline = now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                  std::chrono::duration<double>(timeout_seconds));
  std::lock_guard lock(mutex_);
  armed_ = true;
  armed_at_ = now;
  deadline_ = deadline;
  timeout_seconds_ = timeout_seconds;
  context_ = context;
  describe_ = describe;
}

void Watchdog::disarm() {
  std::lock_guard lock(mutex_);
  armed_ = false;
}

void Watchdog::run() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    // While armed the caller is still inside the blocking call (disarming needs this lock), so the context is
    // alive.
    if (armed_ && pending_termination() != 0) report_termination(describe_(context_), armed_at_);
    if (armed_ && std::chrono::steady_clock::now() >= deadline_) {
      const std::string description = describe_(context_);
      expire_(description, timeout_seconds_);
      std::abort();  // expire must end the process; never give control back to a stuck caller
    }
    // While armed, wake often enough to fire within 5% of the timeout (1 ms .. 100 ms); idle, every 100 ms.
    const double tick = armed_ ? std::clamp(timeout_seconds_ / 20, 1e-3, 0.1) : 0.1;
    wake_.wait_for(lock, std::chrono::duration<double>(tick));
  }
}

}  // namespace tg::dist::detail
