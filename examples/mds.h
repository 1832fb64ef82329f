#pragma once
// Multidimensional scaling by autodiff: recover coordinates W (N x d) from squared distances D by minimising
// L(W) = sum_ij (|w_i - w_j|^2 - D_ij)^2 / N^2 with Adam, then align them to reference points (Procrustes:
// translation, rotation and reflection, which distances cannot see). Shared by examples/mds.cpp and its test.
#include <tensorgrad/tensorgrad.h>

#include <cmath>
#include <functional>
#include <vector>

namespace mds {

using Points = std::vector<std::array<double, 2>>;

inline tg::Tensor squared_distances(const tg::Tensor& w) {
  const tg::Tensor diff = tg::unsqueeze(w, 1) - tg::unsqueeze(w, 0);  // [N, N, d]
  return tg::sum(diff * diff, {-1});
}

inline tg::Tensor squared_distances(const Points& p) {
  std::vector<double> flat;
  for (const auto& q : p) flat.insert(flat.end(), q.begin(), q.end());
  tg::NoGradGuard no_grad;
  return squared_distances(tg::from_vector(flat, {static_cast<int64_t>(p.size()), 2}));
}

// Relative stress sqrt(sum (|w_i - w_j|^2 - D_ij)^2 / sum D_ij^2).
inline double stress(const tg::Tensor& w, const tg::Tensor& d) {
  tg::NoGradGuard no_grad;
  const tg::Tensor r = squared_distances(w) - d;
  return std::sqrt(tg::sum(r * r).item() / tg::sum(d * d).item());
}

struct Fit {
  Points points;
  std::vector<double> stress;  // per iteration
};

// Fits 2-D coordinates to squared distances `d` ([N, N] float64).
inline Fit fit(const tg::Tensor& d, int steps, double lr, uint64_t seed) {
  const int64_t n = d.size(0);
  tg::Generator gen(seed);
  const double scale = std::sqrt(tg::max(d).item());  // start at the data's size
  tg::Tensor w = (tg::randn({n, 2}, tg::DType::Float64, gen) * (0.3 * scale)).requires_grad_();
  tg::optim::Adam opt({w}, tg::optim::AdamOptions{.lr = lr * scale});
  Fit out;
  const double norm = 1.0 / static_cast<double>(n * n) / (scale * scale * scale * scale);
  for (int i = 0; i < steps; ++i) {
    const tg::Tensor r = squared_distances(w) - d;
    const tg::Tensor loss = tg::sum(r * r) * norm;
    opt.zero_grad();
    loss.backward();
    opt.step();
    out.stress.push_back(stress(w, d));
  }
  const auto v = w.detach().contiguous().to_vector<double>();
  for (int64_t i = 0; i < n; ++i) out.points.push_back({v[static_cast<size_t>(2 * i)], v[static_cast<size_t>(2 * i + 1)]});
  return out;
}

// `p` moved onto `ref` by the best translation and orthogonal map (rotation, or rotation with reflection).
inline Points procrustes(const Points& p, const Points& ref) {
  const size_t n = p.size();
  std::array<double, 2> cp{0, 0}, cr{0, 0};
  for (size_t i = 0; i < n; ++i)
    for (int k = 0; k < 2; ++k) {
      cp[k] += p[i][k] / static_cast<double>(n);
      cr[k] += ref[i][k] / static_cast<double>(n);
    }
  Points best;
  double best_err = INFINITY;
  for (double flip : {1.0, -1.0}) {
    // With P centred (y flipped or not) and R centred, the best rotation angle is atan2(sum px ry - py rx,
    // sum px rx + py ry).
    double a = 0, b = 0;
    for (size_t i = 0; i < n; ++i) {
      const double px = p[i][0] - cp[0], py = flip * (p[i][1] - cp[1]);
      const double rx = ref[i][0] - cr[0], ry = ref[i][1] - cr[1];
      a += px * rx + py * ry;
      b += px * ry - py * rx;
    }
    const double t = std::atan2(b, a), c = std::cos(t), s = std::sin(t);
    Points out;
    double err = 0;
    for (size_t i = 0; i < n; ++i) {
      const double px = p[i][0] - cp[0], py = flip * (p[i][1] - cp[1]);
      out.push_back({c * px - s * py + cr[0], s * px + c * py + cr[1]});
      err += std::pow(out.back()[0] - ref[i][0], 2) + std::pow(out.back()[1] - ref[i][1], 2);
    }
    if (err < best_err) {
      best_err = err;
      best = out;
    }
  }
  return best;
}

// RMS distance between matched points over the RMS spread of `ref` around its centre.
inline double relative_error(const Points& p, const Points& ref) {
  const size_t n = p.size();
  double cx = 0, cy = 0;
  for (const auto& q : ref) {
    cx += q[0] / static_cast<double>(n);
    cy += q[1] / static_cast<double>(n);
  }
  double err = 0, spread = 0;
  for (size_t i = 0; i < n; ++i) {
    err += std::pow(p[i][0] - ref[i][0], 2) + std::pow(p[i][1] - ref[i][1], 2);
    spread += std::pow(ref[i][0] - cx, 2) + std::pow(ref[i][1] - cy, 2);
  }
  return std::sqrt(err / spread);
}

}  // namespace mds
