// The termination report (termination.h).
#include "termination.h"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace tg::dist::detail {

namespace {

std::atomic<int> g_signal{0};        // set by the handler
std::atomic<int> g_calls_waiting{0};  // threads inside CallInProgress
int g_rank = 0, g_size = 1;         // written once, before the handler is installed

[[noreturn]] void end_with(int signal) {
  std::fflush(nullptr);
  std::signal(signal, SIG_DFL);
  std::raise(signal);
  std::_Exit(128 + signal);  // the signal was blocked or ignored after all
}

extern "C" void on_termination_signal(int signal) {
  g_signal.store(signal);
  if (g_calls_waiting.load() == 0) {  // nobody to report: end as the default action would
    std::signal(signal, SIG_DFL);
    std::raise(signal);
  }
}

}  // namespace

void install_termination_report(int rank, int size) {
  static std::once_flag once;
  std::call_once(once, [&] {
    g_rank = rank;
    g_size = size;
    struct sigaction current {};
    if (sigaction(SIGTERM, nullptr, &current) != 0 || current.sa_handler != SIG_DFL) return;  // the program's own
    struct sigaction report {};
    report.sa_handler = on_termination_signal;
    sigemptyset(&report.sa_mask);
    sigaction(SIGTERM, &report, nullptr);
  });
}

int pending_termination() { return g_signal.load(std::memory_order_relaxed); }

void report_termination(const std::string& call, std::chrono::steady_clock::time_point since) {
  const int signal = g_signal.load();
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
  std::fprintf(stderr,
               "tg::dist: rank %d of %d ended by %s after waiting %.1f s in %s (the launcher ends every rank when one "
               "dies or fails; its report names that rank)\n",
               g_rank, g_size, signal == SIGTERM ? "SIGTERM" : strsignal(signal), waited, call.c_str());
  end_with(signal);
}

CallInProgress::CallInProgress() { g_calls_waiting.fetch_add(1); }

CallInProgress::~CallInProgress() {
  g_calls_waiting.fetch_sub(1);
  if (const int signal = g_signal.load(); signal != 0) end_with(signal);
}

}  // namespace tg::dist::detail
