// Bad arguments to the sliding-window ops throw tg::Error naming the op, the offending values and the
// operand shapes. Also: the argument forms (int or per-dimension list, default pooling stride) mean what
// they say, and the outputs are contiguous.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "support/expect_error.h"
#include "support/oracle.h"

namespace tgtest {
namespace {

Tensor T(const Shape& shape, DType dtype = DType::Float32) {
  std::vector<double> v(static_cast<size_t>(count(shape)));
  std::iota(v.begin(), v.end(), 0.0);
  return make_tensor(shape, v, dtype);
}

TEST(ConvErrors, ChannelMismatchNamesBothShapes) {
  const std::string msg = error_message([] { tg::conv2d(T({2, 3, 8, 8}), T({8, 4, 3, 3})); });
  EXPECT_EQ(msg.rfind("tg::conv2d: input has 3 channels but weight expects 4 (groups 1): input [2, 3, 8, 8], "
                      "weight [8, 4, 3, 3]",
                      0),
            0u)
      << msg;
  EXPECT_TG_ERROR(tg::conv2d(T({2, 4, 8, 8}), T({8, 4, 3, 3}), {}, 1, 0, 1, 2), "tg::conv2d", "4 channels",
                  "weight expects 8", "groups 2", "[2, 4, 8, 8]", "[8, 4, 3, 3]");
  EXPECT_TG_ERROR(tg::conv1d(T({2, 3, 10}), T({5, 2, 3})), "tg::conv1d", "3 channels", "expects 2", "[2, 3, 10]",
                  "[5, 2, 3]");
}

TEST(ConvErrors, Ranks) {
  EXPECT_TG_ERROR(tg::conv2d(T({3, 8, 8}), T({8, 3, 3, 3})), "tg::conv2d", "input must be 4-D", "[N, C, H, W]",
                  "[3, 8, 8]");
  EXPECT_TG_ERROR(tg::conv2d(T({1, 3, 8, 8}), T({8, 3, 3})), "tg::conv2d", "weight must be 4-D", "[8, 3, 3]");
  EXPECT_TG_ERROR(tg::conv1d(T({1, 3, 8, 8}), T({8, 3, 3})), "tg::conv1d", "input must be 3-D", "[1, 3, 8, 8]");
  EXPECT_TG_ERROR(tg::im2col(T({3, 8}), 2), "tg::im2col", "3-D", "4-D", "[3, 8]");
  EXPECT_TG_ERROR(tg::col2im(T({1, 4}), {3, 3}, 2), "tg::col2im", "3-D", "[1, 4]");
  EXPECT_TG_ERROR(tg::max_pool2d(T({3, 8, 8}), 2), "tg::max_pool2d", "4-D", "[3, 8, 8]");
  EXPECT_TG_ERROR(tg::max_pool1d(T({1, 3, 8, 8}), 2), "tg::max_pool1d", "3-D", "[1, 3, 8, 8]");
  EXPECT_TG_ERROR(tg::avg_pool2d(T({8, 8}), 2), "tg::avg_pool2d", "4-D", "[8, 8]");
  EXPECT_TG_ERROR(tg::avg_pool1d(T({8}), 2), "tg::avg_pool1d", "3-D", "[8]");
}

TEST(ConvErrors, Groups) {
  EXPECT_TG_ERROR(tg::conv2d(T({1, 3, 8, 8}), T({4, 1, 3, 3}), {}, 1, 0, 1, 2), "tg::conv2d", "3 channels",
                  "groups 2", "[1, 3, 8, 8]", "[4, 1, 3, 3]");
  EXPECT_TG_ERROR(tg::conv2d(T({1, 4, 8, 8}), T({5, 2, 3, 3}), {}, 1, 0, 1, 2), "tg::conv2d", "5 output channels",
                  "groups 2", "[5, 2, 3, 3]");
  EXPECT_TG_ERROR(tg::conv2d(T({1, 4, 8, 8}), T({4, 4, 3, 3}), {}, 1, 0, 1, 0), "tg::conv2d", "groups",
                  "positive", "got 0");
}

TEST(ConvErrors, KernelLargerThanPaddedInput) {
  EXPECT_TG_ERROR(tg::conv2d(T({1, 1, 3, 3}), T({1, 1, 5, 5})), "tg::conv2d", "larger than the padded input",
                  "[5, 5]", "output size would be [-1, -1]", "[1, 1, 3, 3]", "[1, 1, 5, 5]");
  // Padding makes it fit.
  EXPECT_EQ(tg::conv2d(T({1, 1, 3, 3}), T({1, 1, 5, 5}), {}, 1, 1).shape(), (Shape{1, 1, 1, 1}));
  // Dilation makes it too large again.
  EXPECT_TG_ERROR(tg::conv2d(T({1, 1, 4, 4}), T({1, 1, 3, 3}), {}, 1, 0, 2), "tg::conv2d", "dilation [2, 2]",
                  "output size would be [0, 0]");
  EXPECT_TG_ERROR(tg::conv1d(T({1, 1, 2}), T({1, 1, 3})), "tg::conv1d", "output size would be [0]");
  EXPECT_TG_ERROR(tg::im2col(T({1, 1, 2, 6}), {3, 2}), "tg::im2col", "[3, 2]", "output size would be [0, 5]");
  EXPECT_TG_ERROR(tg::max_pool2d(T({1, 1, 2, 2}), 3), "tg::max_pool2d", "output size", "[1, 1, 2, 2]");
  EXPECT_TG_ERROR(tg::avg_pool1d(T({1, 1, 2}), 3), "tg::avg_pool1d", "output size", "[1, 1, 2]");
}

TEST(ConvErrors, StrideDilationPadding) {
  const Tensor x = T({1, 2, 6, 6}), w = T({3, 2, 3, 3});
  EXPECT_TG_ERROR(tg::conv2d(x, w, {}, 0), "tg::conv2d", "stride must be positive", "[0, 0]", "[1, 2, 6, 6]");
  EXPECT_TG_ERROR(tg::conv2d(x, w, {}, {1, -2}), "tg::conv2d", "stride must be positive", "[1, -2]");
  EXPECT_TG_ERROR(tg::conv2d(x, w, {}, 1, 0, 0), "tg::conv2d", "dilation must be positive", "[0, 0]");
  EXPECT_TG_ERROR(tg::conv2d(x, w, {}, 1, -1), "tg::conv2d", "padding must be non-negative", "[-1, -1]");
  EXPECT_TG_ERROR(tg::conv2d(x, w, {}, {1, 1, 1}), "tg::conv2d", "stride needs 1 or 2 values", "[1, 1, 1]");
  EXPECT_TG_ERROR(tg::conv1d(T({1, 2, 6}), T({3, 2, 3}), {}, {1, 1}), "tg::conv1d", "stride needs 1 value", "[1, 1]");
  EXPECT_TG_ERROR(tg::im2col(x, 0), "tg::im2col", "kernel_size must be positive", "[0, 0]");
  EXPECT_TG_ERROR(tg::im2col(x, 2, 1, 0, -1), "tg::im2col", "stride must be positive");
  EXPECT_TG_ERROR(tg::col2im(T({1, 8, 4}), {3, 3}, 2, 0), "tg::col2im", "dilation must be positive");
  EXPECT_TG_ERROR(tg::max_pool2d(x, 2, 0), "tg::max_pool2d", "stride must be positive");
  EXPECT_TG_ERROR(tg::max_pool2d(x, 2, 2, 0, 0), "tg::max_pool2d", "dilation must be positive");
  EXPECT_TG_ERROR(tg::max_pool2d(x, 2, 2, -1), "tg::max_pool2d", "padding must be non-negative");
  EXPECT_TG_ERROR(tg::max_pool2d(x, 3, 1, 2), "tg::max_pool2d", "at most half", "[2, 2]", "[3, 3]");
  EXPECT_TG_ERROR(tg::avg_pool2d(x, {2, 4}, 1, {1, 3}), "tg::avg_pool2d", "at most half", "[1, 3]", "[2, 4]");
  EXPECT_TG_ERROR(tg::max_pool2d(x, 0), "tg::max_pool2d", "kernel_size must be positive");
}

TEST(ConvErrors, DTypes) {
  EXPECT_TG_ERROR(tg::conv2d(T({1, 2, 4, 4}, DType::Int64), T({3, 2, 3, 3}, DType::Int64)), "tg::conv2d",
                  "floating", "int64", "[1, 2, 4, 4]");
  EXPECT_TG_ERROR(tg::conv2d(T({1, 2, 4, 4}, DType::Float32), T({3, 2, 3, 3}, DType::Float64)), "tg::conv2d",
                  "same dtype", "float32", "float64");
  EXPECT_TG_ERROR(tg::conv2d(T({1, 2, 4, 4}), T({3, 2, 3, 3}), T({3}, DType::Float64)), "tg::conv2d", "bias",
                  "float64", "float32");
  EXPECT_TG_ERROR(tg::conv1d(T({1, 2, 4}), T({3, 2, 3}), T({4})), "tg::conv1d", "bias must be 1-D with 3",
                  "[4]");
  EXPECT_TG_ERROR(tg::max_pool2d(T({1, 1, 4, 4}, DType::Int64), 2), "tg::max_pool2d", "floating", "int64");
  EXPECT_TG_ERROR(tg::avg_pool1d(T({1, 1, 4}, DType::Bool), 2), "tg::avg_pool1d", "floating", "bool");
  EXPECT_TG_ERROR(tg::im2col(T({1, 1, 4, 4}, DType::Bool), 2), "tg::im2col", "bool", "[1, 1, 4, 4]");
  EXPECT_TG_ERROR(tg::im2col(T({1, 1, 4, 4}, DType::Int64), 2, 1, 1, 1, -INFINITY), "tg::im2col", "pad_value",
                  "int64");
}

TEST(ConvErrors, Col2imShapes) {
  EXPECT_TG_ERROR(tg::col2im(T({1, 10, 4}), {3, 3}, 2), "tg::col2im", "multiple of the kernel's 4 elements",
                  "[1, 10, 4]");
  EXPECT_TG_ERROR(tg::col2im(T({1, 8, 5}), {3, 3}, 2), "tg::col2im", "5 window positions", "[2, 2]", "= 4",
                  "[1, 8, 5]");
  EXPECT_TG_ERROR(tg::col2im(T({1, 8, 4}), {3, 3, 3}, 2), "tg::col2im", "output_size", "[3, 3, 3]");
}

// What the tests above do not reach through the op table: the argument forms.
TEST(ConvApi, IntAndListArgumentsAgree) {
  const Tensor x = T({2, 3, 7, 6}, DType::Float64) / tg::Scalar(40.0);
  const Tensor w = T({4, 3, 3, 3}, DType::Float64) / tg::Scalar(100.0);
  const Tensor a = tg::conv2d(x, w, {}, 2, 1, 1);
  const Tensor b = tg::conv2d(x, w, {}, {2, 2}, {1, 1}, {1, 1});
  EXPECT_EQ(a.shape(), (Shape{2, 4, 4, 3}));
  EXPECT_TRUE(a.is_contiguous());
  EXPECT_EQ(to_doubles(a), to_doubles(b));
  EXPECT_EQ(to_doubles(tg::max_pool2d(x, 2)), to_doubles(tg::max_pool2d(x, 2, 2)));
  EXPECT_EQ(tg::max_pool2d(x, {3, 2}).shape(), (Shape{2, 3, 2, 3}));
  EXPECT_EQ(tg::avg_pool2d(x, 2, 1).shape(), (Shape{2, 3, 6, 5}));
}

// A window that hangs over the input everywhere still sees real values; padding is never the maximum.
TEST(ConvApi, MaxPoolPaddingIsNeverTheMaximum) {
  const Tensor x = tg::full({1, 1, 2, 2}, -1e30, DType::Float32);
  const Tensor y = tg::max_pool2d(x, 2, 1, 1);
  for (double v : to_doubles(y)) EXPECT_EQ(v, static_cast<double>(-1e30f));
}

// Ties: the first maximum of a window (row-major) takes the whole gradient, as in PyTorch; a NaN wins.
TEST(ConvApi, MaxPoolGradientGoesToTheFirstMaximum) {
  const Tensor x = tg::from_vector<double>({1, 3, 3, 0,  //
                                            3, 2, 1, 3,  //
                                            5, 5, 0, NAN,  //
                                            5, 5, 7, 1},
                                           {1, 1, 4, 4})
                       .requires_grad_();
  const Tensor y = tg::max_pool2d(x, 2);
  const std::vector<double> values = to_doubles(y);
  EXPECT_EQ(values[0], 3);
  EXPECT_EQ(values[1], 3);
  EXPECT_EQ(values[2], 5);
  EXPECT_TRUE(std::isnan(values[3]));
  tg::sum(y * tg::from_vector<double>({1, 2, 3, 4}, {1, 1, 2, 2})).backward();
  EXPECT_EQ(to_doubles(x.grad()), (std::vector<double>{0, 1, 2, 0,  //
                                                       0, 0, 0, 0,  //
                                                       3, 0, 0, 4,  //
                                                       0, 0, 0, 0}));
}

// The 2x2 / stride 2 window has its own kernel for unit-stride rows; a transposed input takes the general
// one. Both must pick the first maximum (NaN first) that a brute-force scan picks, on data full of ties.
TEST(ConvApi, MaxPool2x2KernelsAgreeWithAScanOnTiesAndNaN) {
  for (DType dtype : {DType::Float32, DType::Float64}) {
    for (const Shape& shape : {Shape{2, 3, 6, 8}, Shape{1, 2, 7, 9}, Shape{3, 1, 2, 34}}) {
      const int64_t H = shape[2], W = shape[3], OH = H / 2, OW = W / 2, planes = shape[0] * shape[1];
      std::vector<double> v(static_cast<size_t>(count(shape)));
      for (size_t i = 0; i < v.size(); ++i) v[i] = (i * 7919 % 13) % 5 == 4 ? NAN : static_cast<double>(i * 31 % 3);
      const Tensor x = make_tensor(shape, v, dtype);
      // Same values, laid out [N, C, W, H] and transposed back: W stride is H, not 1.
      std::vector<double> vt(v.size());
      for (int64_t p = 0; p < planes; ++p)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t w = 0; w < W; ++w) vt[static_cast<size_t>((p * W + w) * H + h)] = v[static_cast<size_t>((p * H + h) * W + w)];
      const Tensor xt = tg::transpose(make_tensor({shape[0], shape[1], W, H}, vt, dtype), 2, 3);
      ASSERT_NE(xt.strides()[3], 1);
      std::vector<double> want_grad(v.size(), 0.0);
      for (int64_t p = 0; p < planes; ++p) {
        for (int64_t oh = 0; oh < OH; ++oh) {
          for (int64_t ow = 0; ow < OW; ++ow) {
            size_t best = static_cast<size_t>((p * H + 2 * oh) * W + 2 * ow);
            for (int64_t kh = 0; kh < 2; ++kh) {
              for (int64_t kw = 0; kw < 2; ++kw) {
                const size_t i = static_cast<size_t>((p * H + 2 * oh + kh) * W + 2 * ow + kw);
                if (v[i] > v[best] || (std::isnan(v[i]) && !std::isnan(v[best]))) best = i;
              }
            }
            want_grad[best] += static_cast<double>((p * OH + oh) * OW + ow + 1);
          }
        }
      }
      const Tensor weights = tg::reshape(tg::arange(1, planes * OH * OW + 1, 1, dtype), {shape[0], shape[1], OH, OW});
      for (const Tensor& input : {x, xt}) {
        const Tensor leaf = input.detach().requires_grad_();
        tg::sum(tg::max_pool2d(leaf, 2) * weights).backward();  // NaN values, finite gradients
        EXPECT_EQ(to_doubles(tg::contiguous(leaf.grad())), want_grad)
            << dtype_name(dtype) << " " << tg::shape_str(shape) << (input.is_contiguous() ? " contiguous" : " transposed");
      }
    }
  }
}

}  // namespace
}  // namespace tgtest
