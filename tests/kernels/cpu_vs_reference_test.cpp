// The CPU's production kernels that replace reference ones in cpu/register.cpp, checked against the reference
// kernels (kernels::reference_tables(), the oracle): the sliding-window kernels (im2col, col2im, max-pool
// positions), the counter-based random fills, the optimizer updates, where. Each on 1 and 2 threads.
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include <tensorgrad/base/threads.h>
#include <tensorgrad/kernels/kernel_tables.h>
#include <tensorgrad/tensorgrad.h>

#include "support/expect_error.h"
#include "support/kernel_args.h"

#include "../../src/kernels/cpu/conv_direct_weight_grad.h"
#include "../../src/kernels/cpu/conv_gemm.h"
#include "../../src/kernels/cpu/cpu_features.h"
#include "../../src/kernels/cpu/pool_rows.h"
#include "../../src/kernels/cpu/random.h"
#include "../../src/kernels/cpu/sum_blocks.h"

namespace {

using tg::DeviceType;
using tg::DType;
using tg::Shape;
using tg::Tensor;
namespace k = tg::kernels;

constexpr DeviceType kCpu = DeviceType::CPU;

using tgtest::arg;
using tgtest::by_image;
using tgtest::nchw_arg;
using tgtest::nchw_to_columns;

bool same_bits(const Tensor& a, const Tensor& b) {
  const Tensor x = a.contiguous(), y = b.contiguous();
  return x.shape() == y.shape() && x.dtype() == y.dtype() &&
         std::memcmp(x.data_ptr(), y.data_ptr(), static_cast<size_t>(x.numel()) * tg::itemsize(x.dtype())) == 0;
}

using tgtest::Threads;

struct Geometry {
  int64_t n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw;
};

k::WindowGeometry window(const Geometry& g) {
  k::WindowGeometry w;
  w.batch = g.n;
  w.channels = g.c;
  w.in_h = g.h;
  w.in_w = g.w;
  w.kernel_h = g.kh;
  w.kernel_w = g.kw;
  w.stride_h = g.sh;
  w.stride_w = g.sw;
  w.pad_h = g.ph;
  w.pad_w = g.pw;
  w.dilation_h = g.dh;
  w.dilation_w = g.dw;
  w.out_h = (g.h + 2 * g.ph - g.dh * (g.kh - 1) - 1) / g.sh + 1;
  w.out_w = (g.w + 2 * g.pw - g.dw * (g.kw - 1) - 1) / g.sw + 1;
  return w;
}

// Small and odd shapes, padding, stride, dilation, the 1x1 and the 2x2/2 fast paths, and one big enough to
// be split over threads. The last two have rows of 8 and more output positions with lanes left over (3 x 9 = 27 a
// group), for the weight gradient's packing eight positions and lanes at a time: stride 2 over a padded copy, and
// stride 1 read in place.
const std::vector<Geometry> kGeometries = {
    {2, 3, 5, 7, 3, 3, 1, 1, 1, 1, 1, 1}, {1, 2, 9, 8, 2, 2, 2, 2, 0, 0, 1, 1}, {2, 1, 7, 7, 3, 2, 2, 1, 1, 0, 2, 1},
    {1, 4, 6, 5, 1, 1, 1, 1, 0, 0, 1, 1}, {3, 2, 1, 11, 1, 4, 1, 3, 0, 2, 1, 1}, {8, 16, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1},
    {4, 8, 28, 28, 2, 2, 2, 2, 0, 0, 1, 1}, {2, 3, 6, 7, 2, 2, 2, 2, 0, 0, 1, 1}, {2, 6, 12, 37, 3, 3, 2, 2, 1, 1, 1, 1},
    {2, 3, 7, 21, 3, 3, 1, 1, 0, 0, 1, 1}};

TEST(KernelsCpuVsReference, WindowKernelsMatchTheDefinition) {
  tg::Generator gen(3);
  for (int threads : {1, 2}) {
    Threads t(threads);
    for (const Geometry& geo : kGeometries) {
      const k::WindowGeometry g = window(geo);
      SCOPED_TRACE(::testing::Message() << "geometry " << geo.n << "x" << geo.c << "x" << geo.h << "x" << geo.w
                                        << " kernel " << geo.kh << "x" << geo.kw << " threads " << threads);
      for (DType dt : {DType::Float32, DType::Float64}) {
        const Tensor x = tg::randn({g.batch, g.channels, g.in_h, g.in_w}, dt, gen);
        const Shape cols_shape{g.batch, g.channels * g.kernel_h * g.kernel_w, g.out_h * g.out_w};
        Tensor fast = Tensor::empty(cols_shape, dt), ref = Tensor::empty(cols_shape, dt);
        k::im2col(g, arg(fast), arg(x), -1.5);
        k::reference_tables().window.find(k::WindowOp::Im2col, kCpu, dt)(k::WindowOp::Im2col, g, arg(ref), arg(x), -1.5);
        EXPECT_TRUE(same_bits(fast, ref)) << "im2col";

        const Tensor cols = tg::randn(cols_shape, dt, gen);
        Tensor xf = Tensor::empty(x.shape(), dt), xr = Tensor::empty(x.shape(), dt);
        k::col2im(g, arg(xf), arg(cols));
        k::reference_tables().window.find(k::WindowOp::Col2im, kCpu, dt)(k::WindowOp::Col2im, g, arg(xr), arg(cols), 0);
        EXPECT_TRUE(same_bits(xf, xr)) << "col2im";

        // Ties and NaN: values from a small set, one NaN.
        Tensor xt = tg::randint(0, 3, x.shape(), gen).to(dt);
        if (xt.numel() > 5) {
          if (dt == DType::Float32) xt.data<float>()[5] = std::numeric_limits<float>::quiet_NaN();
          else xt.data<double>()[5] = std::numeric_limits<double>::quiet_NaN();
        }
        const Shape index_shape{g.batch, g.channels, g.out_h * g.out_w};
        Tensor pf = Tensor::empty(index_shape, DType::Int64), pr = Tensor::empty(index_shape, DType::Int64);
        if (geo.ph * 2 < geo.kh && geo.pw * 2 < geo.kw) {  // pooling needs every window to touch the input
          k::max_pool_indices(g, arg(pf), arg(xt));
          k::reference_tables().window.find(k::WindowOp::MaxPoolIndices, kCpu, dt)(k::WindowOp::MaxPoolIndices, g,
                                                                                   arg(pr), arg(xt), 0);
          EXPECT_TRUE(same_bits(pf, pr)) << "max_pool_indices";
          // max_pool: the same positions and their values, into contiguous values and into a strided view.
          for (bool strided : {false, true}) {
            Tensor vf = Tensor::empty(index_shape, dt), vr = Tensor::empty(index_shape, dt);
            if (strided) vf = Tensor::empty({g.batch, g.channels, 2 * index_shape[2]}, dt).slice(2, 0, 2 * index_shape[2], 2);
            Tensor qf = Tensor::empty(index_shape, DType::Int64), qr = Tensor::empty(index_shape, DType::Int64);
            k::max_pool(g, arg(vf), arg(qf), arg(xt));
            k::reference_tables().max_pool.find(kCpu, dt)(g, arg(vr), arg(qr), arg(xt));
            EXPECT_TRUE(same_bits(qf, pr)) << "max_pool positions, strided values " << strided;
            EXPECT_TRUE(same_bits(qr, pr)) << "the reference max_pool's positions";
            EXPECT_TRUE(same_bits(vf.contiguous(), vr)) << "max_pool values, strided " << strided;
          }
          // x a view with a row stride wider than its rows (the vector rows read past a row, never past x), and
          // one whose rows run backwards (no reading past rows at all).
          const Tensor wide = tg::randn({g.batch, g.channels, g.in_h, g.in_w + 3}, dt, gen);
          const Tensor narrow = wide.slice(3, 0, g.in_w);
          const Tensor backwards = xt.as_strided(xt.shape(), {xt.stride(0), xt.stride(1), -xt.stride(2), 1},
                                                 xt.offset() + (g.in_h - 1) * xt.stride(2));
          for (const Tensor& view : {narrow, backwards}) {
            Tensor vf = Tensor::empty(index_shape, dt), vr = Tensor::empty(index_shape, dt);
            Tensor qf = Tensor::empty(index_shape, DType::Int64), qr = Tensor::empty(index_shape, DType::Int64);
            k::max_pool(g, arg(vf), arg(qf), arg(view));
            k::reference_tables().max_pool.find(kCpu, dt)(g, arg(vr), arg(qr), arg(view));
            EXPECT_TRUE(same_bits(qf, qr) && same_bits(vf, vr)) << "max_pool over a view with strides " << tg::shape_str(view.strides());
          }
        }
      }
    }
  }
}

// The implicit-GEMM convolution: against the definition (reference kernel, summed in another order: within
// rounding), and bit for bit against the CPU matmul over the materialised im2col matrix, which it must equal
// since only the way B's panels are filled differs. The kernel table's conv_gemm (Winograd for float32 3x3
// stride-1 convolutions with 16 channels or more, conv_winograd_test.cpp) is held to the same GEMM within
// rounding.
TEST(KernelsCpuVsReference, ConvGemmMatchesTheDefinitionAndTheMaterialisedGemm) {
  tg::Generator gen(5);
  for (int threads : {1, 2}) {
    Threads t(threads);
    for (const Geometry& geo : kGeometries)
      for (int64_t groups : {int64_t{1}, int64_t{2}})
        for (int64_t m : {int64_t{5}, int64_t{33}}) {
          if (geo.c % groups != 0) continue;
          const k::WindowGeometry g = window(geo);
          SCOPED_TRACE(::testing::Message() << "geometry " << geo.n << "x" << geo.c << "x" << geo.h << "x" << geo.w
                                            << " kernel " << geo.kh << "x" << geo.kw << " groups " << groups << " M "
                                            << m << " threads " << threads);
          const k::ConvGemmProblem pr{g, groups, m * groups};
          const int64_t q = g.channels / groups * g.kernel_h * g.kernel_w, p = g.batch * g.out_h * g.out_w;
          for (DType dt : {DType::Float32, DType::Float64}) {
            const Tensor x = tg::randn({g.batch, g.channels, g.in_h, g.in_w}, dt, gen);
            // im2col in the batch-inner layout [C K, N, L], seen as [G, Q, P].
            Tensor cols = Tensor::empty({g.batch, g.channels * g.kernel_h * g.kernel_w, g.out_h * g.out_w}, dt);
            const int64_t l = g.out_h * g.out_w;
            cols = cols.as_strided(cols.shape(), {l, g.batch * l, 1}, 0);
            k::im2col(g, arg(cols), arg(x), 0.0);
            const Tensor cols_g = cols.permute({1, 0, 2}).reshape({groups, q, p});
            const double tol = dt == DType::Float32 ? 1e-4 : 1e-11;
            for (k::ConvGemmOp op : {k::ConvGemmOp::Forward, k::ConvGemmOp::WeightGrad}) {
              const bool forward = op == k::ConvGemmOp::Forward;
              const Tensor a = tg::randn({groups, m, forward ? q : p}, dt, gen);
              const Shape out_shape{groups, m, forward ? p : q};
              Tensor fast = Tensor::empty(out_shape, dt), ref = Tensor::empty(out_shape, dt);
              Tensor materialised = Tensor::empty(out_shape, dt);
              // The [G, M, N L] layout as the kernels' 4-D (group, row, image, position) operand.
              const k::StridedArg fast_out = forward ? by_image(fast, l) : arg(fast);
              const k::StridedArg a_arg = forward ? arg(a) : by_image(a, l);
              k::cpu::conv_gemm_implicit(op, pr, fast_out, a_arg, arg(x));
              const Tensor b = forward ? cols_g : cols_g.transpose(1, 2);
              k::matmul({groups}, m, out_shape[2], a.size(2), arg(materialised), arg(a), arg(b));
              EXPECT_TRUE(same_bits(fast, materialised)) << k::op_name(op) << " differs from matmul over im2col";
              Tensor routed = Tensor::empty(out_shape, dt);
              k::conv_gemm(op, pr, forward ? by_image(routed, l) : arg(routed), a_arg, arg(x));
              // Winograd and the direct weight gradient sum in another order: within rounding of the GEMM
              // (conv_winograd_test.cpp and conv_direct_weight_grad_test.cpp hold them to the definition).
              const bool direct = !forward && k::cpu::conv_weight_grad_is_direct(pr, dt);
              if (!k::conv_gemm_is_winograd(pr, dt) && !direct) {
                EXPECT_TRUE(same_bits(routed, fast)) << k::op_name(op) << ": the kernel table's route";
              } else {
                const double scale = std::sqrt(static_cast<double>(a.size(2)));
                EXPECT_LE(tg::max(tg::abs(routed - materialised)).item<double>(), tol * scale)
                    << k::op_name(op) << (direct ? " by the direct weight gradient" : " by Winograd");
              }
              if (groups * m * q * p > 2'000'000) continue;  // the scalar definition is slow; the GEMM check ran
              k::reference_tables().conv_gemm.find(op, kCpu, dt)(op, pr, forward ? by_image(ref, l) : arg(ref), a_arg,
                                                                 arg(x), {});
              const double scale = std::sqrt(static_cast<double>(a.size(2)));
              EXPECT_LE(tg::max(tg::abs(fast - ref)).item<double>(), tol * scale) << k::op_name(op);
              EXPECT_LE(tg::max(tg::abs(routed - ref)).item<double>(), tol * scale) << k::op_name(op) << " (routed)";
            }
          }
        }
  }
}

// A weight gradient of a small result over many positions (32 x 9 from 100352) is summed by chunks of positions
// on the threads (conv_gemm.cpp, weight_grad_by_chunks): within rounding of the definition, the same bits on one
// and two threads, every element written once. (conv_gemm routes the 1-channel case, like the CNN's conv1, to the
// direct weight gradient, conv_direct_weight_grad_test.cpp; the implicit GEMM is called here.)
TEST(KernelsCpuVsReference, ConvWeightGradientByChunksMatchesTheDefinition) {
  tg::Generator gen(6);
  // 1 channel 28x28 (25088 positions: chunks of 8368, the last shorter); 4 channels 46x46 (19044), 1 or 2 groups.
  const Geometry cases[] = {{32, 1, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1}, {9, 4, 46, 46, 3, 3, 1, 1, 1, 1, 1, 1}};
  for (const Geometry& geo : cases)
    for (int64_t groups : {int64_t{1}, int64_t{2}}) {
      if (geo.c % groups != 0) continue;
      const k::WindowGeometry g = window(geo);
      SCOPED_TRACE(::testing::Message() << "geometry " << geo.n << "x" << geo.c << "x" << geo.h << "x" << geo.w
                                        << " groups " << groups);
      const int64_t m = 6, q = g.channels / groups * 9, p = g.batch * g.out_h * g.out_w;
      ASSERT_GE(p, 16384) << "too few positions to be summed by chunks";
      const k::ConvGemmProblem pr{g, groups, m * groups};
      const Tensor x = tg::randn({g.batch, g.channels, g.in_h, g.in_w}, DType::Float32, gen);
      const Tensor a = tg::randn({groups, m, p}, DType::Float32, gen);
      Tensor ref = Tensor::empty({groups, m, q}), one = tg::full({groups, m, q}, std::nan(""), DType::Float32);
      Tensor two = Tensor::empty({groups, m, q});
      const int64_t l = g.out_h * g.out_w;
      k::reference_tables().conv_gemm.find(k::ConvGemmOp::WeightGrad, kCpu, DType::Float32)(
          k::ConvGemmOp::WeightGrad, pr, arg(ref), by_image(a, l), arg(x), {});
      {
        Threads t(1);
        k::cpu::conv_gemm_implicit(k::ConvGemmOp::WeightGrad, pr, arg(one), by_image(a, l), arg(x));
      }
      {
        Threads t(2);
        k::cpu::conv_gemm_implicit(k::ConvGemmOp::WeightGrad, pr, arg(two), by_image(a, l), arg(x));
      }
      EXPECT_LE(tg::max(tg::abs(one - ref)).item<double>(), 1e-4 * std::sqrt(static_cast<double>(p)));
      EXPECT_TRUE(same_bits(one, two)) << "one and two threads differ";
    }
}

// The implicit GEMM writes an NC(H)W output (by images where an image has >= 256 positions, else through a
// [G, M, N L] buffer) and reads an NC(H)W gradient (copied into that layout, a chunk at a time where the weight
// gradient goes by chunks): the same bits as in the [G, M, N L] layout, which the test above holds to the
// definition; the bias added to each finished sum, as the definition's.
TEST(KernelsCpuVsReference, ConvGemmWritesAndReadsTheImageMajorLayoutBitForBit) {
  tg::Generator gen(8);
  // 784 positions an image (by images; the 32-image one has 25088 positions: a weight gradient by chunks), 63
  // (through the buffer); 256 with 64 channels: Q = 576 (32 a group: 288), deeper than one k block (KC 256), where
  // one image's C must be blocked like the whole batch's, also with M = 130 rows, more than an A block's MC.
  const Geometry cases[] = {{4, 1, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1}, {32, 1, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1},
                            {3, 4, 9, 7, 3, 3, 1, 1, 1, 1, 1, 1},   {2, 6, 30, 20, 3, 3, 1, 1, 1, 1, 1, 1},
                            {2, 64, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1}};
  for (int threads : {1, 2}) {
    Threads t(threads);
    for (const Geometry& geo : cases)
      for (int64_t groups : {int64_t{1}, int64_t{2}})
        for (int64_t m : {int64_t{5}, int64_t{33}, int64_t{130}})
          for (DType dt : {DType::Float32, DType::Float64}) {
            if (geo.c % groups != 0 || (m == 130) != (geo.c == 64)) continue;
            const k::WindowGeometry g = window(geo);
            SCOPED_TRACE(::testing::Message() << "geometry " << geo.n << "x" << geo.c << "x" << geo.h << "x" << geo.w
                                              << " groups " << groups << " M " << m << " threads " << threads << " "
                                              << tg::dtype_name(dt));
            const k::ConvGemmProblem pr{g, groups, m * groups};
            const int64_t q = g.channels / groups * 9, l = g.out_h * g.out_w, p = g.batch * l, cout = m * groups;
            const Tensor x = tg::randn({g.batch, g.channels, g.in_h, g.in_w}, dt, gen);
            const Tensor w = tg::randn({groups, m, q}, dt, gen);
            const Tensor bias = tg::randn({cout}, dt, gen);
            // Forward, with the bias: NCHW against [G, M, N L].
            Tensor columns = Tensor::empty({groups, m, p}, dt);
            Tensor image = tg::full({g.batch, cout, l}, std::nan(""), dt);
            k::cpu::conv_gemm_implicit(k::ConvGemmOp::Forward, pr, by_image(columns, l), arg(w), arg(x), arg(bias));
            k::cpu::conv_gemm_implicit(k::ConvGemmOp::Forward, pr, nchw_arg(image, groups), arg(w), arg(x), arg(bias));
            EXPECT_TRUE(same_bits(nchw_to_columns(image, groups), columns)) << "forward into NCHW";
            if (groups * m * q * p <= 2'000'000) {
              Tensor ref = Tensor::empty({g.batch, cout, l}, dt);
              k::reference_tables().conv_gemm.find(k::ConvGemmOp::Forward, kCpu, dt)(
                  k::ConvGemmOp::Forward, pr, nchw_arg(ref, groups), arg(w), arg(x), arg(bias));
              const double tol = (dt == DType::Float32 ? 1e-4 : 1e-11) * std::sqrt(static_cast<double>(q));
              EXPECT_LE(tg::max(tg::abs(image - ref)).item<double>(), tol) << "forward with bias";
            }
            // Weight gradient from an NCHW gradient against the same values in [G, M, N L].
            const Tensor grad = tg::randn({g.batch, cout, l}, dt, gen);
            Tensor from_image = Tensor::empty({groups, m, q}, dt), from_columns = Tensor::empty({groups, m, q}, dt);
            k::cpu::conv_gemm_implicit(k::ConvGemmOp::WeightGrad, pr, arg(from_image), nchw_arg(grad, groups), arg(x));
            const Tensor grad_columns = nchw_to_columns(grad, groups);
            k::cpu::conv_gemm_implicit(k::ConvGemmOp::WeightGrad, pr, arg(from_columns), by_image(grad_columns, l),
                                       arg(x));
            EXPECT_TRUE(same_bits(from_image, from_columns)) << "weight gradient from NCHW";
          }
  }
}

TEST(KernelsCpuVsReference, RandomFillsAreTheReferenceOnAnyThreadCount) {
  const int64_t n = 300001;  // odd: a partial last Philox block
  for (auto [op, dt] : {std::pair{k::RandomOp::Uniform, DType::Float32}, std::pair{k::RandomOp::Uniform, DType::Float64},
                        std::pair{k::RandomOp::Normal, DType::Float32}, std::pair{k::RandomOp::Normal, DType::Float64},
                        std::pair{k::RandomOp::Integer, DType::Int64}, std::pair{k::RandomOp::Bernoulli, DType::Bool}}) {
    k::RandomParams params{.seed = 0x1234'5678'9abcULL, .first_block = 77, .threshold = 0.3, .low = -5, .range = 11};
    Tensor ref = Tensor::empty({n}, dt);
    k::reference_tables().random.find(op, kCpu, dt)(op, {n}, arg(ref), params);
    for (int threads : {1, 2}) {
      Threads t(threads);
      Tensor fast = Tensor::empty({n}, dt);
      k::random(op, {n}, arg(fast), params);
      EXPECT_TRUE(same_bits(fast, ref)) << k::op_name(op) << " " << tg::dtype_name(dt) << " threads " << threads;
    }
  }
}

// Every ISA's Philox lanes give core/random.cpp's philox4x32 words: every count up to three passes of lanes
// (partial last passes), counters crossing 2^32 (the high word), seeds with high bits.
TEST(KernelsCpuVsReference, PhiloxLanesAreThePhiloxOfEveryIsaPresent) {
  namespace cpu = tg::kernels::cpu;
  const std::vector<std::pair<const char*, cpu::PhiloxWords>> isas = {
      {"scalar", cpu::philox_words_scalar},
      {"avx2", cpu::cpu_has_avx2() ? cpu::philox_words_avx2 : nullptr},
      {"avx512", cpu::cpu_has_avx512f() ? cpu::philox_words_avx512 : nullptr}};
  for (const auto& [isa, words_of] : isas) {
    if (words_of == nullptr) continue;
    for (uint64_t seed : {uint64_t{0}, uint64_t{0x0123'4567'89ab'cdefULL}}) {
      for (uint64_t first : {uint64_t{0}, uint64_t{7}, (uint64_t{1} << 32) - 5}) {
        for (int64_t count = 1; count <= 48; ++count) {
          std::vector<uint32_t> words(static_cast<size_t>(4 * count));
          words_of(seed, first, count, words.data());
          for (int64_t i = 0; i < count; ++i) {
            const uint64_t index = first + static_cast<uint64_t>(i);
            const auto want = tg::philox4x32({static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32), 0, 0},
                                             {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)});
            for (size_t j = 0; j < 4; ++j)
              ASSERT_EQ(words[4 * static_cast<size_t>(i) + j], want[j])
                  << isa << " seed " << seed << " first " << first << " count " << count << " block " << i;
          }
        }
      }
    }
  }
}

// Every ISA's row of 2x2 max pooling gives the scalar rule's values and places: rows of every length up to 40
// (whole vectors and tails), values from a small set (ties) with NaNs and infinities among them.
TEST(KernelsCpuVsReference, PoolRowsOfEveryIsaPresentFollowTheScalarRule) {
  namespace cpu = tg::kernels::cpu;
  const std::vector<std::pair<const char*, cpu::PoolRow2x2>> isas = {
      {"avx2", cpu::cpu_has_avx2() ? cpu::isa::avx2_pool_row_2x2 : nullptr},
      {"avx512", cpu::cpu_has_avx512f() ? cpu::isa::avx512_pool_row_2x2 : nullptr}};
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const float pool[] = {0.0f, 1.0f, 2.0f, -1.0f, nan, inf, -inf, -0.0f};
  const auto takes = [](float v, float b) { return v > b || (std::isnan(v) && !std::isnan(b)); };
  uint32_t state = 12345;
  for (const auto& [isa, row] : isas) {
    if (row == nullptr) continue;
    for (int64_t n = 1; n <= 40; ++n) {
      // Both rows in one buffer, which ends where the second row does: row 0's vectors may read into row 1,
      // row 1's must stop at the end (a heap checker sees any read past it).
      std::vector<float> rows(static_cast<size_t>(4 * n));
      for (float& v : rows) {
        state = state * 1664525u + 1013904223u;
        v = pool[(state >> 24) % 8];
      }
      const float* r0 = rows.data();
      const float* r1 = rows.data() + 2 * n;
      std::vector<float> value(static_cast<size_t>(n));
      std::vector<int64_t> position(static_cast<size_t>(n), -1);
      const int64_t first = (int64_t{1} << 33) + 7, row_length = 2 * n + 3;  // a start past 2^32: int64 sums
      row(r0, r1, n, rows.data() + rows.size(), first, row_length, value.data(), position.data());
      for (int64_t w = 0; w < n; ++w) {
        const float candidates[] = {r0[2 * w], r0[2 * w + 1], r1[2 * w], r1[2 * w + 1]};
        int32_t place = 0;
        for (int32_t k = 1; k < 4; ++k)
          if (takes(candidates[k], candidates[place])) place = k;
        ASSERT_EQ(position[w], first + 2 * w + place % 2 + place / 2 * row_length) << isa << " n " << n << " window " << w;
        ASSERT_EQ(std::memcmp(&value[w], &candidates[place], sizeof(float)), 0) << isa << " n " << n << " window " << w;
      }
    }
  }
}

// Every ISA's plane of 2x2 pooling rows (one call for a plane, pool.cpp's usual path) gives what its single row
// gives row by row: planes of odd and even sizes, the last row's vectors ending where the plane does.
TEST(KernelsCpuVsReference, PoolPlanesOfEveryIsaAreTheirRowsRowByRow) {
  namespace cpu = tg::kernels::cpu;
  struct Isa {
    const char* name;
    cpu::PoolRow2x2 row;
    cpu::PoolRows2x2 rows;
  };
  const bool avx2 = cpu::cpu_has_avx2(), avx512 = cpu::cpu_has_avx512f();
  const Isa isas[] = {
      {"avx2", avx2 ? cpu::isa::avx2_pool_row_2x2 : nullptr, avx2 ? cpu::isa::avx2_pool_rows_2x2 : nullptr},
      {"avx512", avx512 ? cpu::isa::avx512_pool_row_2x2 : nullptr, avx512 ? cpu::isa::avx512_pool_rows_2x2 : nullptr}};
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float pool[] = {0.0f, 1.0f, 2.0f, -1.0f, nan, -0.0f};
  uint32_t state = 777;
  for (const Isa& isa : isas) {
    if (isa.row == nullptr || isa.rows == nullptr) continue;
    for (int64_t height : {2, 7, 28})
      for (int64_t width : {2, 5, 28, 35}) {
        const int64_t out_h = height / 2, n = width / 2;
        std::vector<float> plane(static_cast<size_t>(height * width));
        for (float& v : plane) {
          state = state * 1664525u + 1013904223u;
          v = pool[(state >> 24) % 6];
        }
        const float* end = plane.data() + plane.size();
        std::vector<float> values(static_cast<size_t>(out_h * n)), want_values = values;
        std::vector<int64_t> places(static_cast<size_t>(out_h * n), -1), want_places = places;
        isa.rows(plane.data(), width, out_h, n, end, 0, width, values.data(), places.data());
        for (int64_t r = 0; r < out_h; ++r) {
          const float* top = plane.data() + 2 * r * width;
          isa.row(top, top + width, n, end, 2 * r * width, width, want_values.data() + r * n,
                  want_places.data() + r * n);
        }
        EXPECT_EQ(places, want_places) << isa.name << " " << height << "x" << width;
        EXPECT_EQ(std::memcmp(values.data(), want_values.data(), values.size() * sizeof(float)), 0)
            << isa.name << " " << height << "x" << width;
      }
  }
}

// scatter_add_into_zeros writes every element of its output (filled with garbage first here), with the sums of
// zeros + scatter_add bit for bit: the CPU's row loop (indexed dim last: contiguous, strided output, strided
// operands) and its blocked fallback (another dim), on 1 and 2 threads, duplicates included. A bad index, negative
// or past the end, in the first row, in a row only the second thread reaches, or off the indexed dim, throws the
// error that names it (the row loop checks each row as it writes it, so out may be partly written).
TEST(KernelsCpuVsReference, ScatterAddIntoZerosWritesEveryElementWithTheReferenceSums) {
  tg::Generator gen(17);
  const k::IndexOp op = k::IndexOp::ScatterAddIntoZeros;
  struct Case {
    tg::Shape index_shape;
    int64_t dim, dim_size;
    bool strided;
  };
  for (int threads : {1, 2})
    // {64, 64, 49} and {400, 40, 10} are over 2 x 65536 elements: two threads split them (parallel.h).
    for (const Case& c : {Case{{64, 64, 49}, 2, 196, false}, Case{{64, 32, 49}, 2, 196, true},
                          Case{{400, 40, 10}, 0, 50, false},
                          Case{{3, 5}, 1, 1, false}, Case{{40, 300, 7}, 0, 50, false}, Case{{6, 0}, 1, 4, false},
                          Case{{2, 3, 4}, 2, 9, true}}) {
      Threads t(threads);
      for (DType dt : {DType::Float32, DType::Float64, DType::Int64}) {
        tg::Shape out_shape = c.index_shape;
        out_shape[static_cast<size_t>(c.dim)] = c.dim_size;
        const Tensor index = tg::randint(0, c.dim_size, c.index_shape, gen);
        const Tensor src = dt == DType::Int64 ? tg::randint(-50, 50, c.index_shape, gen)
                                              : tg::randn(c.index_shape, dt, gen);
        // Strided: every operand a view with a step along the last dim; 7 everywhere else (the garbage).
        auto view = [&](const tg::Shape& shape, DType d) {
          if (!c.strided) return tg::full(shape, 7.0, d);
          tg::Shape wide = shape;
          wide.back() *= 2;
          return tg::full(wide, 7.0, d).slice(static_cast<int64_t>(shape.size()) - 1, 0, wide.back(), 2);
        };
        Tensor src_v = view(c.index_shape, dt);
        if (src_v.numel() > 0) src_v.copy_(src);
        Tensor index_v = view(c.index_shape, DType::Int64);
        if (index_v.numel() > 0) index_v.copy_(index);
        Tensor fast = view(out_shape, dt), ref = view(out_shape, dt);
        k::scatter_add_into_zeros(c.index_shape, c.dim, c.dim_size, arg(fast), arg(src_v), arg(index_v));
        k::reference_tables().index.find(op, kCpu, dt)(op, c.index_shape, c.dim, c.dim_size, arg(ref), arg(src_v),
                                                       arg(index_v));
        Tensor want = tg::zeros(out_shape, dt);
        if (index.numel() > 0) want = tg::scatter_add(want, c.dim, index, src);
        EXPECT_TRUE(same_bits(fast, ref)) << dtype_name(dt) << " threads " << threads;
        EXPECT_TRUE(same_bits(fast, want)) << dtype_name(dt) << " threads " << threads;
      }
    }
  for (int threads : {1, 2}) {
    Threads t(threads);
    struct Bad {
      tg::Shape shape;
      int64_t dim, row, value;  // index[row, 0] = value
    };
    // [600, 300] is over 2 x 65536 elements: with two threads its last rows are the second thread's.
    for (const Bad& b : {Bad{{4, 6}, 1, 0, 6}, Bad{{4, 6}, 1, 3, -1}, Bad{{600, 300}, 1, 590, 300},
                         Bad{{600, 300}, 1, 590, -7}, Bad{{6, 4}, 0, 5, 6}}) {
      const int64_t dim_size = b.shape[static_cast<size_t>(b.dim)];
      Tensor index = tg::zeros(b.shape, DType::Int64);
      index.data<int64_t>()[b.row * b.shape[1]] = b.value;
      const Tensor src = tg::ones(b.shape);
      Tensor out = tg::full(b.shape, 3.0);
      EXPECT_TG_ERROR(k::scatter_add_into_zeros(b.shape, b.dim, dim_size, arg(out), arg(src), arg(index)),
                      "scatter_add_into_zeros", "index " + std::to_string(b.value) + " out of range",
                      "of size " + std::to_string(dim_size))
          << "threads " << threads << " row " << b.row;
    }
  }
}

// sum_blocks.h's rule written out once more as the oracle: 32 double lanes, a tail in order, a pairwise fold.
double sum_block_rule(const float* row, int64_t n) {
  double lanes[32] = {};
  int64_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (int l = 0; l < 32; ++l) lanes[l] += static_cast<double>(row[i + l]);
  double tail = 0;
  for (; i < n; ++i) tail += static_cast<double>(row[i]);
  for (int w = 16; w > 0; w /= 2)
    for (int l = 0; l < w; ++l) lanes[l] += lanes[l + w];
  return tail + lanes[0];
}

TEST(KernelsCpuVsReference, SumBlocksOfEveryIsaPresentFollowTheScalarRule) {
  namespace cpu = tg::kernels::cpu;
  const std::vector<std::pair<const char*, cpu::SumBlockF32>> isas = {
      {"avx2", cpu::cpu_has_avx2() ? cpu::isa::avx2_sum_block_f32 : nullptr},
      {"avx512", cpu::cpu_has_avx512f() ? cpu::isa::avx512_sum_block_f32 : nullptr}};
  // Magnitudes from 2^-20 to 2^20 of both signs, so a different order of the additions changes the bits.
  std::vector<float> data(70000);
  uint32_t state = 777;
  for (float& v : data) {
    state = state * 1664525u + 1013904223u;
    const float mantissa = static_cast<float>(state >> 8) / 16777216.0f;
    v = std::ldexp((state & 1u) != 0 ? -mantissa : mantissa, static_cast<int>((state >> 1) % 41) - 20);
  }
  int checked = 0;
  for (const auto& [isa, sum] : isas) {
    if (sum == nullptr) continue;
    ++checked;
    for (int64_t n = 0; n <= 100; ++n)
      for (int64_t offset : {0, 1, 3}) {  // unaligned starts too
        const double want = sum_block_rule(data.data() + offset, n), got = sum(data.data() + offset, n);
        const double fallback = cpu::sum_block_f32_scalar_rule(data.data() + offset, n);
        ASSERT_EQ(std::memcmp(&want, &got, sizeof want), 0) << isa << " n " << n << " offset " << offset;
        ASSERT_EQ(std::memcmp(&want, &fallback, sizeof want), 0) << "reduce.cpp's rule, n " << n;
      }
    for (int64_t n : {int64_t{1} << 16, int64_t{65535}, int64_t{69999}}) {
      const double want = sum_block_rule(data.data() + 1, n), got = sum(data.data() + 1, n);
      ASSERT_EQ(std::memcmp(&want, &got, sizeof want), 0) << isa << " n " << n;
    }
    const float special[] = {1.0f, std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()};
    EXPECT_TRUE(std::isnan(sum(special, 3))) << isa;
  }
  if (checked == 0) GTEST_SKIP() << "this CPU has neither AVX2 nor AVX-512F";
}

// The Bernoulli mask compares integers where the reference compares doubles: the thresholds at and next to a
// multiple of 2^-24, the ends and beyond them must keep exactly the same draws.
TEST(KernelsCpuVsReference, BernoulliThresholdsAreTheReferenceOnes) {
  const int64_t n = 100003;
  const double step = 1.0 / 16777216.0;
  for (double threshold : {0.0, -0.5, 1.0, 1.5, 0.5, 0.1, 3 * step, std::nextafter(3 * step, 0.0),
                           std::nextafter(3 * step, 1.0), 1.0 - step, std::nextafter(1.0, 0.0), std::nan("")}) {
    k::RandomParams params{.seed = 99, .first_block = 5, .threshold = threshold};
    Tensor ref = Tensor::empty({n}, DType::Bool), fast = Tensor::empty({n}, DType::Bool);
    k::reference_tables().random.find(k::RandomOp::Bernoulli, kCpu, DType::Bool)(k::RandomOp::Bernoulli, {n},
                                                                                 arg(ref), params);
    k::random(k::RandomOp::Bernoulli, {n}, arg(fast), params);
    EXPECT_TRUE(same_bits(fast, ref)) << "threshold " << threshold;
  }
}

// where selects bits, so one loop per element size serves every dtype: each size, with the condition per
// element, broadcast along the inner run (a padding mask), broadcast along rows, and the branches contiguous,
// scalar, broadcast or transposed; NaN payloads must pass through untouched.
TEST(KernelsCpuVsReference, WhereSelectsTheReferenceBits) {
  tg::Generator gen(11);
  const Shape shape{3, 5, 67, 9};  // 9 x 67: runs that are not a multiple of any vector width
  const Tensor per_element = tg::rand(shape, DType::Float32, gen) > 0.5;
  const Tensor per_row = tg::rand({3, 1, 67, 1}, DType::Float32, gen) > 0.5;  // [N, 1, T, 1]
  const Tensor per_column = tg::rand({9}, DType::Float32, gen) > 0.5;
  const Tensor transposed_cond = tg::transpose(tg::rand({3, 5, 9, 67}, DType::Float32, gen) > 0.5, 2, 3);
  for (DType dt : {DType::Bool, DType::BFloat16, DType::Float32, DType::Int64, DType::Float64}) {
    auto values = [&](const Shape& s) {
      Tensor v = tg::randn(s, DType::Float64, gen) * 100.0;
      if (dt == DType::Float32 || dt == DType::Float64)
        v = tg::where(tg::rand(s, DType::Float32, gen) > 0.9, tg::Scalar(std::nan("")), v);
      return dt == DType::Bool ? v > 0.0 : v.to(dt);
    };
    const Tensor full_a = values(shape), full_b = values(shape);
    const Tensor scalar_b = values({});
    const Tensor row_a = values({67, 1});
    const Tensor transposed_a = tg::transpose(values({3, 5, 9, 67}), 2, 3);
    const std::vector<std::tuple<const char*, Tensor, Tensor, Tensor>> cases = {
        {"per-element", per_element, full_a, full_b},       {"per-element, scalar b", per_element, full_a, scalar_b},
        {"per-element, scalar a", per_element, scalar_b, full_b}, {"per-row mask", per_row, full_a, scalar_b},
        {"per-row mask, both full", per_row, full_a, full_b}, {"per-row, broadcast a", per_row, row_a, full_b},
        {"per-column", per_column, full_a, full_b},         {"transposed", transposed_cond, transposed_a, full_b},
        {"both scalar", per_element, scalar_b, values({})}};
    for (const auto& [name, cond, a, b] : cases) {
      const k::StridedArg c = {cond.data_ptr(), tg::broadcast_strides(cond.shape(), cond.strides(), shape), cond.dtype()};
      const k::StridedArg x = {a.data_ptr(), tg::broadcast_strides(a.shape(), a.strides(), shape), a.dtype()};
      const k::StridedArg y = {b.data_ptr(), tg::broadcast_strides(b.shape(), b.strides(), shape), b.dtype()};
      Tensor want = Tensor::empty(shape, dt);
      k::reference_tables().where.find(kCpu, dt)(shape, arg(want), c, x, y);
      for (int threads : {1, 2}) {
        Threads t(threads);
        Tensor got = Tensor::empty(shape, dt);
        k::where(shape, arg(got), c, x, y);
        EXPECT_TRUE(same_bits(got, want)) << name << " " << tg::dtype_name(dt) << " threads " << threads;
      }
    }
  }
}

TEST(KernelsCpuVsReference, OptimizerUpdatesAgreeWithTheReferenceLoop) {
  tg::Generator gen(5);
  const int64_t n = 100003;
  for (DType dt : {DType::Float32, DType::Float64}) {
    const double tol = dt == DType::Float32 ? 1e-6 : 1e-14;
    for (int threads : {1, 2}) {
      Threads t(threads);
      // Adam / AdamW / AMSGrad.
      for (int variant = 0; variant < 3; ++variant) {
        const Tensor p0 = tg::randn({n}, dt, gen), g = tg::randn({n}, dt, gen), m0 = tg::randn({n}, dt, gen) * 0.1,
                     v0 = tg::rand({n}, dt, gen), vmax0 = tg::rand({n}, dt, gen);
        const k::AdamCoefficients c{.lr_over_bias_correction1 = 0.01 / 0.1,
                                    .one_minus_beta1 = 0.1,
                                    .one_minus_beta2 = 0.001,
                                    .bias_correction2_sqrt = std::sqrt(0.001),
                                    .eps = 1e-8,
                                    .weight_decay = variant == 0 ? 0.0 : 0.01,
                                    .decoupled_decay = 1.0 - 0.01 * 0.01,
                                    .decoupled = variant == 1};
        Tensor pf = p0.clone(), mf = m0.clone(), vf = v0.clone(), xf = vmax0.clone();
        Tensor pr = p0.clone(), mr = m0.clone(), vr = v0.clone(), xr = vmax0.clone();
        const bool ams = variant == 2;
        k::adam_update(n, c, arg(pf), arg(g), arg(mf), arg(vf), ams ? arg(xf) : k::StridedArg{});
        k::reference_tables().adam_update.find(kCpu, dt)(n, c, arg(pr), arg(g), arg(mr), arg(vr),
                                                         ams ? arg(xr) : k::StridedArg{});
        for (auto [a, b] : {std::pair{pf, pr}, std::pair{mf, mr}, std::pair{vf, vr}, std::pair{xf, xr}})
          EXPECT_LE(tg::max(tg::abs(a - b)).item(), tol) << "adam variant " << variant << " " << tg::dtype_name(dt);
        EXPECT_GT(tg::max(tg::abs(pf - p0)).item(), 0.0) << "the update moved the parameter";
      }
      // SGD: plain, momentum + weight decay, Nesterov.
      for (int variant = 0; variant < 3; ++variant) {
        const Tensor p0 = tg::randn({n}, dt, gen), g = tg::randn({n}, dt, gen), b0 = tg::randn({n}, dt, gen);
        const k::SgdCoefficients c{.lr = 0.1,
                                   .momentum = variant == 0 ? 0.0 : 0.9,
                                   .dampening = variant == 1 ? 0.1 : 0.0,
                                   .weight_decay = variant == 1 ? 1e-3 : 0.0,
                                   .nesterov = variant == 2};
        Tensor pf = p0.clone(), bf = b0.clone(), pr = p0.clone(), br = b0.clone();
        const bool momentum = variant != 0;
        k::sgd_update(n, c, arg(pf), arg(g), momentum ? arg(bf) : k::StridedArg{});
        k::reference_tables().sgd_update.find(kCpu, dt)(n, c, arg(pr), arg(g), momentum ? arg(br) : k::StridedArg{});
        EXPECT_LE(tg::max(tg::abs(pf - pr)).item(), tol) << "sgd variant " << variant;
        EXPECT_LE(tg::max(tg::abs(bf - br)).item(), tol) << "sgd variant " << variant;
      }
    }
  }
}

// CTC: the CPU's scaled probability-space recursions against the reference log-space ones, on a batch with an
// empty target, an impossible alignment, a frame whose labels sit 1000 nats below its best (the scaled path
// underflows there and must fall back) and varying lengths; float32 and float64, 1 and 2 threads.
TEST(KernelsCpuVsReference, CtcScaledRecursionsMatchTheLogSpaceReference) {
  const int64_t T = 30, N = 6, C = 7, S = 8;
  tg::Generator gen(17);
  Tensor logits = tg::randn({T, N, C}, DType::Float64, gen) * 2.0;
  // Sample 4: at frame 3 every class but 0 (the blank) is 1000 nats down; its target needs them all the same.
  tg::select(tg::select(logits, 0, 3), 0, 4).copy_(tg::from_vector<double>({0, -1000, -1000, -1000, -1000, -1000, -1000}));
  // Sample 5: 3 frames for the labels 1 2 3, so one path only, and label 2 is 1000 nats down at frame 1: the
  // scaled recursion underflows to no alignment and the reference's log space must take over (finite nll).
  tg::select(tg::select(logits, 0, 1), 0, 5).copy_(tg::from_vector<double>({0, 0, -1000, 0, 0, 0, 0}));
  const Tensor lp64 = tg::log_softmax(logits, 2);
  const Tensor targets = tg::randint(1, C, {N, S}, gen);
  tg::narrow(tg::select(targets, 0, 5), 0, 0, 3).copy_(tg::from_vector<int64_t>({1, 2, 3}));
  const Tensor in_lengths = tg::from_vector<int64_t>({30, 25, 30, 5, 30, 3});
  const Tensor tgt_lengths = tg::from_vector<int64_t>({8, 3, 0, 4, 8, 3});  // sample 3: 4 labels in 5 frames may not fit
  const k::CtcProblem p{T, N, C, S, false, 0};
  for (DType dt : {DType::Float64, DType::Float32}) {
    const Tensor lp = lp64.to(dt);
    auto run = [&](const k::KernelTables& tables, int threads) {
      Threads use(threads);
      Tensor nll = tg::empty({N}, dt), grad = tg::full({T, N, C}, 7.0, dt);
      tables.ctc.find(kCpu, dt)(p, arg(lp), arg(targets), arg(in_lengths), arg(tgt_lengths), arg(nll), arg(grad));
      return std::pair{nll, grad};
    };
    const auto [want_nll, want_grad] = run(k::reference_tables(), 1);
    for (int threads : {1, 2}) {
      const auto [nll, grad] = run(k::kernel_tables(), threads);
      const double tol = dt == DType::Float64 ? 1e-11 : 2e-5;
      const auto a = nll.to(DType::Float64).to_vector<double>(), b = want_nll.to(DType::Float64).to_vector<double>();
      EXPECT_TRUE(std::isfinite(b[5]) && b[5] > 900) << "the one-path sample: " << b[5];
      for (size_t i = 0; i < a.size(); ++i) {
        if (std::isinf(b[i])) {
          EXPECT_TRUE(std::isinf(a[i])) << "sample " << i;
          continue;
        }
        EXPECT_NEAR(a[i], b[i], tol * (1 + std::abs(b[i]))) << tg::dtype_name(dt) << " sample " << i;
      }
      EXPECT_LT(tg::max(tg::abs(grad.to(DType::Float64) - want_grad.to(DType::Float64))).item(), tol)
          << tg::dtype_name(dt) << " threads " << threads;
    }
  }
}

TEST(KernelsCpuVsReference, EveryCpuSlotHasAReferenceKernel) {
  // The CPU registers production kernels only over reference ones: a fast kernel without an oracle would be
  // untestable. Checked for the families the CPU overrides.
  const k::KernelTables& cpu = k::kernel_tables();
  const k::KernelTables& ref = k::reference_tables();
  for (int d = 0; d < tg::kNumDTypes; ++d) {
    const auto dt = static_cast<DType>(d);
    for (int op = 0; op < k::kUnaryOpCount; ++op)
      EXPECT_EQ(cpu.unary.supports(static_cast<k::UnaryOp>(op), kCpu, dt), ref.unary.supports(static_cast<k::UnaryOp>(op), kCpu, dt));
    for (int op = 0; op < k::kBinaryOpCount; ++op)
      EXPECT_EQ(cpu.binary.supports(static_cast<k::BinaryOp>(op), kCpu, dt), ref.binary.supports(static_cast<k::BinaryOp>(op), kCpu, dt));
    for (int op = 0; op < k::kReduceOpCount; ++op)
      EXPECT_EQ(cpu.reduce.supports(static_cast<k::ReduceOp>(op), kCpu, dt), ref.reduce.supports(static_cast<k::ReduceOp>(op), kCpu, dt));
    for (int op = 0; op < k::kWindowOpCount; ++op)
      EXPECT_EQ(cpu.window.supports(static_cast<k::WindowOp>(op), kCpu, dt), ref.window.supports(static_cast<k::WindowOp>(op), kCpu, dt));
    EXPECT_EQ(cpu.matmul.supports(kCpu, dt), ref.matmul.supports(kCpu, dt));
    for (int op = 0; op < k::kConvGemmOpCount; ++op)
      EXPECT_EQ(cpu.conv_gemm.supports(static_cast<k::ConvGemmOp>(op), kCpu, dt),
                ref.conv_gemm.supports(static_cast<k::ConvGemmOp>(op), kCpu, dt));
    EXPECT_EQ(cpu.adam_update.supports(kCpu, dt), ref.adam_update.supports(kCpu, dt));
    EXPECT_EQ(cpu.max_pool.supports(kCpu, dt), ref.max_pool.supports(kCpu, dt));
    EXPECT_EQ(cpu.sgd_update.supports(kCpu, dt), ref.sgd_update.supports(kCpu, dt));
    EXPECT_EQ(cpu.layer_norm_forward.supports(kCpu, dt), ref.layer_norm_forward.supports(kCpu, dt));
    EXPECT_EQ(cpu.layer_norm_backward.supports(kCpu, dt), ref.layer_norm_backward.supports(kCpu, dt));
  }
}

}  // namespace
