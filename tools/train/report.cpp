#include "report.h"

#include <tensorgrad/base/error.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>

namespace tg::train {

namespace {

constexpr const char* kCsvHeader = "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds,samples_per_second,lr";

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string escape_xml(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// A "nice" tick step (1, 2 or 5 times a power of ten) giving about `target` ticks over `span`.
double tick_step(double span, int target) {
  const double raw = span / target;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0})
    if (m * power >= raw) return m * power;
  return 10 * power;
}

struct Series {
  std::string name, color;
  std::vector<double> values;
  bool dashed;
};

// One chart: axes, grid, ticks and a polyline with markers per series, in the box (x0, y0, w, h).
void panel(std::ostringstream& svg, double x0, double y0, double w, double h, const std::string& title,
           const std::vector<int>& epochs, const std::vector<Series>& series, bool percent) {
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& s : series)
    for (double v : s.values)
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (hi - lo < 1e-9) lo -= 0.5, hi += 0.5;
  const double pad = (hi - lo) * 0.08;
  lo -= pad;
  hi += pad;
  const double step = tick_step(hi - lo, 5);
  lo = std::floor(lo / step) * step;
  hi = std::ceil(hi / step) * step;
  const int first = epochs.empty() ? 1 : epochs.front(), last = epochs.empty() ? 1 : epochs.back();
  const double xspan = std::max(1, last - first);
  auto X = [&](double e) { return x0 + (e - first) / xspan * w; };
  auto Y = [&](double v) { return y0 + h - (v - lo) / (hi - lo) * h; };

  svg << "<text x=\"" << x0 + w / 2 << "\" y=\"" << y0 - 12 << "\" text-anchor=\"middle\" font-size=\"15\">"
      << escape_xml(title) << "</text>\n";
  for (double v = lo; v <= hi + step / 2; v += step) {
    svg << "<line x1=\"" << x0 << "\" y1=\"" << Y(v) << "\" x2=\"" << x0 + w << "\" y2=\"" << Y(v)
        << "\" stroke=\"#e4e4e4\"/>\n";
    svg << "<text x=\"" << x0 - 6 << "\" y=\"" << Y(v) + 4 << "\" text-anchor=\"end\" font-size=\"11\">"
        << (percent ? fmt("%.1f%%", v * 100) : fmt("%.3g", v)) << "</text>\n";
  }
  const int estep = std::max(1, static_cast<int>(tick_step(xspan, 8)));
  for (int e = first; e <= last; e += estep) {
    svg << "<line x1=\"" << X(e) << "\" y1=\"" << y0 + h << "\" x2=\"" << X(e) << "\" y2=\"" << y0 + h + 4
        << "\" stroke=\"#333\"/>\n";
    svg << "<text x=\"" << X(e) << "\" y=\"" << y0 + h + 17 << "\" text-anchor=\"middle\" font-size=\"11\">" << e
        << "</text>\n";
  }
  svg << "<text x=\"" << x0 + w / 2 << "\" y=\"" << y0 + h + 34
      << "\" text-anchor=\"middle\" font-size=\"12\">epoch</text>\n";
  svg << "<rect x=\"" << x0 << "\" y=\"" << y0 << "\" width=\"" << w << "\" height=\"" << h
      << "\" fill=\"none\" stroke=\"#333\"/>\n";
  // The legend sits under the axis label, one entry after another, so it never hides a curve.
  double legend_x = x0;
  const double legend_y = y0 + h + 56;
  for (const auto& s : series) {
    std::string points;
    for (size_t i = 0; i < s.values.size(); ++i)
      if (std::isfinite(s.values[i])) points += fmt("%.2f", X(epochs[i])) + "," + fmt("%.2f", Y(s.values[i])) + " ";
    svg << "<polyline fill=\"none\" stroke=\"" << s.color << "\" stroke-width=\"2\""
        << (s.dashed ? " stroke-dasharray=\"6 4\"" : "") << " points=\"" << points << "\"/>\n";
    for (size_t i = 0; i < s.values.size(); ++i)
      if (std::isfinite(s.values[i]))
        svg << "<circle cx=\"" << X(epochs[i]) << "\" cy=\"" << Y(s.values[i]) << "\" r=\"3\" fill=\"" << s.color
            << "\"><title>" << escape_xml(s.name) << ", epoch " << epochs[i] << ": "
            << (percent ? fmt("%.2f%%", s.values[i] * 100) : fmt("%.4f", s.values[i])) << "</title></circle>\n";
    svg << "<line x1=\"" << legend_x << "\" y1=\"" << legend_y << "\" x2=\"" << legend_x + 24 << "\" y2=\""
        << legend_y << "\" stroke=\"" << s.color << "\" stroke-width=\"2\""
        << (s.dashed ? " stroke-dasharray=\"6 4\"" : "") << "/>\n";
    svg << "<text x=\"" << legend_x + 30 << "\" y=\"" << legend_y + 4 << "\" font-size=\"12\">" << escape_xml(s.name)
        << "</text>\n";
    legend_x += 40 + 7.0 * static_cast<double>(s.name.size());
  }
}

}  // namespace

