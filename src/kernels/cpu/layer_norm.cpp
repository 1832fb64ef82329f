// float32 layer normalisation in two passes over memory (the forward reads x and writes y, the backward reads g
// and x and writes dx) where the composed ops took ~9 and ~12. A row's statistics are double sums over 16 lanes
// (element c into lane c % 16, the last n % 16 elements into one accumulator in order, the lanes folded pairwise),
// the same in every ISA clone; the row's outputs are float arithmetic on the float mean and rstd. Rows go in
// blocks, fixed by the row count alone, spread over threads; the weight and bias gradients are one double partial
// per (block, column), added in block order, so every result is the same bits on any thread count.
#include "layer_norm.h"

#include <algorithm>
#include <cmath>

#include "cpu_buffer.h"
#include "isa_clones.h"
#include "parallel.h"

namespace tg::kernels::cpu {

namespace {

constexpr int kLanes = 16;
// Blocks of at least this many rows, and at most kMaxBlocks of them: few enough partial sums to add up at the
// end, enough blocks to share among threads.
constexpr int64_t kRowsPerBlock = 16;
constexpr int64_t kMaxBlocks = 256;

inline double fold(double (&lanes)[kLanes], double tail) {
  for (int w = kLanes / 2; w >= 1; w /= 2)
    for (int l = 0; l < w; ++l) lanes[l] += lanes[l + w];
  return lanes[0] + tail;
}

// The row's mean and 1 / sqrt(biased variance + eps), the variance from the centred values (two passes).
TG_ISA_CLONES void row_statistics(const float* x, int64_t n, double eps, float& mean_out, float& rstd_out) {
  double lanes[kLanes] = {};
  int64_t c = 0;
  for (; c + kLanes <= n; c += kLanes)
    for (int l = 0; l < kLanes; ++l) lanes[l] += static_cast<double>(x[c + l]);
  double tail = 0;
  for (int64_t i = c; i < n; ++i) tail += static_cast<double>(x[i]);
  const double mean = fold(lanes, tail) / static_cast<double>(n);
  double squares[kLanes] = {};
  for (c = 0; c + kLanes <= n; c += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      const double d = static_cast<double>(x[c + l]) - mean;
      squares[l] += d * d;
    }
  tail = 0;
  for (int64_t i = c; i < n; ++i) {
    const double d = static_cast<double>(x[i]) - mean;
    tail += d * d;
  }
  mean_out = static_cast<float>(mean);
  rstd_out = static_cast<float>(1.0 / std::sqrt(fold(squares, tail) / static_cast<double>(n) + eps));
}

TG_ISA_CLONES void normalize_row(float* __restrict y, const float* __restrict x, float mean, float rstd,
                                 const float* __restrict w, const float* __restrict b, int64_t n) {
  if (w != nullptr && b != nullptr) {
    for (int64_t c = 0; c < n; ++c) y[c] = (x[c] - mean) * rstd * w[c] + b[c];
  } else if (w != nullptr) {
    for (int64_t c = 0; c < n; ++c) y[c] = (x[c] - mean) * rstd * w[c];
  } else if (b != nullptr) {
    for (int64_t c = 0; c < n; ++c) y[c] = (x[c] - mean) * rstd + b[c];
  } else {
    for (int64_t c = 0; c < n; ++c) y[c] = (x[c] - mean) * rstd;
  }
}

// The row sums of gw = g w and gw xhat (xhat = (x - mean) rstd) in double, lanes as row_statistics'.
TG_ISA_CLONES void row_gradient_sums(const float* __restrict g, const float* __restrict x, const float* __restrict w,
                                     float mean, float rstd, int64_t n, double& sum_gw, double& sum_gw_xhat) {
  double a[kLanes] = {}, b[kLanes] = {};
  int64_t c = 0;
  for (; c + kLanes <= n; c += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      const float xhat = (x[c + l] - mean) * rstd, gw = w != nullptr ? g[c + l] * w[c + l] : g[c + l];
      a[l] += static_cast<double>(gw);
      b[l] += static_cast<double>(gw) * static_cast<double>(xhat);
    }
  double ta = 0, tb = 0;
  for (int64_t i = c; i < n; ++i) {
    const float xhat = (x[i] - mean) * rstd, gw = w != nullptr ? g[i] * w[i] : g[i];
    ta += static_cast<double>(gw);
    tb += static_cast<double>(gw) * static_cast<double>(xhat);
  }
  sum_gw = fold(a, ta);
  sum_gw_xhat = fold(b, tb);
}

// dx = rstd (gw - mean_gw - xhat mean_gw_xhat).
TG_ISA_CLONES void row_input_gradient(float* __restrict dx, const float* __restrict g, const float* __restrict x,
                                      const float* __restrict w, float mean, float rstd, float mean_gw,
                                      float mean_gw_xhat, int64_t n) {
  for (int64_t c = 0; c < n; ++c) {
    const float xhat = (x[c] - mean) * rstd, gw = w != nullptr ? g[c] * w[c] : g[c];
    dx[c] = rstd * (gw - mean_gw - xhat * mean_gw_xhat);
  }
}

// dw[c] += g xhat and db[c] += g, in double (either may be null).
TG_ISA_CLONES void accumulate_parameter_gradients(double* __restrict dw, double* __restrict db,
                                                  const float* __restrict g, const float* __restrict x, float mean,
                                                  float rstd, int64_t n) {
  if (dw != nullptr)
    for (int64_t c = 0; c < n; ++c)
      dw[c] += static_cast<double>(g[c]) * static_cast<double>((x[c] - mean) * rstd);
  if (db != nullptr)
    for (int64_t c = 0; c < n; ++c) db[c] += static_cast<double>(g[c]);
}

struct Blocks {
  int64_t count = 0, rows_each = 0;
};

Blocks blocks_for(int64_t rows) {
  const int64_t count = std::clamp<int64_t>((rows + kRowsPerBlock - 1) / kRowsPerBlock, 1, kMaxBlocks);
  return {count, (rows + count - 1) / count};
}

int threads_for_rows(const LayerNormProblem& p, const Blocks& blocks) {
  return std::min<int>(threads_for(p.rows * p.cols, kElementwiseGrain), static_cast<int>(blocks.count));
}

const float* f32(const StridedArg& a) { return static_cast<const float*>(a.data); }
float* f32_out(const StridedArg& a) { return static_cast<float*>(a.data); }

}  // namespace

void layer_norm_forward(const LayerNormProblem& p, const LayerNormArgs& a) {
  if (a.x.dtype != DType::Float32) return ref::layer_norm_forward(p, a);
  if (p.rows <= 0 || p.cols <= 0) return;
  const int64_t n = p.cols;
  const Blocks blocks = blocks_for(p.rows);
  parallel_for(blocks.count, threads_for_rows(p, blocks), [&](int64_t first, int64_t last, int) {
    for (int64_t r = first * blocks.rows_each; r < std::min(p.rows, last * blocks.rows_each); ++r) {
      const float* x = f32(a.x) + r * n;
      float mean = 0, rstd = 0;
      row_statistics(x, n, p.eps, mean, rstd);
      normalize_row(f32_out(a.y) + r * n, x, mean, rstd, f32(a.weight), f32(a.bias), n);
      f32_out(a.mean)[r] = mean;
      f32_out(a.rstd)[r] = rstd;
    }
  });
}

void layer_norm_backward(const LayerNormProblem& p, const LayerNormArgs& a) {
  if (a.x.dtype != DType::Float32) return ref::layer_norm_backward(p, a);
  if (p.cols <= 0) return;
  const int64_t n = p.cols;
  const bool want_w = a.grad_weight.data != nullptr, want_b = a.grad_bias.data != nullptr;
  const Blocks blocks = blocks_for(std::max<int64_t>(p.rows, 1));
  // Per block: [dw partial (n), db partial (n)].
  CpuBuffer partials(static_cast<size_t>(blocks.count * 2 * n) * sizeof(double));
  double* part = partials.as<double>();
  std::fill(part, part + blocks.count * 2 * n, 0.0);
  const float* w = f32(a.weight);
  parallel_for(blocks.count, threads_for_rows(p, blocks), [&](int64_t first, int64_t last, int) {
    for (int64_t block = first; block < last; ++block) {
      double* dw = want_w ? part + block * 2 * n : nullptr;
      double* db = want_b ? part + block * 2 * n + n : nullptr;
      for (int64_t r = block * blocks.rows_each; r < std::min(p.rows, (block + 1) * blocks.rows_each); ++r) {
        const float *x = f32(a.x) + r * n, *g = f32(a.grad_out) + r * n;
        const float mean = f32(a.mean)[r], rstd = f32(a.rstd)[r];
        if (a.grad_x.data != nullptr) {
          double sum_gw = 0, sum_gw_xhat = 0;
          row_gradient_sums(g, x, w, mean, rstd, n, sum_gw, sum_gw_xhat);
          row_input_gradient(f32_out(a.grad_x) + r * n, g, x, w, mean, rstd,
                             static_cast<float>(sum_gw / static_cast<double>(n)),
                             static_cast<float>(sum_gw_xhat / static_cast<double>(n)), n);
        }
        accumulate_parameter_gradients(dw, db, g, x, mean, rstd, n);
      }
    }
  });
  for (int64_t c = 0; c < n; ++c) {
    double sw = 0, sb = 0;
    for (int64_t block = 0; block < blocks.count; ++block) {
      sw += part[block * 2 * n + c];
      sb += part[block * 2 * n + n + c];
    }
    if (want_w) f32_out(a.grad_weight)[c] = static_cast<float>(sw);
    if (want_b) f32_out(a.grad_bias)[c] = static_cast<float>(sb);
  }
}

}  // namespace tg::kernels::cpu
