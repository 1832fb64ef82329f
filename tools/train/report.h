#pragma once
// What a run records per epoch, as a CSV table and as an SVG chart of loss and accuracy (drawn here:
// no plotting dependency).
#include <string>
#include <vector>

namespace tg::train {

struct EpochMetrics {
  int epoch = 0;  // 1-based
  double train_loss = 0, train_accuracy = 0;
  double test_loss = 0, test_accuracy = 0;
  double seconds = 0;          // training time of this epoch, evaluation excluded
  double samples_per_second = 0;
  double lr = 0;
};

// The CSV text: a header line, then one line per epoch.
std::string metrics_csv(const std::vector<EpochMetrics>& history);
// Parses metrics_csv's output (a checkpoint carries it so a resumed run keeps the earlier epochs);
// throws tg::Error naming `source` and the line on malformed input.
std::vector<EpochMetrics> parse_metrics_csv(const std::string& text, const std::string& source);

// Two panels side by side: train and test loss, and train and test accuracy, per epoch.
std::string metrics_svg(const std::vector<EpochMetrics>& history, const std::string& title);

// Writes `text` to `path` through a temporary file and a rename, so a reader never sees half a file.
void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace tg::train