std::string metrics_csv(const std::vector<EpochMetrics>& history) {
  std::ostringstream out;
  out << kCsvHeader << "\n";
  for (const auto& m : history) {
    char line[512];
    std::snprintf(line, sizeof line, "%d,%.6f,%.6f,%.6f,%.6f,%.3f,%.1f,%.6g\n", m.epoch, m.train_loss,
                  m.train_accuracy, m.test_loss, m.test_accuracy, m.seconds, m.samples_per_second, m.lr);
    out << line;
  }
  return out.str();
}

std::vector<EpochMetrics> parse_metrics_csv(const std::string& text, const std::string& source) {
  std::istringstream in(text);
  std::string line;
  TG_CHECK(std::getline(in, line) && line == kCsvHeader, source, ": metrics table has an unexpected header \"",
           line, "\"");
  std::vector<EpochMetrics> out;
  int line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    EpochMetrics m;
    const int n = std::sscanf(line.c_str(), "%d,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &m.epoch, &m.train_loss,
                              &m.train_accuracy, &m.test_loss, &m.test_accuracy, &m.seconds, &m.samples_per_second,
                              &m.lr);
    TG_CHECK(n == 8, source, ": metrics table line ", line_no, " is malformed: \"", line, "\"");
    out.push_back(m);
  }
  return out;
}

std::string metrics_svg(const std::vector<EpochMetrics>& history, const std::string& title) {
  std::vector<int> epochs;
  Series train_loss{"train loss", "#1f77b4", {}, false}, test_loss{"test loss", "#d62728", {}, true};
  Series train_acc{"train accuracy", "#1f77b4", {}, false}, test_acc{"test accuracy", "#d62728", {}, true};
  for (const auto& m : history) {
    epochs.push_back(m.epoch);
    train_loss.values.push_back(m.train_loss);
    test_loss.values.push_back(m.test_loss);
    train_acc.values.push_back(m.train_accuracy);
    test_acc.values.push_back(m.test_accuracy);
  }
  constexpr double kWidth = 960, kHeight = 450;
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << kHeight
      << "\" viewBox=\"0 0 " << kWidth << " " << kHeight << "\" font-family=\"sans-serif\">\n";
  svg << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg << "<text x=\"" << kWidth / 2 << "\" y=\"24\" text-anchor=\"middle\" font-size=\"17\" font-weight=\"bold\">"
      << escape_xml(title) << "</text>\n";
  panel(svg, 70, 70, 370, 280, "loss", epochs, {train_loss, test_loss}, false);
  panel(svg, 560, 70, 370, 280, "accuracy", epochs, {train_acc, test_acc}, true);
  svg << "</svg>\n";
  return svg.str();
}

void write_file_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  TG_CHECK(f != nullptr, "cannot write ", tmp, ": ", std::strerror(errno));
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  const bool closed = std::fclose(f) == 0;
  if (!ok || !closed || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    TG_FAIL("cannot write ", path, ": ", std::strerror(err));
  }
}

}  // namespace tg::train
