// The direct weight gradient of a convolution with few taps a filter (src/kernels/cpu/conv_direct_weight_grad.cpp),
// which the CPU's conv_gemm runs for float32 stride-1 and stride-2 weight gradients of at most 16 taps: against the
// reference kernel (the definition, summed in another order), over padding, dilation, groups, one to 16 taps, rows of one,
// two and three 16-column steps with partial last steps, and strided operands; the same bits on one and two
// threads and from every ISA's row (AVX-512, AVX2 and the portable one, where this CPU has them).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include <tensorgrad/kernels/kernel_tables.h>
#include <tensorgrad/tensorgrad.h>

#include "support/kernel_args.h"

#include "../../src/kernels/cpu/conv_direct_weight_grad.h"
#include "../../src/kernels/cpu/cpu_features.h"

namespace {

using tg::DType;
using tg::Tensor;
namespace k = tg::kernels;
namespace cpu = tg::kernels::cpu;

using tgtest::arg;
using tgtest::by_image;
using tgtest::nchw_arg;
using tgtest::Threads;

struct DirectCase {
  int64_t n, c, h, w, kh, kw, pad_h, pad_w, dilation, groups, cout;
  int64_t stride = 1;
};

k::ConvGemmProblem problem(const DirectCase& c) {
  k::WindowGeometry g;
  g.batch = c.n;
  g.channels = c.c;
  g.in_h = c.h;
  g.in_w = c.w;
  g.kernel_h = c.kh;
  g.kernel_w = c.kw;
  g.pad_h = c.pad_h;
  g.pad_w = c.pad_w;
  g.dilation_h = g.dilation_w = c.dilation;
  g.stride_h = g.stride_w = c.stride;
  g.out_h = (c.h + 2 * c.pad_h - c.dilation * (c.kh - 1) - 1) / c.stride + 1;
  g.out_w = (c.w + 2 * c.pad_w - c.dilation * (c.kw - 1) - 1) / c.stride + 1;
  return {g, c.groups, c.cout};
}

const DirectCase kCases[] = {
    {4, 1, 28, 28, 3, 3, 1, 1, 1, 1, 32},   // the CNN's conv1: rows of 28 (a 16-column step and a 12-column one)
    {3, 1, 14, 14, 3, 3, 0, 0, 1, 1, 5},    // no padding: 12 columns, one partial step
    {2, 4, 9, 30, 2, 2, 0, 1, 1, 2, 6},     // two groups of 2 channels, 2x2: 8 taps; 31 columns
    {2, 1, 20, 40, 4, 4, 2, 3, 1, 1, 3},    // 16 taps (the most), 43 columns: three steps, the last of 11
    {2, 2, 10, 22, 3, 2, 1, 2, 2, 1, 4},    // dilation 2, padding 1 x 2: 24 columns, 12 taps
    {1, 3, 5, 16, 1, 1, 0, 0, 1, 1, 7},     // 1x1 over 3 channels: exactly one step a row
    {2, 1, 4, 30, 3, 3, 0, 1, 1, 1, 3},     // one channel 3x3 (by the image's rows): 2 output rows, 30 columns
    {3, 1, 5, 28, 3, 3, 0, 0, 2, 1, 2},     // ... dilation 2: one output row, 24 columns
    {1, 2, 3, 14, 3, 3, 1, 1, 1, 2, 4},     // ... and 2 groups of 1 channel: 3 output rows, 14 columns
    // Stride 2, from the image's four even / odd phases:
    {2, 1, 40, 80, 3, 3, 1, 1, 1, 1, 6, 2},   // the ASR model's first layer: 20 x 40 out, rows of three steps
    {2, 2, 17, 33, 3, 2, 1, 0, 1, 1, 3, 2},   // 2 channels 3x2 (12 taps), odd sizes: 9 x 16 out
    {1, 2, 12, 60, 2, 2, 0, 1, 1, 2, 4, 2},   // 2 groups, 2x2, padding only across: 6 x 31 out
    {3, 1, 9, 27, 3, 3, 2, 2, 1, 1, 2, 2},    // padding 2 (the first padded row is odd): 6 x 15 out
};

Tensor reference(const k::ConvGemmProblem& pr, const Tensor& a, const Tensor& x) {
  const k::WindowGeometry& g = pr.window;
  const int64_t q = g.channels / pr.groups * g.kernel_h * g.kernel_w, l = g.out_h * g.out_w;
  Tensor out = Tensor::empty({pr.groups, pr.out_channels / pr.groups, q});
  k::reference_tables().conv_gemm.find(k::ConvGemmOp::WeightGrad, tg::DeviceType::CPU, DType::Float32)(
      k::ConvGemmOp::WeightGrad, pr, arg(out), by_image(a, l), arg(x), {});
  return out;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  const Tensor ac = a.contiguous(), bc = b.contiguous();
  return ac.shape() == bc.shape() &&
         std::memcmp(ac.data_ptr(), bc.data_ptr(), static_cast<size_t>(ac.numel()) * sizeof(float)) == 0;
}

TEST(KernelsConvDirectWeightGrad, MatchesTheDefinitionWithinFloat32Rounding) {
  tg::Generator gen(91);
  for (const DirectCase& c : kCases) {
    const k::ConvGemmProblem pr = problem(c);
    const k::WindowGeometry& g = pr.window;
    SCOPED_TRACE(::testing::Message() << c.n << "x" << c.c << "x" << c.h << "x" << c.w << " kernel " << c.kh << "x"
                                      << c.kw << " out " << g.out_h << "x" << g.out_w << " groups " << c.groups);
    ASSERT_TRUE(cpu::conv_weight_grad_is_direct(pr, DType::Float32));
    const int64_t m = c.cout / c.groups, q = c.c / c.groups * c.kh * c.kw, l = g.out_h * g.out_w, p = c.n * l;
    // x through a permuted view ([C, N, H, W] storage) or with a column stride of 2.
    const bool permuted = (&c - kCases) % 2 == 0;
    const Tensor x = permuted ? tg::randn({c.c, c.n, c.h, c.w}, DType::Float32, gen).permute({1, 0, 2, 3})
                              : tg::randn({c.n, c.c, c.h, 2 * c.w}, DType::Float32, gen).slice(3, 0, 2 * c.w, 2);
    // The gradient in the [G, M, N L] layout, and the same values as an NCHW [N, Cout, L] tensor.
    const Tensor dy = tg::randn({c.groups, m, p}, DType::Float32, gen);
    const Tensor dy_nchw = dy.reshape({c.groups, m, c.n, l}).permute({2, 0, 1, 3}).contiguous().reshape({c.n, c.cout, l});
    const Tensor want = reference(pr, dy, x.contiguous());
    const double tol = 2e-6 * std::sqrt(static_cast<double>(p)) * 4;  // sums of N OH OW products of unit normals
    Tensor buffer = tg::full({c.groups, m, 2 * q}, std::nan(""), DType::Float32);
    const Tensor out = buffer.slice(2, 0, 2 * q, 2);
    cpu::conv_direct_weight_grad(pr, arg(out), by_image(dy, l), arg(x));
    EXPECT_LE(tg::max(tg::abs(out - want)).item(), tol);
    const Tensor gaps = buffer.slice(2, 1, 2 * q, 2).contiguous();
    for (int64_t i = 0; i < gaps.numel(); ++i) ASSERT_TRUE(std::isnan(gaps.data<float>()[i])) << "written between";
    // The kernel table's route, from the NCHW gradient: this path, bit for bit.
    Tensor routed = Tensor::empty({c.groups, m, q});
    k::conv_gemm(k::ConvGemmOp::WeightGrad, pr, arg(routed), nchw_arg(dy_nchw, c.groups), arg(x));
    EXPECT_TRUE(same_bits(routed, out)) << "conv_gemm's route from an NCHW gradient";
  }
}

TEST(KernelsConvDirectWeightGrad, SameBitsOnOneAndTwoThreads) {
  tg::Generator gen(92);
  for (const DirectCase& c : {kCases[0], kCases[2], kCases[9]}) {
    const k::ConvGemmProblem pr = problem(c);
    const k::WindowGeometry& g = pr.window;
    const int64_t m = c.cout / c.groups, q = c.c / c.groups * c.kh * c.kw, l = g.out_h * g.out_w;
    const Tensor x = tg::randn({c.n, c.c, c.h, c.w}, DType::Float32, gen);
    const Tensor dy = tg::randn({c.groups, m, c.n * l}, DType::Float32, gen);
    Tensor one = Tensor::empty({c.groups, m, q}), two = Tensor::empty({c.groups, m, q});
    {
      Threads t(1);
      cpu::conv_direct_weight_grad(pr, arg(one), by_image(dy, l), arg(x));
    }
    {
      Threads t(2);
      cpu::conv_direct_weight_grad(pr, arg(two), by_image(dy, l), arg(x));
    }
    EXPECT_TRUE(same_bits(one, two));
  }
}

// Every ISA's row gives the portable row's bits: each lane sums the same products in the same order; and the
// one-channel 3x3 version (by the image's rows) gives the any-taps version's bits. Rows of 28 columns (AVX2's
// second half of the second step holds 4 of them), 43 (three steps) and 12, an infinity in the image just past
// the last column a row's taps read, large gradients (sums that round differently in another order).
TEST(KernelsConvDirectWeightGrad, EveryIsaAndVersionGivesThePortableBits) {
  struct Isa {
    const char* name;
    cpu::DirectImageRow row;
    bool usable;
  };
  const Isa isas[] = {
      {"portable", &cpu::portable_direct_image_row, true},
      {"avx512", cpu::isa::avx512_direct_image_row, cpu::cpu_has_avx512f() && cpu::cpu_has_fma()},
      {"avx2", cpu::isa::avx2_direct_image_row, cpu::cpu_has_avx2() && cpu::cpu_has_fma()},
  };
  tg::Generator gen(93);
  for (int64_t out_w : {int64_t{28}, int64_t{43}, int64_t{12}})
    for (int64_t out_h : {int64_t{1}, int64_t{2}, int64_t{5}}) {
      constexpr int kTaps = 9;
      const int64_t row_stride = out_w + 2 + 3;  // 3 floats past the last column a tap reads
      const Tensor gr = tg::randn({out_h * out_w}, DType::Float32, gen) * 1e3;
      Tensor xs = tg::randn({(out_h + 2) * row_stride + 2}, DType::Float32, gen);
      float* xd = xs.data<float>();
      for (int64_t r = 0; r < out_h + 2; ++r) xd[r * row_stride + out_w + 2] = INFINITY;  // never read
      std::vector<int64_t> offsets;
      for (int64_t r = 0; r < 3; ++r)
        for (int64_t s = 0; s < 3; ++s) offsets.push_back(r * row_stride + s);
      cpu::DirectImageRowArgs any_taps{};  // the 9 taps as 9 channels of a 1x1 filter: the any-taps version
      any_taps.g = gr.data<float>();
      any_taps.x = xd;
      any_taps.out_h = out_h;
      any_taps.out_w = out_w;
      any_taps.row_stride = row_stride;
      any_taps.offsets = offsets.data();
      any_taps.taps = kTaps;
      any_taps.channels = kTaps;
      any_taps.kernel_h = any_taps.kernel_w = 1;
      any_taps.dilation_h = 1;
      cpu::DirectImageRowArgs window = any_taps;  // one channel, 3x3: by the image's rows
      window.channels = 1;
      window.kernel_h = window.kernel_w = 3;
      std::vector<double> want(kTaps * cpu::kDirectLanes, 0.5), got(want.size());
      cpu::portable_direct_image_row(any_taps, want.data());
      for (double v : want) ASSERT_TRUE(std::isfinite(v)) << "a value past the row was read";
      for (const Isa& isa : isas) {
        if (isa.row == nullptr || !isa.usable) continue;
        for (const cpu::DirectImageRowArgs& args : {any_taps, window}) {
          std::fill(got.begin(), got.end(), 0.5);
          isa.row(args, got.data());
          EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(double)), 0)
              << isa.name << (args.channels == 1 ? " by image rows" : " any taps") << " differs from the portable row at "
              << out_h << " x " << out_w;
        }
      }
    }
}

