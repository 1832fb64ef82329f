#pragma once
// A per-epoch progress line: batches done, running loss, samples/s and ETA. On a terminal it redraws in
// place (at most ten times a second); otherwise (a log file, CI) it prints a line at every 10 %.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace tg::train {

class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total_batches, bool interactive, std::FILE* out = stdout);
  // After batch `done` (1-based) of samples `samples_so_far`, with the running mean loss.
  void update(int64_t done, int64_t samples_so_far, double mean_loss);
  // Ends the line (interactive) so the summary that follows starts on a fresh one.
  void finish();

  static std::string format_duration(double seconds);  // "1:05", "1:02:03"

 private:
  void draw(int64_t done, int64_t samples_so_far, double mean_loss, bool newline);

  std::string label_;
  int64_t total_;
  bool interactive_;
  std::FILE* out_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  int64_t next_report_percent_ = 10;
  bool drew_ = false;
};

}  // namespace tg::train
