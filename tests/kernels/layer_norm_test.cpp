// The fused layer norm kernels (kernels::layer_norm_forward / layer_norm_backward): the CPU's float32 kernel
// against the reference (double sums in index order) and both against the definition computed here in double;
// the same bits on 1 and 2 threads; rows whose length is not a multiple of the 16 lanes, one row, more rows than
// the 256 blocks, with and without weight and bias, each gradient wanted alone.
#include <cmath>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include <tensorgrad/kernels/kernel_tables.h>
#include <tensorgrad/tensorgrad.h>

#include "support/kernel_args.h"

namespace {

using tg::DType;
using tg::Tensor;
namespace k = tg::kernels;
using tgtest::arg;

k::StridedArg arg_or_none(const Tensor& t) { return t.defined() ? arg(t) : k::StridedArg{}; }

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.numel() == b.numel() &&
         std::memcmp(a.data_ptr(), b.data_ptr(), static_cast<size_t>(a.numel()) * tg::itemsize(a.dtype())) == 0;
}

struct Result {
  Tensor y, mean, rstd, dx, dw, db;
};

// Forward then backward through `tables` (the production or the reference ones).
Result run(const k::KernelTables& tables, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& g,
           double eps, bool want_x, bool want_w, bool want_b) {
  const int64_t rows = x.size(0), cols = x.size(1);
  const DType dt = x.dtype();
  Result r{Tensor::empty({rows, cols}, dt), Tensor::empty({rows}, dt), Tensor::empty({rows}, dt),
           want_x ? Tensor::empty({rows, cols}, dt) : Tensor(), want_w ? Tensor::empty({cols}, dt) : Tensor(),
           want_b ? Tensor::empty({cols}, dt) : Tensor()};
  k::LayerNormArgs a;
  a.x = arg(x), a.weight = arg_or_none(w), a.bias = arg_or_none(b);
  a.y = arg(r.y), a.mean = arg(r.mean), a.rstd = arg(r.rstd);
  tables.layer_norm_forward.find(tg::DeviceType::CPU, dt)({rows, cols, eps}, a);
  a.grad_out = arg(g), a.grad_x = arg_or_none(r.dx), a.grad_weight = arg_or_none(r.dw), a.grad_bias = arg_or_none(r.db);
  tables.layer_norm_backward.find(tg::DeviceType::CPU, dt)({rows, cols, eps}, a);
  return r;
}

// The definition in double: y, and the gradients of sum(g * y).
Result definition(const Tensor& x32, const Tensor& w32, const Tensor& b32, const Tensor& g32, double eps) {
  const Tensor x = x32.to(DType::Float64), g = g32.to(DType::Float64);
  const Tensor mean = tg::mean(x, {1}, true), c = x - mean;
  const Tensor rstd = tg::rsqrt(tg::mean(c * c, {1}, true) + eps), xhat = c * rstd;
  const Tensor w = w32.defined() ? w32.to(DType::Float64) : tg::ones({x.size(1)}, DType::Float64);
  Tensor y = xhat * w;
  if (b32.defined()) y = y + b32.to(DType::Float64);
  const Tensor gw = g * w;
  const Tensor dx = rstd * (gw - tg::mean(gw, {1}, true) - xhat * tg::mean(gw * xhat, {1}, true));
  return {y, mean.reshape({-1}), rstd.reshape({-1}), dx, tg::sum(g * xhat, {0}), tg::sum(g, {0})};
}

double max_error(const Tensor& got, const Tensor& want) {
  return tg::max(tg::abs(got.to(DType::Float64) - want.to(DType::Float64))).item();
}
double max_size(const Tensor& t) { return tg::max(tg::abs(t.to(DType::Float64))).item() + 1e-30; }