TEST(KernelsConvDirectWeightGrad, OnlyWhereItPays) {
  k::ConvGemmProblem pr = problem(kCases[0]);
  EXPECT_TRUE(cpu::conv_weight_grad_is_direct(pr, DType::Float32));
  EXPECT_FALSE(cpu::conv_weight_grad_is_direct(pr, DType::Float64));
  k::ConvGemmProblem wide = problem({2, 2, 28, 28, 3, 3, 1, 1, 1, 1, 8});  // 18 taps
  EXPECT_FALSE(cpu::conv_weight_grad_is_direct(wide, DType::Float32));
  k::ConvGemmProblem narrow = problem({2, 1, 9, 9, 3, 3, 1, 1, 1, 1, 8});  // 9 columns of a 16-column step
  EXPECT_FALSE(cpu::conv_weight_grad_is_direct(narrow, DType::Float32));
  k::ConvGemmProblem strided = pr;  // stride 2 across only: not a phase split
  strided.window.stride_w = 2;
  strided.window.out_w = 14;
  EXPECT_FALSE(cpu::conv_weight_grad_is_direct(strided, DType::Float32));
  EXPECT_THROW(cpu::conv_direct_weight_grad(strided, {}, {}, {}), std::exception);
  k::ConvGemmProblem dilated_two = problem({2, 1, 40, 80, 3, 3, 2, 2, 2, 1, 6, 2});  // stride 2 and dilation 2
  EXPECT_FALSE(cpu::conv_weight_grad_is_direct(dilated_two, DType::Float32));
  EXPECT_TRUE(cpu::conv_weight_grad_is_direct(problem({2, 1, 40, 80, 3, 3, 1, 1, 1, 1, 6, 2}), DType::Float32));
  k::ConvGemmProblem three = problem({2, 1, 60, 96, 3, 3, 1, 1, 1, 1, 6, 3});  // stride 3
  EXPECT_FALSE(cpu::conv_weight_grad_is_direct(three, DType::Float32));
}

}  // namespace
