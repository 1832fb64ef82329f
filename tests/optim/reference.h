#pragma once
// Hand-written reference optimizers in plain double arithmetic, transcribing the algorithms documented
// for torch.optim.SGD / Adam / AdamW / RMSprop (maximize = false, foreach/fused off), and a driver that
// runs a tensorgrad optimizer beside one for a few steps and compares the parameters element by element.
#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <vector>

#include <gtest/gtest.h>
#include <tensorgrad/tensorgrad.h>

namespace tgtest::optim {

using Vec = std::vector<double>;

struct SgdRef {
  double lr = 1e-3, momentum = 0.0, dampening = 0.0, weight_decay = 0.0;
  bool nesterov = false;
  Vec buf{};
  void step(Vec& p, const Vec& grad) {
    const bool first = buf.empty();
    if (first) buf.assign(p.size(), 0.0);
    for (size_t i = 0; i < p.size(); ++i) {
      double g = grad[i];
      if (weight_decay != 0.0) g += weight_decay * p[i];
      if (momentum != 0.0) {
        buf[i] = first ? g : momentum * buf[i] + (1.0 - dampening) * g;
        g = nesterov ? g + momentum * buf[i] : buf[i];
      }
      p[i] -= lr * g;
    }
  }
};

struct AdamRef {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
  bool amsgrad = false, decoupled = false;  // decoupled: AdamW
  Vec m{}, v{}, v_max{};
  int t = 0;
  void step(Vec& p, const Vec& grad) {
    if (m.empty()) m.assign(p.size(), 0.0), v.assign(p.size(), 0.0), v_max.assign(p.size(), 0.0);
    ++t;
    const double bc1 = 1.0 - std::pow(beta1, t), bc2 = 1.0 - std::pow(beta2, t);
    for (size_t i = 0; i < p.size(); ++i) {
      double g = grad[i];
      if (weight_decay != 0.0) {
        if (decoupled) p[i] *= 1.0 - lr * weight_decay;
        else g += weight_decay * p[i];
      }
      m[i] = beta1 * m[i] + (1.0 - beta1) * g;
      v[i] = beta2 * v[i] + (1.0 - beta2) * g * g;
      double second = v[i];
      if (amsgrad) second = v_max[i] = std::max(v_max[i], v[i]);
      const double m_hat = m[i] / bc1, v_hat = second / bc2;
      // torch's form: (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps) == lr * m_hat / (sqrt(v_hat) + eps)
      p[i] -= lr * m_hat / (std::sqrt(v_hat) + eps);
    }
  }
};

struct RmspropRef {
  double lr = 1e-2, alpha = 0.99, eps = 1e-8, weight_decay = 0.0, momentum = 0.0;
  bool centered = false;
  Vec square_avg{}, grad_avg{}, buf{};
  void step(Vec& p, const Vec& grad) {
    if (square_avg.empty())
      square_avg.assign(p.size(), 0.0), grad_avg.assign(p.size(), 0.0), buf.assign(p.size(), 0.0);
    for (size_t i = 0; i < p.size(); ++i) {
      double g = grad[i];
      if (weight_decay != 0.0) g += weight_decay * p[i];
      square_avg[i] = alpha * square_avg[i] + (1.0 - alpha) * g * g;
      double avg;
      if (centered) {
        grad_avg[i] = alpha * grad_avg[i] + (1.0 - alpha) * g;
        avg = std::sqrt(square_avg[i] - grad_avg[i] * grad_avg[i]) + eps;
      } else {
        avg = std::sqrt(square_avg[i]) + eps;
      }
      if (momentum > 0.0) {
        buf[i] = momentum * buf[i] + g / avg;
        p[i] -= lr * buf[i];
      } else {
        p[i] -= lr * g / avg;
      }
    }
  }
};

// The test problem: p0 (exact in float32) and the quadratic loss sum(c * p^2 / 2 + b * p), so grad = c * p + b.
inline const Vec kP0{0.5, -1.5, 2.0, 0.25};
inline const Vec kC{1.0, 2.0, 0.5, 3.0};
inline const Vec kB{0.1, -0.2, 0.3, -0.4};
// Explicit gradients, shrinking fast in the first element so AMSGrad's running maximum differs from v.
inline const std::vector<Vec> kGivenGrads{{1.0, -2.0, 0.5, 3.0}, {0.01, -0.05, 0.02, -0.3}, {0.001, 0.4, -0.01, 0.03}};

enum class GradSource { Quadratic, Given };

inline Vec quadratic_grad(const Vec& p) {
  Vec g(p.size());
  for (size_t i = 0; i < p.size(); ++i) g[i] = kC[i] * p[i] + kB[i];
  return g;
}

// Computes the parameter's gradient for step k, with backward (Quadratic) or set_grad (Given).
inline void make_grad(tg::Tensor& p, GradSource source, size_t k) {
  if (source == GradSource::Quadratic) {
    const tg::Tensor c = tg::from_vector(kC).to(p.dtype()), b = tg::from_vector(kB).to(p.dtype());
    tg::sum(c * p * p * 0.5 + b * p).backward();
  } else {
    p.set_grad(tg::from_vector(kGivenGrads[k]).to(p.dtype()));
  }
}

inline Vec values(const tg::Tensor& t) { return t.to(tg::DType::Float64).contiguous().to_vector<double>(); }

using MakeOptimizer = std::function<std::unique_ptr<tg::optim::Optimizer>(std::vector<tg::Tensor>)>;

// Runs `steps` updates of a fresh parameter with the optimizer and with the reference, comparing after each.
template <class Ref>
void check_against_reference(const MakeOptimizer& make, Ref ref, tg::DType dtype, GradSource source,
                             int steps = 3) {
  SCOPED_TRACE(std::string("dtype ") + tg::dtype_name(dtype) +
               (source == GradSource::Quadratic ? ", quadratic loss" : ", given gradients"));
  const double tol = dtype == tg::DType::Float64 ? 1e-13 : 2e-6;
  tg::Tensor p = tg::from_vector(kP0).to(dtype);
  p.requires_grad_();
  auto opt = make({p});
  Vec ref_p = kP0;
  for (int k = 0; k < steps; ++k) {
    opt->zero_grad();
    make_grad(p, source, static_cast<size_t>(k));
    const Vec g = source == GradSource::Quadratic ? quadratic_grad(ref_p) : kGivenGrads[static_cast<size_t>(k)];
    ref.step(ref_p, g);
    opt->step();
    const Vec got = values(p);
    ASSERT_EQ(got.size(), ref_p.size());
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_NEAR(got[i], ref_p[i], tol * std::max(1.0, std::abs(ref_p[i]))) << "step " << k + 1 << ", element " << i;
    // The update moved the parameter: a reference that did nothing would not pass.
    EXPECT_NE(ref_p, kP0);
  }
}

// Both dtypes and both gradient sources.
template <class Ref>
void check_all(const MakeOptimizer& make, const Ref& ref) {
  for (const tg::DType dtype : {tg::DType::Float64, tg::DType::Float32})
    for (const GradSource source : {GradSource::Quadratic, GradSource::Given})
      check_against_reference(make, ref, dtype, source);
}

}  // namespace tgtest::optim
