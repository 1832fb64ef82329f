#include "progress.h"

#include <algorithm>
#include <cmath>

namespace tg::train {

ProgressBar::ProgressBar(std::string label, int64_t total_batches, bool interactive, std::FILE* out)
    : label_(std::move(label)),
      total_(std::max<int64_t>(total_batches, 1)),
      interactive_(interactive),
      out_(out),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

std::string ProgressBar::format_duration(double seconds) {
  const auto s = static_cast<int64_t>(std::llround(std::max(seconds, 0.0)));
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  return buf;
}

void ProgressBar::update(int64_t done, int64_t samples_so_far, double mean_loss) {
  const auto now = std::chrono::steady_clock::now();
  if (interactive_) {
    if (done == total_ || now - last_draw_ >= std::chrono::milliseconds(100)) {
      last_draw_ = now;
      draw(done, samples_so_far, mean_loss, false);
    }
    return;
  }
  const int64_t percent = done * 100 / total_;
  if (percent >= next_report_percent_) {
    while (next_report_percent_ <= percent) next_report_percent_ += 10;
    draw(done, samples_so_far, mean_loss, true);
  }
}

void ProgressBar::draw(int64_t done, int64_t samples_so_far, double mean_loss, bool newline) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(samples_so_far) / elapsed : 0.0;
  const double eta = done > 0 ? elapsed * static_cast<double>(total_ - done) / static_cast<double>(done) : 0.0;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(kWidth * done / total_);
  std::string bar(static_cast<size_t>(kWidth), ' ');
  for (int i = 0; i < filled; ++i) bar[static_cast<size_t>(i)] = '=';
  if (filled < kWidth) bar[static_cast<size_t>(filled)] = '>';
  std::fprintf(out_, "%s%s [%s] %lld/%lld  loss %.4f  %.0f samples/s  %s %s%s", interactive_ ? "\r" : "",
               label_.c_str(), bar.c_str(), static_cast<long long>(done), static_cast<long long>(total_), mean_loss,
               rate, done == total_ ? "elapsed" : "ETA", format_duration(done == total_ ? elapsed : eta).c_str(),
               newline ? "\n" : "\033[K");
  std::fflush(out_);
  drew_ = true;
}

void ProgressBar::finish() {
  if (interactive_ && drew_) std::fputc('\n', out_);
  std::fflush(out_);
}

}  // namespace tg::train
