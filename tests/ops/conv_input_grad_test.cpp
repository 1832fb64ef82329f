// The input gradient of a stride-1 convolution with at least 64 input channels a group (or a Winograd backward
// convolution, the last test) is computed as another convolution (src/ops/conv.cpp, input_grad_by_convolution): the output's gradient with the weight transposed
// per group and flipped; the others, in a plain backward, as W^T g and col2im over blocks of images
// (input_grad_by_image_blocks). The op table's cases are too small to reach the first or to make several blocks
// (30 input elements at most), so here: both against col2im of W^T g over the whole batch at realistic sizes, and
// gradcheck / gradgradcheck over small images with 64 channels a group (padding, dilation, groups, 1-D).
#include <gtest/gtest.h>

#include <functional>

#include <tensorgrad/tensorgrad.h>

namespace {

using tg::DType;
using tg::Shape;
using tg::Tensor;
using tg::TensorList;

struct Conv2dCase {
  Shape x, w;
  int64_t pad_h, pad_w, dil_h, dil_w;
};

TEST(ConvInputGrad, MatchesColumnGradientThroughCol2im) {
  tg::Generator gen(31);
  for (const Conv2dCase& c : {Conv2dCase{{2, 64, 9, 9}, {16, 64, 3, 3}, 1, 1, 1, 1},
                              Conv2dCase{{2, 64, 9, 11}, {8, 64, 3, 3}, 0, 0, 1, 1},   // gradient padding 2
                              Conv2dCase{{1, 80, 8, 12}, {8, 80, 5, 3}, 2, 3, 1, 2},   // unequal padding, dilation
                              Conv2dCase{{2, 32, 9, 9}, {8, 32, 3, 3}, 1, 1, 1, 1},    // 32 channels: the columns
                              // the columns in blocks of 11 images (2 MB of float64 columns), the last one of 2
                              Conv2dCase{{13, 32, 9, 9}, {8, 32, 3, 3}, 1, 1, 1, 1},
                              Conv2dCase{{3, 96, 5, 5}, {4, 96, 1, 1}, 0, 0, 1, 1}}) { // 1x1: the columns
    const Tensor x = tg::randn(c.x, DType::Float64, gen).requires_grad_(true);
    const Tensor w = tg::randn(c.w, DType::Float64, gen);
    const Tensor y = tg::conv2d(x, w, {}, 1, {c.pad_h, c.pad_w}, {c.dil_h, c.dil_w});
    const Tensor r = tg::randn(y.shape(), DType::Float64, gen);
    tg::sum(y * r).backward();
    // cols_grad[n] = W^T r[n] ([Cin K, L]), then col2im.
    const int64_t n = c.x[0], cout = c.w[0], l = y.size(2) * y.size(3);
    const Tensor w2 = tg::reshape(w, {cout, -1});
    const Tensor cols_grad = tg::matmul(tg::transpose(w2, 0, 1), tg::reshape(r, {n, cout, l}));
    const Tensor want = tg::col2im(cols_grad, {c.x[2], c.x[3]}, {c.w[2], c.w[3]}, {c.dil_h, c.dil_w},
                                   {c.pad_h, c.pad_w}, 1);
    ASSERT_EQ(x.grad().shape(), c.x);
    EXPECT_LT(tg::max(tg::abs(x.grad() - want)).item(), 1e-10) << "x " << tg::shape_str(c.x) << ", w " << tg::shape_str(c.w);
  }
}

TEST(ConvInputGrad, FirstAndSecondOrderGradcheck) {
  tg::Generator gen(7);
  struct Case {
    const char* name;
    Shape x, w;
    std::function<Tensor(const Tensor&, const Tensor&)> conv;
  };
  const std::vector<Case> cases = {
      {"2-D, padding 1", {1, 64, 2, 3}, {2, 64, 2, 2},
       [](const Tensor& x, const Tensor& w) { return tg::conv2d(x, w, {}, 1, 1); }},
      {"2-D, groups 2", {1, 128, 2, 2}, {2, 64, 2, 2},
       [](const Tensor& x, const Tensor& w) { return tg::conv2d(x, w, {}, 1, 1, 1, 2); }},
      {"2-D, padding (0, 2), dilation (1, 2)", {1, 64, 3, 4}, {2, 64, 2, 3},
       [](const Tensor& x, const Tensor& w) { return tg::conv2d(x, w, {}, 1, {0, 2}, {1, 2}); }},
      {"1-D, padding 3, dilation 2", {1, 64, 5}, {2, 64, 3},
       [](const Tensor& x, const Tensor& w) { return tg::conv1d(x, w, {}, 1, 3, 2); }},
  };
  for (const Case& c : cases) {
    const TensorList inputs{tg::randn(c.x, DType::Float64, gen).requires_grad_(true),
                            tg::randn(c.w, DType::Float64, gen).requires_grad_(true)};
    const auto fn = [&](const TensorList& xs) { return c.conv(xs[0], xs[1]); };
    const tg::GradcheckResult first = tg::gradcheck(fn, inputs);
    EXPECT_TRUE(first.ok) << c.name << ": " << first.message;
    const tg::GradcheckResult second = tg::gradgradcheck(fn, inputs);
    EXPECT_TRUE(second.ok) << c.name << ": " << second.message;
  }
}

// float32 3x3 stride-1 convolutions with 16 channels a group or more run forward by Winograd in the kernel
// layer (kernels::conv_gemm_is_winograd), and so does their input gradient, as a convolution even below 64
// channels: the CNN's conv2 shape (32 -> 64) and a grouped one, against the same computed in float64.
TEST(ConvInputGrad, Float32ByWinogradMatchesFloat64) {
  tg::Generator gen(41);
  for (const Conv2dCase& c : {Conv2dCase{{4, 32, 14, 14}, {64, 32, 3, 3}, 1, 1, 1, 1},
                              Conv2dCase{{3, 64, 9, 7}, {32, 32, 3, 3}, 0, 0, 1, 1}}) {
    const int64_t groups = c.x[1] / c.w[1];
    const Tensor x64 = tg::randn(c.x, DType::Float64, gen), w64 = tg::randn(c.w, DType::Float64, gen);
    const Tensor x32 = x64.to(DType::Float32).requires_grad_(true), w32 = w64.to(DType::Float32).requires_grad_(true);
    const Tensor xr = x64.clone().requires_grad_(true), wr = w64.clone().requires_grad_(true);
    const Tensor y32 = tg::conv2d(x32, w32, {}, 1, {c.pad_h, c.pad_w}, 1, groups);
    const Tensor y64 = tg::conv2d(xr, wr, {}, 1, {c.pad_h, c.pad_w}, 1, groups);
    const Tensor r = tg::randn(y64.shape(), DType::Float64, gen);
    {
      // The input gradient must take the convolution route (a conv_gemm Forward inside the backward), not the
      // blocked columns (the op "conv_input_grad"), which would give the same values.
      tg::profiler::Profile prof;
      tg::sum(y32 * r.to(DType::Float32)).backward();
      prof.stop();
      int64_t blocked = 0, forwards = 0;
      for (const tg::profiler::Event& e : prof.events()) {
        blocked += e.name == "conv_input_grad";
        forwards += e.name == "conv_gemm";
      }
      EXPECT_EQ(blocked, 0);
      EXPECT_EQ(forwards, 1) << "the input gradient's convolution";
    }
    tg::sum(y64 * r).backward();
    const auto max_diff = [](const Tensor& a, const Tensor& b) { return tg::max(tg::abs(a.to(DType::Float64) - b)).item(); };
    SCOPED_TRACE(tg::shape_str(c.x) + " * " + tg::shape_str(c.w));
    // Sums of ~300 (forward) to ~600 (input gradient) unit-normal products: float32 rounding is ~1e-5 of them.
    EXPECT_LT(max_diff(y32, y64), 2e-4);
    EXPECT_LT(max_diff(x32.grad(), xr.grad()), 4e-4);
    EXPECT_LT(max_diff(w32.grad(), wr.grad()), 4e-3);  // sums over every position of the batch
  }
}

}  // namespace
