// Winograd's F(2x2, 3x3) forward and weight gradient (src/kernels/cpu/conv_winograd.cpp), which the CPU's
// conv_gemm runs for float32 3x3 stride-1 convolutions with 16 channels a group or more: against the reference
// kernel (the definition, summed in another order), over odd and even sizes, padding 0-2, groups, more input
// channels than one micro-kernel call sums (256), several blocks of tiles with a partial last one (and several
// chunks of the weight gradient's sum), strided operands; and the same bits on one and two threads.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include <tensorgrad/base/threads.h>
#include <tensorgrad/kernels/kernel_tables.h>
#include <tensorgrad/tensorgrad.h>

#include "support/kernel_args.h"

#include "../../src/kernels/cpu/conv_winograd.h"

namespace {

using tg::DType;
using tg::Shape;
using tg::Tensor;
namespace k = tg::kernels;

using tgtest::arg;
using tgtest::by_image;
using tgtest::nchw_arg;
using tgtest::nchw_to_columns;

using tgtest::Threads;

struct WinogradCase {
  int64_t n, c, h, w, pad, groups, cout;
};

k::ConvGemmProblem problem(const WinogradCase& c) {
  k::WindowGeometry g;
  g.batch = c.n;
  g.channels = c.c;
  g.in_h = c.h;
  g.in_w = c.w;
  g.out_h = c.h + 2 * c.pad - 2;
  g.out_w = c.w + 2 * c.pad - 2;
  g.kernel_h = g.kernel_w = 3;
  g.pad_h = g.pad_w = c.pad;
  return {g, c.groups, c.cout};
}

const WinogradCase kCases[] = {
    {3, 16, 13, 11, 1, 1, 17},  // odd output sizes: the last tile row and column write one line
    {2, 32, 14, 14, 1, 1, 64},  // the CNN's conv2, two images
    {2, 40, 8, 9, 0, 2, 36},    // two groups of 20 -> 18, no padding
    {1, 16, 6, 7, 2, 1, 16},    // padding 2: the output is larger than the input
    {1, 300, 5, 5, 1, 1, 20},   // 300 input channels: the micro-kernel's sum split at 256
    {5, 16, 3, 3, 1, 1, 16},    // 3x3 images: two tiles a side, the second half outside
    {7, 16, 30, 30, 1, 1, 16},  // 1575 tiles: several blocks of 240, the last one partial
};

// The reference kernel's result: [G, M, N OH OW] (Forward) or [G, M, Cin / G 9] (WeightGrad).
Tensor reference(k::ConvGemmOp op, const k::ConvGemmProblem& pr, const Tensor& a, const Tensor& x) {
  const k::WindowGeometry& g = pr.window;
  const int64_t cols = op == k::ConvGemmOp::Forward ? g.batch * g.out_h * g.out_w : g.channels / pr.groups * 9;
  const int64_t l = g.out_h * g.out_w;
  const bool forward = op == k::ConvGemmOp::Forward;
  Tensor out = Tensor::empty({pr.groups, pr.out_channels / pr.groups, cols});
  k::reference_tables().conv_gemm.find(op, tg::DeviceType::CPU, DType::Float32)(
      op, pr, forward ? by_image(out, l) : arg(out), forward ? arg(a) : by_image(a, l), arg(x), {});
  return out;
}

// The elements of `buffer` at odd positions of its last dimension that are no longer NaN.
int64_t written_between(const Tensor& buffer) {
  const Tensor gaps = buffer.slice(2, 1, buffer.size(2), 2).contiguous();
  const float* gap = gaps.data<float>();
  int64_t written = 0;
  for (int64_t i = 0; i < gaps.numel(); ++i) written += std::isnan(gap[i]) ? 0 : 1;
  return written;
}

TEST(KernelsConvWinograd, MatchesTheDefinitionWithinFloat32Rounding) {
  tg::Generator gen(77);
  for (const WinogradCase& c : kCases) {
    const k::ConvGemmProblem pr = problem(c);
    SCOPED_TRACE(::testing::Message() << c.n << "x" << c.c << "x" << c.h << "x" << c.w << " pad " << c.pad << " groups "
                                      << c.groups << " Cout " << c.cout);
    ASSERT_TRUE(k::conv_gemm_is_winograd(pr, DType::Float32));
    const k::WindowGeometry& g = pr.window;
    const int64_t m = c.cout / c.groups, q = c.c / c.groups * 9, p = c.n * g.out_h * g.out_w;
    // x read through a permuted view ([C, N, H, W] storage, as the input gradient's convolution reads the
    // output's gradient) or with a column stride of 2, the weight with a padded row stride, the result every other
    // element of a buffer.
    // Every other case reads x with a column stride of 2 (a slice) instead.
    const bool permuted = (&c - kCases) % 2 == 0;
    const Tensor x = permuted ? tg::randn({c.c, c.n, c.h, c.w}, DType::Float32, gen).permute({1, 0, 2, 3})
                              : tg::randn({c.n, c.c, c.h, 2 * c.w}, DType::Float32, gen).slice(3, 0, 2 * c.w, 2);
    const Tensor a = tg::randn({c.groups, m, q + 3}, DType::Float32, gen).slice(2, 0, q);
    const Tensor want = reference(k::ConvGemmOp::Forward, pr, a.contiguous(), x.contiguous());
    Tensor buffer = tg::full({c.groups, m, 2 * p}, std::nan(""), DType::Float32);
    const Tensor out = buffer.as_strided({c.groups, m, p}, {m * 2 * p, 2 * p, 2}, 0);
    k::cpu::conv_winograd(pr, by_image(out, g.out_h * g.out_w), arg(a), arg(x));
    // The sum of 9 q / 9 products of unit normals is ~sqrt(q); float32 with the transforms' few extra roundings.
    const double tol = 2e-6 * std::sqrt(static_cast<double>(q)) * 8;
    EXPECT_LE(tg::max(tg::abs(out - want)).item(), tol);
    EXPECT_EQ(written_between(buffer), 0) << "written between the result's elements";
  }
}

TEST(KernelsConvWinograd, WeightGradientMatchesTheDefinitionWithinFloat32Rounding) {
  tg::Generator gen(79);
  for (const WinogradCase& c : kCases) {
    const k::ConvGemmProblem pr = problem(c);
    SCOPED_TRACE(::testing::Message() << c.n << "x" << c.c << "x" << c.h << "x" << c.w << " pad " << c.pad << " groups "
                                      << c.groups << " Cout " << c.cout);
    const k::WindowGeometry& g = pr.window;
    const int64_t m = c.cout / c.groups, q = c.c / c.groups * 9, p = c.n * g.out_h * g.out_w;
    const Tensor x = tg::randn({c.c, c.n, c.h, c.w}, DType::Float32, gen).permute({1, 0, 2, 3});
    // The output's gradient: contiguous rows, then every other element of a buffer (the per-tile path).
    const Tensor dy = tg::randn({c.groups, m, p}, DType::Float32, gen);
    Tensor dy_strided = tg::zeros({c.groups, m, 2 * p}, DType::Float32).slice(2, 0, 2 * p, 2);
    dy_strided.copy_(dy);
    const Tensor want = reference(k::ConvGemmOp::WeightGrad, pr, dy, x.contiguous());
    // Sums of N OH OW products of unit normals.
    const double tol = 2e-6 * std::sqrt(static_cast<double>(p)) * 8;
    for (const Tensor& a : {dy, dy_strided}) {
      Tensor buffer = tg::full({c.groups, m, 2 * q}, std::nan(""), DType::Float32);
      const Tensor out = buffer.slice(2, 0, 2 * q, 2);
      k::cpu::conv_winograd_weight_grad(pr, arg(out), by_image(a, g.out_h * g.out_w), arg(x));
      EXPECT_LE(tg::max(tg::abs(out - want)).item(), tol) << (a.is_contiguous() ? "contiguous" : "strided") << " gradient";
      EXPECT_EQ(written_between(buffer), 0) << "written between the result's elements";
    }
  }
}

TEST(KernelsConvWinograd, SameBitsOnOneAndTwoThreads) {
  tg::Generator gen(78);
  for (const WinogradCase& c : {kCases[1], kCases[6]}) {
    const k::ConvGemmProblem pr = problem(c);
    const k::WindowGeometry& g = pr.window;
    const int64_t m = c.cout / c.groups, p = c.n * g.out_h * g.out_w, q = c.c / c.groups * 9;
    const Tensor x = tg::randn({c.n, c.c, c.h, c.w}, DType::Float32, gen);
    const Tensor w = tg::randn({c.groups, m, q}, DType::Float32, gen);
    const Tensor dy = tg::randn({c.groups, m, p}, DType::Float32, gen);
    for (k::ConvGemmOp op : {k::ConvGemmOp::Forward, k::ConvGemmOp::WeightGrad}) {
      const bool forward = op == k::ConvGemmOp::Forward;
      const Shape shape{c.groups, m, forward ? p : q};
      Tensor one = Tensor::empty(shape), two = Tensor::empty(shape);
      const int64_t l = g.out_h * g.out_w;
      {
        Threads t(1);
        k::conv_gemm(op, pr, forward ? by_image(one, l) : arg(one), forward ? arg(w) : by_image(dy, l), arg(x));
      }
      {
        Threads t(2);
        k::conv_gemm(op, pr, forward ? by_image(two, l) : arg(two), forward ? arg(w) : by_image(dy, l), arg(x));
      }
      EXPECT_EQ(std::memcmp(one.data_ptr(), two.data_ptr(), static_cast<size_t>(one.numel()) * sizeof(float)), 0)
          << k::op_name(op);
    }
  }
}

// The output written in NCHW ([N, Cout, L]) with the bias, and the gradient read from NCHW: the same arithmetic
// as in the [G, M, N L] layout (bit for bit), the bias as the definition adds it.
TEST(KernelsConvWinograd, WritesAndReadsTheImageMajorLayout) {
  tg::Generator gen(80);
  for (const WinogradCase& c : {kCases[0], kCases[1], kCases[2]}) {
    const k::ConvGemmProblem pr = problem(c);
    SCOPED_TRACE(::testing::Message() << c.n << "x" << c.c << "x" << c.h << "x" << c.w << " groups " << c.groups);
    const k::WindowGeometry& g = pr.window;
    const int64_t m = c.cout / c.groups, q = c.c / c.groups * 9, l = g.out_h * g.out_w, p = c.n * l;
    const Tensor x = tg::randn({c.n, c.c, c.h, c.w}, DType::Float32, gen);
    const Tensor w = tg::randn({c.groups, m, q}, DType::Float32, gen);
    const Tensor bias = tg::randn({c.cout}, DType::Float32, gen);
    Tensor columns = Tensor::empty({c.groups, m, p}), image = tg::full({c.n, c.cout, l}, std::nan(""), DType::Float32);
    k::cpu::conv_winograd(pr, by_image(columns, l), arg(w), arg(x), arg(bias));
    k::cpu::conv_winograd(pr, nchw_arg(image, c.groups), arg(w), arg(x), arg(bias));
    const Tensor image_columns = nchw_to_columns(image, c.groups);
    EXPECT_EQ(std::memcmp(image_columns.data_ptr(), columns.data_ptr(), static_cast<size_t>(p * m * c.groups) * 4), 0)
        << "forward into NCHW";
    Tensor ref = Tensor::empty({c.groups, m, p});
    k::reference_tables().conv_gemm.find(k::ConvGemmOp::Forward, tg::DeviceType::CPU, DType::Float32)(
        k::ConvGemmOp::Forward, pr, by_image(ref, l), arg(w), arg(x), arg(bias));
    EXPECT_LE(tg::max(tg::abs(columns - ref)).item(), 2e-6 * std::sqrt(static_cast<double>(q)) * 8) << "with the bias";
    const Tensor grad = tg::randn({c.n, c.cout, l}, DType::Float32, gen);
    Tensor from_image = Tensor::empty({c.groups, m, q}), from_columns = Tensor::empty({c.groups, m, q});
    k::cpu::conv_winograd_weight_grad(pr, arg(from_image), nchw_arg(grad, c.groups), arg(x));
    const Tensor grad_columns = nchw_to_columns(grad, c.groups);
    k::cpu::conv_winograd_weight_grad(pr, arg(from_columns), by_image(grad_columns, l), arg(x));
    EXPECT_EQ(std::memcmp(from_image.data_ptr(), from_columns.data_ptr(), static_cast<size_t>(m * q * c.groups) * 4), 0)
        << "weight gradient from NCHW";
  }
}

TEST(KernelsConvWinograd, TakesOnlyFloat32ThreeByThreeStrideOneWithSixteenChannelsWithinMemory) {
  const k::ConvGemmProblem base = problem({2, 16, 8, 8, 1, 1, 16});
  EXPECT_TRUE(k::conv_gemm_is_winograd(base, DType::Float32));
  EXPECT_FALSE(k::conv_gemm_is_winograd(base, DType::Float64));
  k::ConvGemmProblem p = base;
  p.window.stride_w = 2;
  EXPECT_FALSE(k::conv_gemm_is_winograd(p, DType::Float32));
  p = base;
  p.window.dilation_h = 2;
  EXPECT_FALSE(k::conv_gemm_is_winograd(p, DType::Float32));
  p = base;
  p.window.kernel_h = 1;  // a 1-D kernel of three taps
  EXPECT_FALSE(k::conv_gemm_is_winograd(p, DType::Float32));
  p = base;
  p.out_channels = 15;
  EXPECT_FALSE(k::conv_gemm_is_winograd(p, DType::Float32));
  p = base;
  p.groups = 2;  // 8 channels a group
  p.out_channels = 32;
  EXPECT_FALSE(k::conv_gemm_is_winograd(p, DType::Float32));
  p = base;
  p.window.channels = 15;
  EXPECT_FALSE(k::conv_gemm_is_winograd(p, DType::Float32));
  p = base;
  p.window.batch = int64_t{1} << 16;  // a padded copy of 16 x 65536 x 10 x 10 floats (420 MB)
  EXPECT_FALSE(k::conv_gemm_is_winograd(p, DType::Float32));
  p.window.batch = int64_t{1} << 14;  // 105 MB
  EXPECT_TRUE(k::conv_gemm_is_winograd(p, DType::Float32));
}

}  // namespace
