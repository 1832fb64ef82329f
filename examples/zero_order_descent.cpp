// Gradient descent (gradients by autodiff) and zero-order descent (ZOSGD: two-point Gaussian estimates from
// function values only) side by side on a 2-D quadratic and on Rosenbrock's function. Writes the
// trajectories as CSV and an SVG contour plot with both paths.
//
//   ./build/examples/zero_order_descent [--out DIR] [--seed S]
//   -> DIR/zero_order_paths.csv, DIR/zero_order_paths.svg
#include <tensorgrad/tensorgrad.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "svg_plot.h"

namespace {

struct Problem {
  std::string name;
  std::function<tg::Tensor(const tg::Tensor&)> f;  // on a [2] float64 tensor
  std::function<double(double, double)> value;     // the same, on doubles (for contours)
  std::vector<double> start;
  double lr;
  int steps;
  svg::Box box;
  std::vector<double> levels;
};

struct Step {
  int iter;
  double x, y, f;
  int64_t evaluations;
};

std::vector<Step> gradient_descent(const Problem& p) {
  tg::Tensor w = tg::from_vector(p.start);
  std::vector<Step> path;
  for (int i = 0; i <= p.steps; ++i) {
    const auto [value, g] = tg::value_and_grad(p.f, w);
    path.push_back({i, w.at<double>({0}), w.at<double>({1}), value.item(), static_cast<int64_t>(i)});
    if (i == p.steps) break;
    tg::NoGradGuard no_grad;
    w.sub_(g, p.lr);
  }
  return path;
}

std::vector<Step> zero_order_descent(const Problem& p, uint64_t seed) {
  tg::Tensor w = tg::from_vector(p.start);
  tg::optim::ZOSGDOptions o;
  o.lr = p.lr;
  o.zo.estimator = tg::ZoEstimator::Gaussian;
  o.zo.directions = 4;
  o.zo.smoothing = 1e-4;
  o.seed = seed;
  tg::optim::ZOSGD opt({w}, o);
  auto loss = [&]() { return p.f(w); };
  std::vector<Step> path;
  for (int i = 0; i <= p.steps; ++i) {
    path.push_back({i, w.at<double>({0}), w.at<double>({1}), loss().item(), opt.evaluations()});
    if (i == p.steps) break;
    opt.step(loss);
  }
  return path;
}

std::vector<double> geometric_levels(double lo, double hi, int n) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i) out.push_back(lo * std::pow(hi / lo, static_cast<double>(i) / (n - 1)));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string out_dir = ".";
  uint64_t seed = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--out" && i + 1 < argc) out_dir = argv[++i];
    else if (a == "--seed" && i + 1 < argc) seed = std::strtoull(argv[++i], nullptr, 10);
    else {
      std::printf("usage: %s [--out DIR] [--seed S]\n", argv[0]);
      return a == "--help" ? 0 : 2;
    }
  }

  using tg::Tensor;
  std::vector<Problem> problems;
  problems.push_back({"quadratic  f = (x^2 + 10 y^2) / 2",
                      [](const Tensor& w) {
                        return (tg::square(tg::select(w, 0, 0)) + tg::square(tg::select(w, 0, 1)) * 10.0) * 0.5;
                      },
                      [](double x, double y) { return 0.5 * (x * x + 10 * y * y); },
                      {-2.5, 1.2},
                      0.09,
                      120,
                      {-3, -2, 3, 2},
                      geometric_levels(0.01, 20, 14)});
  problems.push_back({"Rosenbrock  f = (1 - x)^2 + 100 (y - x^2)^2",
                      [](const Tensor& w) {
                        const Tensor x = tg::select(w, 0, 0), y = tg::select(w, 0, 1);
                        return tg::square(1.0 - x) + tg::square(y - tg::square(x)) * 100.0;
                      },
                      [](double x, double y) { return (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x); },
                      {-1.5, 2.0},
                      5e-4,
                      20000,
                      {-2, -1, 2, 3},
                      geometric_levels(0.05, 2000, 16)});

  const std::string csv_path = out_dir + "/zero_order_paths.csv", svg_path = out_dir + "/zero_order_paths.svg";
  std::ofstream csv(csv_path);
  if (!csv) {
    std::fprintf(stderr, "cannot write %s\n", csv_path.c_str());
    return 1;
  }
  csv << "problem,method,iter,x,y,f,evaluations\n";
  svg::Document doc(1000, 560);
  const double panel = 420;
  for (size_t k = 0; k < problems.size(); ++k) {
    const Problem& p = problems[k];
    const std::vector<Step> gd = gradient_descent(p), zo = zero_order_descent(p, seed);
    const char* short_name = k == 0 ? "quadratic" : "rosenbrock";
    for (const auto* path : {&gd, &zo})
      for (const Step& s : *path)
        csv << short_name << "," << (path == &gd ? "gd" : "zo") << "," << s.iter << "," << s.x << "," << s.y << ","
            << s.f << "," << s.evaluations << "\n";
    std::printf("%-46s GD: f = %.3e after %d steps (%d gradients) | ZO: f = %.3e (%lld function evaluations)\n",
                p.name.c_str(), gd.back().f, p.steps, p.steps, zo.back().f,
                static_cast<long long>(zo.back().evaluations));

    const svg::Panel pan(50 + static_cast<double>(k) * 480, 60, panel, p.box);
    doc.frame(pan, p.name);
    doc.contours(pan, p.value, p.levels);
    const size_t stride = std::max<size_t>(1, gd.size() / 2000);
    std::vector<std::pair<double, double>> gd_pts, zo_pts;
    for (size_t i = 0; i < gd.size(); i += stride) gd_pts.emplace_back(gd[i].x, gd[i].y);
    for (size_t i = 0; i < zo.size(); i += stride) zo_pts.emplace_back(zo[i].x, zo[i].y);
    gd_pts.emplace_back(gd.back().x, gd.back().y);
    zo_pts.emplace_back(zo.back().x, zo.back().y);
    doc.polyline(pan, gd_pts, "#d62728", 2);
    doc.polyline(pan, zo_pts, "#2ca02c", 1.5);
    doc.point(pan, p.start[0], p.start[1], "#000", 4);
    doc.point(pan, k == 0 ? 0.0 : 1.0, k == 0 ? 0.0 : 1.0, "#ff7f0e", 5);
  }
  doc.line(60, 530, 90, 530, "#d62728", 2);
  doc.text(95, 534, "gradient descent (autodiff)");
  doc.line(320, 530, 350, 530, "#2ca02c", 2);
  doc.text(355, 534, "zero-order descent (ZOSGD, 4 Gaussian directions, 8 evaluations / step)");
  doc.text(50, 25, "tensorgrad: gradient descent vs zero-order descent (black: start, orange: minimum)", 16);
  std::ofstream(svg_path) << doc.str();
  std::printf("wrote %s and %s\n", csv_path.c_str(), svg_path.c_str());
  return 0;
}
