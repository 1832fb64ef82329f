// Multidimensional scaling with autodiff: recover 2-D coordinates from a matrix of squared distances by
// minimising sum_ij (|w_i - w_j|^2 - D_ij)^2 with Adam. Runs on random points and on a built-in table of
// European cities; prints the stress as it falls and writes an SVG of recovered (after Procrustes alignment)
// vs true points. Exits non-zero when a recovery misses the truth.
//
//   ./build/examples/mds [--out DIR] [--steps N] [--seed S]   -> DIR/mds_random.svg, DIR/mds_cities.svg
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "mds.h"
#include "svg_plot.h"

namespace {

struct City {
  const char* name;
  double lat, lon;
};

// Positions on an equirectangular projection around 50 N, in units of 1000 km.
const City kCities[] = {
    {"Lisbon", 38.72, -9.14},  {"Madrid", 40.42, -3.70},   {"Paris", 48.86, 2.35},    {"London", 51.51, -0.13},
    {"Dublin", 53.35, -6.26},  {"Amsterdam", 52.37, 4.90}, {"Berlin", 52.52, 13.40},  {"Rome", 41.90, 12.50},
    {"Vienna", 48.21, 16.37},  {"Warsaw", 52.23, 21.01},   {"Stockholm", 59.33, 18.07}, {"Athens", 37.98, 23.73},
    {"Oslo", 59.91, 10.75},    {"Budapest", 47.50, 19.04},
};

mds::Points city_points() {
  mds::Points p;
  const double km_per_degree = 111.2, cos_lat0 = std::cos(50.0 * M_PI / 180.0);
  for (const City& c : kCities) p.push_back({c.lon * km_per_degree * cos_lat0 / 1000.0, c.lat * km_per_degree / 1000.0});
  return p;
}

mds::Points random_points(int n, uint64_t seed) {
  tg::Generator gen(seed);
  const auto v = tg::rand({n, 2}, tg::DType::Float64, gen).to_vector<double>();
  mds::Points p;
  for (int i = 0; i < n; ++i) p.push_back({10 * v[static_cast<size_t>(2 * i)], 10 * v[static_cast<size_t>(2 * i + 1)]});
  return p;
}

void write_svg(const std::string& path, const std::string& title, const mds::Points& truth, const mds::Points& fit,
               const std::vector<std::string>& labels) {
  double x0 = 1e300, y0 = 1e300, x1 = -1e300, y1 = -1e300;
  for (const auto* set : {&truth, &fit})
    for (const auto& q : *set) {
      x0 = std::min(x0, q[0]);
      x1 = std::max(x1, q[0]);
      y0 = std::min(y0, q[1]);
      y1 = std::max(y1, q[1]);
    }
  const double side = std::max(x1 - x0, y1 - y0) * 1.1, cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  svg::Document doc(620, 660);
  const svg::Panel pan(60, 70, 500, {cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2});
  doc.frame(pan, title);
  for (size_t i = 0; i < truth.size(); ++i) {
    doc.line(pan.px(truth[i][0]), pan.py(truth[i][1]), pan.px(fit[i][0]), pan.py(fit[i][1]), "#999");
    doc.point(pan, truth[i][0], truth[i][1], "#1f77b4", 5);
    doc.point(pan, fit[i][0], fit[i][1], "#d62728", 3);
    if (i < labels.size()) doc.text(pan.px(truth[i][0]) + 6, pan.py(truth[i][1]) - 6, labels[i], 11);
  }
  doc.point(pan, pan.box().x0, pan.box().y0, "none");
  doc.text(70, 610, "blue: true positions    red: recovered from distances only (after Procrustes alignment)");
  std::ofstream(path) << doc.str();
}

bool run(const std::string& name, const mds::Points& truth, const std::vector<std::string>& labels, int steps,
         uint64_t seed, const std::string& out_dir) {
  const tg::Tensor d = mds::squared_distances(truth);
  const mds::Fit fit = mds::fit(d, steps, 0.02, seed);
  std::printf("%s: %zu points\n", name.c_str(), truth.size());
  for (size_t i = 0; i < fit.stress.size(); ++i)
    if (i % (fit.stress.size() / 10) == 0 || i + 1 == fit.stress.size())
      std::printf("  iter %5zu  stress %.3e\n", i + 1, fit.stress[i]);
  const mds::Points aligned = mds::procrustes(fit.points, truth);
  const double err = mds::relative_error(aligned, truth);
  std::printf("  relative RMS error after Procrustes alignment: %.2e\n", err);
  const std::string path = out_dir + "/mds_" + name + ".svg";
  write_svg(path, "MDS by autodiff: " + name, truth, aligned, labels);
  std::printf("  wrote %s\n", path.c_str());
  return err < 1e-3;
}

}  // namespace

int main(int argc, char** argv) {
  std::string out_dir = ".";
  int steps = 1000;
  uint64_t seed = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--out" && i + 1 < argc) out_dir = argv[++i];
    else if (a == "--steps" && i + 1 < argc) steps = std::atoi(argv[++i]);
    else if (a == "--seed" && i + 1 < argc) seed = std::strtoull(argv[++i], nullptr, 10);
    else {
      std::printf("usage: %s [--out DIR] [--steps N] [--seed S]\n", argv[0]);
      return a == "--help" ? 0 : 2;
    }
  }
  std::vector<std::string> names;
  for (const City& c : kCities) names.emplace_back(c.name);
  bool ok = run("random", random_points(30, seed), {}, steps, seed, out_dir);
  ok &= run("cities", city_points(), names, steps, seed, out_dir);
  if (!ok) std::fprintf(stderr, "mds: a recovery missed the true points\n");
  return ok ? 0 : 1;
}
