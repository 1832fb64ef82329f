#pragma once
// A tiny SVG writer shared by the examples: panels with a data-to-pixel mapping, contour lines of a 2-D
// function by marching squares, polylines and points. Header-only: each example is one program.
#include <algorithm>
#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace svg {

struct Box {
  double x0, y0, x1, y1;  // data range
};

class Panel {
 public:
  Panel(double left, double top, double size, Box box) : left_(left), top_(top), size_(size), box_(box) {}
  double px(double x) const { return left_ + (x - box_.x0) / (box_.x1 - box_.x0) * size_; }
  double py(double y) const { return top_ + size_ - (y - box_.y0) / (box_.y1 - box_.y0) * size_; }
  const Box& box() const { return box_; }
  double left() const { return left_; }
  double top() const { return top_; }
  double size() const { return size_; }

 private:
  double left_, top_, size_;
  Box box_;
};

class Document {
 public:
  Document(double width, double height) : width_(width), height_(height) {}

  void frame(const Panel& p, const std::string& title) {
    os_ << "<rect x='" << p.left() << "' y='" << p.top() << "' width='" << p.size() << "' height='" << p.size()
        << "' fill='white' stroke='#444'/>\n";
    text(p.left() + p.size() / 2, p.top() - 8, title, 14, "middle");
  }

  void text(double x, double y, const std::string& s, int size = 12, const char* anchor = "start",
            const std::string& color = "#222") {
    os_ << "<text x='" << x << "' y='" << y << "' font-family='sans-serif' font-size='" << size
        << "' text-anchor='" << anchor << "' fill='" << color << "'>" << s << "</text>\n";
  }

  // Contour lines of f at `levels` over the panel's box, on an n x n grid (marching squares).
  void contours(const Panel& p, const std::function<double(double, double)>& f, const std::vector<double>& levels,
                int n = 120) {
    const Box& b = p.box();
    std::vector<double> grid(static_cast<size_t>((n + 1) * (n + 1)));
    auto gx = [&](int i) { return b.x0 + (b.x1 - b.x0) * i / n; };
    auto gy = [&](int j) { return b.y0 + (b.y1 - b.y0) * j / n; };
    for (int j = 0; j <= n; ++j)
      for (int i = 0; i <= n; ++i) grid[static_cast<size_t>(j * (n + 1) + i)] = f(gx(i), gy(j));
    auto at = [&](int i, int j) { return grid[static_cast<size_t>(j * (n + 1) + i)]; };
    for (size_t li = 0; li < levels.size(); ++li) {
      const double level = levels[li];
      const int shade = 120 + static_cast<int>(100.0 * static_cast<double>(li) / static_cast<double>(levels.size()));
      os_ << "<path fill='none' stroke='rgb(" << shade << "," << shade << "," << 235 << ")' stroke-width='1' d='";
      for (int j = 0; j < n; ++j)
        for (int i = 0; i < n; ++i) {
          // Corners counter-clockwise from bottom-left; crossings on edges where the sign of f - level flips.
          const double v[4] = {at(i, j), at(i + 1, j), at(i + 1, j + 1), at(i, j + 1)};
          const double cx[4] = {gx(i), gx(i + 1), gx(i + 1), gx(i)}, cy[4] = {gy(j), gy(j), gy(j + 1), gy(j + 1)};
          std::vector<std::pair<double, double>> pts;
          for (int e = 0; e < 4; ++e) {
            const int k = (e + 1) % 4;
            if ((v[e] < level) != (v[k] < level)) {
              const double t = (level - v[e]) / (v[k] - v[e]);
              pts.emplace_back(cx[e] + t * (cx[k] - cx[e]), cy[e] + t * (cy[k] - cy[e]));
            }
          }
          for (size_t s = 0; s + 1 < pts.size(); s += 2)
            os_ << "M" << p.px(pts[s].first) << "," << p.py(pts[s].second) << "L" << p.px(pts[s + 1].first) << ","
                << p.py(pts[s + 1].second);
        }
      os_ << "'/>\n";
    }
  }

  void polyline(const Panel& p, const std::vector<std::pair<double, double>>& pts, const std::string& color,
                double width = 1.5) {
    os_ << "<polyline fill='none' stroke='" << color << "' stroke-width='" << width << "' points='";
    for (const auto& [x, y] : pts)
      if (inside(p, x, y)) os_ << p.px(x) << "," << p.py(y) << " ";
    os_ << "'/>\n";
  }

  void point(const Panel& p, double x, double y, const std::string& color, double r = 3) {
    if (!inside(p, x, y)) return;
    os_ << "<circle cx='" << p.px(x) << "' cy='" << p.py(y) << "' r='" << r << "' fill='" << color << "'/>\n";
  }

  void line(double x0, double y0, double x1, double y1, const std::string& color, double width = 1) {
    os_ << "<line x1='" << x0 << "' y1='" << y0 << "' x2='" << x1 << "' y2='" << y1 << "' stroke='" << color
        << "' stroke-width='" << width << "'/>\n";
  }

  std::string str() const {
    std::ostringstream out;
    out << "<svg xmlns='http://www.w3.org/2000/svg' width='" << width_ << "' height='" << height_
        << "' viewBox='0 0 " << width_ << " " << height_ << "'>\n<rect width='100%' height='100%' fill='#fafafa'/>\n"
        << os_.str() << "</svg>\n";
    return out.str();
  }

 private:
  static bool inside(const Panel& p, double x, double y) {
    const Box& b = p.box();
    return std::isfinite(x) && std::isfinite(y) && x >= b.x0 && x <= b.x1 && y >= b.y0 && y <= b.y1;
  }
  double width_, height_;
  std::ostringstream os_;
};

}  // namespace svg
