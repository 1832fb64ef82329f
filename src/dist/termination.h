#pragma once
// Internal: what a rank says when it is ended by SIGTERM while it waits in a collective.
//
// When a rank dies, Open MPI's launcher ends the others with SIGTERM (then SIGKILL) and names the dead rank in
// its own report; a user who interrupts a hung job with Ctrl-C gets the same SIGTERM. Without help the
// survivors vanish silently, and nobody learns which collective they were stuck in. With the report installed
// (the MPI communicator does it, unless the program already handles SIGTERM), a rank ended while it waits in a
// communicator call prints, before ending as the signal would have ended it,
//
//   tg::dist: rank 0 of 2 ended by SIGTERM after waiting 1.3 s in all_reduce(sum) 'bucket 1 (fc1.bias ..
//   fc1.weight)' (call #915, float32[401920]) (the launcher ends every rank when one dies or fails; its report
//   names that rank)
//
// The handler itself only records the signal (nothing else is async-signal-safe); the thread that waits (a
// polled wait) or the watchdog (a blocking call, whose thread is inside MPI) prints and re-raises. A signal that
// arrives outside any call ends the process at once, as before.
#include <chrono>
#include <string>

namespace tg::dist::detail {

// Idempotent. `rank` and `size` go into the report.
void install_termination_report(int rank, int size);

// The signal received while a call was in progress, or 0.
int pending_termination();

// Prints the report for `call` (waited on since `since`) and ends the process with the pending signal.
[[noreturn]] void report_termination(const std::string& call, std::chrono::steady_clock::time_point since);

// Marks the calling thread as waiting in a communicator call for the guard's lifetime. A signal that arrived
// meanwhile and was not reported (the call finished first) ends the process when the guard goes.
class CallInProgress {
 public:
  CallInProgress();
  ~CallInProgress();
  CallInProgress(const CallInProgress&) = delete;
  CallInProgress& operator=(const CallInProgress&) = delete;
};

}  // namespace tg::dist::detail