TEST(KernelsLayerNorm, CpuKernelMatchesTheReferenceAndTheDefinitionOnAnyThreadCount) {
  tg::Generator gen(21);
  struct Shape2 {
    int64_t rows, cols;
  };
  for (const Shape2 s : {Shape2{1, 1}, Shape2{3, 7}, Shape2{1, 144}, Shape2{1600, 144}, Shape2{37, 33},
                         Shape2{5000, 17}, Shape2{64, 1000}}) {
    for (int affine = 0; affine < 4; ++affine) {
      const Tensor x = tg::randn({s.rows, s.cols}, DType::Float32, gen) * 3.0 + 1.5;
      const Tensor g = tg::randn({s.rows, s.cols}, DType::Float32, gen);
      const Tensor w = affine & 1 ? tg::randn({s.cols}, DType::Float32, gen) : Tensor();
      const Tensor b = affine & 2 ? tg::randn({s.cols}, DType::Float32, gen) : Tensor();
      const double eps = 1e-5;
      const std::string what = std::to_string(s.rows) + "x" + std::to_string(s.cols) + " affine " +
                               std::to_string(affine);
      Result one, two;
      {
        tgtest::Threads t(1);
        one = run(k::kernel_tables(), x, w, b, g, eps, true, w.defined(), b.defined());
      }
      {
        tgtest::Threads t(2);
        two = run(k::kernel_tables(), x, w, b, g, eps, true, w.defined(), b.defined());
      }
      const Result ref = run(k::reference_tables(), x, w, b, g, eps, true, w.defined(), b.defined());
      const Result exact = definition(x, w, b, g, eps);
      for (auto [a, c, name] : {std::tuple{one.y, two.y, "y"}, std::tuple{one.mean, two.mean, "mean"},
                                std::tuple{one.rstd, two.rstd, "rstd"}, std::tuple{one.dx, two.dx, "dx"},
                                std::tuple{one.dw, two.dw, "dw"}, std::tuple{one.db, two.db, "db"}}) {
        if (!a.defined()) continue;
        EXPECT_TRUE(same_bits(a, c)) << name << " differs between 1 and 2 threads, " << what;
      }
      for (auto [got, r, want, name] :
           {std::tuple{one.y, ref.y, exact.y, "y"}, std::tuple{one.mean, ref.mean, exact.mean, "mean"},
            std::tuple{one.rstd, ref.rstd, exact.rstd, "rstd"}, std::tuple{one.dx, ref.dx, exact.dx, "dx"},
            std::tuple{one.dw, ref.dw, exact.dw, "dw"}, std::tuple{one.db, ref.db, exact.db, "db"}}) {
        if (!got.defined()) continue;
        // float32 outputs from float arithmetic on a few terms; dx's terms cancel, so against its largest value.
        const double scale = max_size(want), tol = 2e-6 * scale;
        EXPECT_LE(max_error(got, want), tol) << name << " (cpu) against the definition, " << what;
        EXPECT_LE(max_error(r, want), tol) << name << " (reference) against the definition, " << what;
      }
    }
  }
}

TEST(KernelsLayerNorm, EachGradientCanBeAskedForAlone) {
  tg::Generator gen(22);
  const Tensor x = tg::randn({40, 24}, DType::Float32, gen), g = tg::randn({40, 24}, DType::Float32, gen);
  const Tensor w = tg::randn({24}, DType::Float32, gen), b = tg::randn({24}, DType::Float32, gen);
  const Result all = run(k::kernel_tables(), x, w, b, g, 1e-5, true, true, true);
  for (int only = 0; only < 3; ++only) {
    const Result r = run(k::kernel_tables(), x, w, b, g, 1e-5, only == 0, only == 1, only == 2);
    const Tensor& got = only == 0 ? r.dx : only == 1 ? r.dw : r.db;
    const Tensor& want = only == 0 ? all.dx : only == 1 ? all.dw : all.db;
    EXPECT_TRUE(same_bits(got, want)) << "gradient " << only << " alone";
  }
}

TEST(KernelsLayerNorm, Float64IsTheReference) {
  tg::Generator gen(23);
  const Tensor x = tg::randn({50, 30}, DType::Float64, gen), g = tg::randn({50, 30}, DType::Float64, gen);
  const Tensor w = tg::randn({30}, DType::Float64, gen), b = tg::randn({30}, DType::Float64, gen);
  const Result got = run(k::kernel_tables(), x, w, b, g, 1e-5, true, true, true);
  const Result want = definition(x, w, b, g, 1e-5);
  for (auto [a, c] : {std::pair{got.y, want.y}, std::pair{got.dx, want.dx}, std::pair{got.dw, want.dw},
                      std::pair{got.db, want.db}})
    EXPECT_LE(max_error(a, c), 1e-12 * max_size(c));
}

}  // namespace
