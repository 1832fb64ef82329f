// The fast float add/sub/mul/div and relu's gradient (src/kernels/cpu/binary.cpp, loops cloned per ISA) and relu
// (unary.cpp) against the reference kernels, bit for bit, over sizes around the vector widths and the threading
// grain, scalar operands on either side, strided views, signed zeros, NaNs and infinities, and an output that
// aliases an input; and the blocked, threaded whole-tensor
// sum (src/kernels/cpu/reduce.cpp): the same bits on 1 and 2 threads, and within a few double roundings of
// a long-double oracle.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include <tensorgrad/base/threads.h>
#include <tensorgrad/tensorgrad.h>

#include "../../src/kernels/ref/ref_kernels.h"

namespace {

using tg::DType;
using tg::Shape;
using tg::Tensor;
using tg::kernels::BinaryOp;
using tg::kernels::StridedArg;

class ThreadsGuard {
 public:
  ThreadsGuard() : saved_(tg::num_threads()) {}
  ~ThreadsGuard() { tg::set_num_threads(saved_); }

 private:
  int saved_;
};

StridedArg arg_as(const Tensor& t, const Shape& shape) {
  return {t.data_ptr(), tg::broadcast_strides(t.shape(), t.strides(), shape), t.dtype()};
}

bool same_bits(const Tensor& a, const Tensor& b) {
  const Tensor ca = a.contiguous(), cb = b.contiguous();
  return ca.numel() == cb.numel() &&
         std::memcmp(ca.data_ptr(), cb.data_ptr(), static_cast<size_t>(ca.numel()) * tg::itemsize(ca.dtype())) == 0;
}

// out = op(a, b) by the registered kernel (fast when covered) and by the reference one.
void expect_matches_reference(BinaryOp op, const Tensor& a, const Tensor& b, const std::string& what) {
  const Shape shape = tg::broadcast_shapes(a.shape(), b.shape(), "test");
  const Tensor fast = Tensor::empty(shape, a.dtype()), ref = Tensor::empty(shape, a.dtype());
  tg::kernels::binary(op, shape, {fast.data_ptr(), fast.strides(), fast.dtype()}, arg_as(a, shape), arg_as(b, shape));
  const StridedArg out{ref.data_ptr(), ref.strides(), ref.dtype()};
  tg::kernels::reference_tables().binary.find(op, tg::DeviceType::CPU, a.dtype())(op, shape, out, arg_as(a, shape),
                                                                               arg_as(b, shape));
  EXPECT_TRUE(same_bits(fast, ref)) << tg::kernels::op_name(op) << " " << what << " shape " << tg::shape_str(shape);
}

TEST(FastBinary, MatchesReferenceBitForBit) {
  ThreadsGuard guard;
  tg::Generator gen(7);
  for (int threads : {1, 2}) {
    tg::set_num_threads(threads);
    for (DType dtype : {DType::Float32, DType::Float64})
      for (BinaryOp op : {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div})
        for (int64_t n : std::vector<int64_t>{1, 2, 7, 15, 16, 17, 33, 257, 4099, 140001}) {
          const Tensor a = tg::randn({n}, dtype, gen), b = tg::randn({n}, dtype, gen) + 3.0;
          const Tensor s = tg::randn({1}, dtype, gen) + 3.0;
          expect_matches_reference(op, a, b, "contiguous");
          expect_matches_reference(op, a, s, "tensor-scalar");
          expect_matches_reference(op, s, b, "scalar-tensor");
          // every other element of a longer vector: a strided run
          const Tensor wide = tg::randn({2 * n}, dtype, gen) + 3.0;
          expect_matches_reference(op, a, tg::slice(wide, 0, 0, 2 * n, 2), "strided");
          // rows broadcast against a matrix
          const Tensor m = tg::randn({3, n}, dtype, gen), row = tg::randn({n}, dtype, gen) + 3.0;
          expect_matches_reference(op, m, row, "row-broadcast");
        }
  }
}

// Values where relu and its gradient have a rule to get right: signed zeros, NaNs of either sign, infinities,
// ordinary numbers; a[i] and b[i] cycle through them out of step, so every pairing occurs. No subnormals: with
// flush-denormal on (the default) they read as zero, and whether a select returns the input's bits or zero then
// depends on the instruction the compiler picked (the reference built at -O1 for the sanitizer tree returns zero).
Tensor special_values(int64_t n, DType dtype, int offset) {
  const double nan = std::nan("");
  const double values[] = {-1.5, -0.0, 0.0, 2.0, nan, -nan, INFINITY, -INFINITY, 3e-30, -7e-20, 0.25};
  constexpr int64_t count = sizeof(values) / sizeof(values[0]);
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = values[(i * 7 + offset) % count];
  return tg::from_vector<double>(v, {n}).to(dtype);
}

// relu: out = op(x) by the registered kernel and by the reference one.
void expect_relu_matches_reference(const Tensor& x, const Tensor& out_view, const std::string& what) {
  const Shape shape = x.shape();
  const Tensor ref = Tensor::empty(shape, x.dtype());
  const Tensor input = x.clone();  // the reference reads the input before an in-place output overwrites it
  tg::kernels::reference_tables().unary.find(tg::kernels::UnaryOp::Relu, tg::DeviceType::CPU, x.dtype())(
      tg::kernels::UnaryOp::Relu, shape, {ref.data_ptr(), ref.strides(), ref.dtype()}, arg_as(input, shape));
  tg::kernels::unary(tg::kernels::UnaryOp::Relu, shape, {out_view.data_ptr(), out_view.strides(), out_view.dtype()},
                     arg_as(x, shape));
  EXPECT_TRUE(same_bits(out_view, ref)) << "relu " << what << " " << tg::dtype_name(x.dtype()) << " n "
                                        << x.numel();
}

TEST(FastBinary, ReluAndItsGradientMatchReferenceBitForBitOnSpecialValues) {
  ThreadsGuard guard;
  for (int threads : {1, 2}) {
    tg::set_num_threads(threads);
    for (DType dtype : {DType::Float32, DType::Float64})
      for (int64_t n : std::vector<int64_t>{1, 7, 16, 17, 33, 257, 140001}) {
        const Tensor g = special_values(n, dtype, 0), x = special_values(n, dtype, 3);
        expect_matches_reference(BinaryOp::ReluGrad, g, x, "contiguous");
        expect_matches_reference(BinaryOp::ReluGrad, g, special_values(1, dtype, 4), "tensor-scalar");
        expect_matches_reference(BinaryOp::ReluGrad, special_values(1, dtype, 5), x, "scalar-tensor");
        const Tensor wide = special_values(2 * n, dtype, 1);
        expect_matches_reference(BinaryOp::ReluGrad, g, tg::slice(wide, 0, 0, 2 * n, 2), "strided");
        expect_relu_matches_reference(x, Tensor::empty({n}, dtype), "contiguous");
        expect_relu_matches_reference(tg::slice(wide, 0, 0, 2 * n, 2), Tensor::empty({n}, dtype), "strided input");
        const Tensor wide_out = Tensor::empty({2 * n}, dtype);
        expect_relu_matches_reference(x, tg::slice(wide_out, 0, 0, 2 * n, 2), "strided output");
        const Tensor in_place = x.clone();
        expect_relu_matches_reference(in_place, in_place, "in place");
      }
  }
}

TEST(FastBinary, OutputMayAliasAnInput) {
  tg::Generator gen(8);
  for (int64_t n : std::vector<int64_t>{5, 1000, 70001}) {
    const Tensor a = tg::randn({n}, DType::Float32, gen), b = tg::randn({n}, DType::Float32, gen);
    const Tensor want = tg::add(a, b);
    const Shape shape{n};
    tg::kernels::binary(BinaryOp::Add, shape, arg_as(a, shape), arg_as(a, shape), arg_as(b, shape));  // a += b
    EXPECT_TRUE(same_bits(a, want)) << n;
  }
}

// Dropout's fused keep ? x / q : +0 (cpu/where.cpp) against the reference bit for bit: special values, runs
// around the vector widths, a strided x, a broadcast mask row, an output that is x itself, 1 and 2 threads.
TEST(FastBinary, MaskedDivideMatchesReferenceBitForBit) {
  ThreadsGuard guard;
  tg::Generator gen(12);
  const auto check = [](const Tensor& out, const Tensor& keep, const Tensor& x, double q, const std::string& what) {
    const Shape shape = out.shape();
    const Tensor x_copy = x.clone();  // the reference reads x before an in-place output overwrites it
    const Tensor ref = Tensor::empty(shape, x.dtype());
    tg::kernels::reference_tables().masked_divide.find(tg::DeviceType::CPU, x.dtype())(
        shape, {ref.data_ptr(), ref.strides(), ref.dtype()}, arg_as(keep, shape), arg_as(x_copy, shape), q);
    tg::kernels::masked_divide(shape, {out.data_ptr(), out.strides(), out.dtype()}, arg_as(keep, shape),
                               arg_as(x, shape), q);
    EXPECT_TRUE(same_bits(out, ref)) << "masked_divide " << what << " " << tg::dtype_name(x.dtype()) << " n "
                                     << out.numel();
  };
  for (int threads : {1, 2}) {
    tg::set_num_threads(threads);
    for (DType dtype : {DType::Float32, DType::Float64})
      for (int64_t n : std::vector<int64_t>{1, 7, 16, 17, 33, 257, 140001}) {
        const Tensor x = special_values(n, dtype, 2);
        const Tensor keep = tg::gt(tg::rand({n}, DType::Float32, gen), tg::full({}, 0.3));
        check(Tensor::empty({n}, dtype), keep, x, 0.7, "contiguous");
        check(Tensor::empty({n}, dtype), keep, tg::randn({n}, dtype, gen), 0.9, "random values");
        const Tensor wide = special_values(2 * n, dtype, 1);
        check(Tensor::empty({n}, dtype), keep, tg::slice(wide, 0, 0, 2 * n, 2), 0.7, "strided x");
        const Tensor in_place = tg::randn({n}, dtype, gen);
        check(in_place, keep, in_place, 0.5, "in place");
        const Tensor m = tg::randn({3, n}, dtype, gen);
        check(Tensor::empty({3, n}, dtype), keep, m, 0.8, "a mask row over a matrix");
      }
  }
}

long double oracle_sum(const Tensor& x) {
  const Tensor c = x.contiguous();
  const float* p = c.data<float>();
  long double s = 0;
  for (int64_t i = 0; i < c.numel(); ++i) s += p[i];
  return s;
}

TEST(FastSum, SameBitsOnOneAndTwoThreadsAndAccurate) {
  ThreadsGuard guard;
  tg::Generator gen(9);
  for (int64_t n : std::vector<int64_t>{1, 31, 32, 33, 16383, 16384, 16385, 65537, 131072 * 3 + 5, (int64_t{1} << 20) + 7}) {
    const Tensor x = tg::randn({n}, DType::Float32, gen);
    tg::set_num_threads(1);
    const Tensor one = tg::sum(x);
    tg::set_num_threads(2);
    const Tensor two = tg::sum(x);
    EXPECT_TRUE(same_bits(one, two)) << n << ": " << one.item() << " vs " << two.item();
    long double abs_sum = 0;
    for (float v : x.to_vector<float>()) abs_sum += std::fabs(v);
    const double want = static_cast<double>(oracle_sum(x));
    // the float32 result is the rounded double sum: half a float ulp plus a few double roundings
    EXPECT_NEAR(one.item(), want, std::abs(want) * 6e-8 + static_cast<double>(abs_sum) * 1e-15) << n;
  }
}

TEST(FastSum, LongRowsOfAMatrixMatchTheReference) {
  tg::Generator gen(10);
  const Tensor x = tg::randn({3, 50001}, DType::Float64, gen);
  const Tensor got = tg::sum(x, {1});
  for (int64_t r = 0; r < 3; ++r) {
    long double want = 0, abs_sum = 0;
    for (int64_t c = 0; c < 50001; ++c) want += x.at<double>({r, c}), abs_sum += std::fabs(x.at<double>({r, c}));
    EXPECT_NEAR(got.at<double>({r}), static_cast<double>(want), static_cast<double>(abs_sum) * 1e-14) << r;
  }
}

}  // namespace
