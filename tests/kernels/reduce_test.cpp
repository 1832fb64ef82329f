// The fast CPU sum / max / min (src/kernels/cpu/reduce.cpp) against the reference reduction (the oracle), over
// random shapes, reduced-dim subsets and layouts (contiguous, permuted, sliced, broadcast), with NaNs for max
// and min. Max and min must match bit for bit; sums accumulate in double in both kernels but in another order,
// so they agree within a few double roundings of sum |x| (float32 results are then the same float or a
// neighbour).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <tensorgrad/tensorgrad.h>

#include "../../src/kernels/ref/ref_kernels.h"
#include "../support/kernel_args.h"

namespace {

using tg::DType;
using tg::Shape;
using tg::Tensor;
using tg::kernels::ReduceOp;

std::vector<double> values(const Tensor& t) {
  const Tensor d = tg::to(t, DType::Float64).contiguous();
  const double* p = static_cast<const double*>(d.data_ptr());
  return std::vector<double>(p, p + d.numel());
}

// The output of reducing `x` over `reduce` with the registered (fast) kernel or the reference one.
Tensor reduce_with(bool reference, ReduceOp op, const Tensor& x, const std::vector<bool>& reduce) {
  Shape out_shape = x.shape();
  for (size_t d = 0; d < reduce.size(); ++d)
    if (reduce[d]) out_shape[d] = 1;
  Tensor out = Tensor::empty(out_shape, x.dtype());
  tg::Strides out_strides = out.strides();
  for (size_t d = 0; d < reduce.size(); ++d)
    if (reduce[d]) out_strides[d] = 0;
  const tg::kernels::StridedArg o{out.data_ptr(), out_strides, x.dtype()}, i{x.data_ptr(), x.strides(), x.dtype()};
  if (!reference) tg::kernels::reduce(op, x.shape(), reduce, o, i);
  else tg::kernels::reference_tables().reduce.find(op, tg::DeviceType::CPU, x.dtype())(op, x.shape(), reduce, o, i);
  return out;
}

// A random tensor of `shape` in one of several layouts, all views of the same values' kind.
Tensor random_layout(const Shape& shape, DType dtype, int layout, tg::Generator& gen) {
  switch (layout) {
    case 0: return tg::randn(shape, dtype, gen);
    case 1: {  // permuted: the reverse-order view of a contiguous tensor
      Shape rev(shape.rbegin(), shape.rend());
      std::vector<int64_t> order;
      for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) order.push_back(d);
      return tg::permute(tg::randn(rev, dtype, gen), order);
    }
    case 2: {  // sliced: every other element of a longer last dim
      Shape wide = shape;
      wide.back() = 2 * shape.back() + 1;
      return tg::slice(tg::randn(wide, dtype, gen), -1, 1, 2 * shape.back() + 1, 2);
    }
    default: {  // broadcast along the first dim
      Shape one = shape;
      one[0] = 1;
      return tg::expand(tg::randn(one, dtype, gen), shape);
    }
  }
}

TEST(KernelsReduce, FastSumMaxMinMatchTheReference) {
  std::mt19937 rng(7);
  tg::Generator gen(11);
  for (int trial = 0; trial < 300; ++trial) {
    const int rank = 1 + static_cast<int>(rng() % 4);
    Shape shape;
    for (int d = 0; d < rank; ++d) shape.push_back(1 + static_cast<int64_t>(rng() % (d == rank - 1 ? 40 : 6)));
    std::vector<bool> reduce(static_cast<size_t>(rank));
    for (auto&& r : reduce) r = rng() % 2 == 0;
    const DType dtype = trial % 2 ? DType::Float32 : DType::Float64;
    Tensor x = random_layout(shape, dtype, static_cast<int>(rng() % 4), gen);
    if (trial % 5 == 0) {  // a NaN somewhere
      x = x.contiguous();
      tg::flatten(x).narrow(0, static_cast<int64_t>(rng() % static_cast<uint64_t>(x.numel())), 1).fill_(NAN);
    }
    const std::vector<double> magnitude = values(reduce_with(true, ReduceOp::Sum, tg::abs(x), reduce));
    for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min}) {
      const std::vector<double> fast = values(reduce_with(false, op, x, reduce));
      const std::vector<double> ref = values(reduce_with(true, op, x, reduce));
      ASSERT_EQ(fast.size(), ref.size());
      for (size_t i = 0; i < fast.size(); ++i) {
        const std::string where = "trial " + std::to_string(trial) + " op " + tg::kernels::op_name(op) + " shape " +
                                  tg::shape_str(shape) + " element " + std::to_string(i);
        if (std::isnan(ref[i])) {
          EXPECT_TRUE(std::isnan(fast[i])) << where;
        } else if (op == ReduceOp::Sum) {
          const double float_ulp = dtype == DType::Float32 ? std::abs(ref[i]) * 1.2e-7 : 0.0;
          EXPECT_NEAR(fast[i], ref[i], 1e-14 * magnitude[i] + float_ulp) << where;
        } else {
          EXPECT_EQ(fast[i], ref[i]) << where;
        }
      }
    }
  }
}

// Sums large enough to be split over threads (reduce.cpp splits the largest kept dim, a kept innermost one at
// whole cache lines): column sums (a bias gradient: [rows, cols] over its rows, cols with a 64-wide part, an
// 8-wide part and a tail), row sums, and a kept middle dim. Sum, max and min each give the same bits on one and two
// threads, and a column sum is exactly the row-by-row double sum (the order every element keeps), in float32 and
// float64.
TEST(KernelsReduce, ThreadedSumsKeepEachElementsOrder) {
  tg::Generator gen(13);
  struct Case {
    Shape shape;
    std::vector<bool> reduce;
  };
  const std::vector<Case> cases = {{{1600, 144}, {true, false}},   {{700, 203}, {true, false}},
                                   {{16, 100, 144}, {true, true, false}}, {{1600, 144}, {false, true}},
                                   {{8, 300, 50}, {true, false, true}}};
  for (const Case& c : cases)
    for (DType dtype : {DType::Float32, DType::Float64}) {
      const Tensor x = tg::randn(c.shape, dtype, gen);
      const std::string where = tg::shape_str(c.shape) + " " + tg::dtype_name(dtype);
      Tensor one;
      for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min}) {
        Tensor on_one, on_two;
        {
          tgtest::Threads t(1);
          on_one = reduce_with(false, op, x, c.reduce);
        }
        {
          tgtest::Threads t(2);
          on_two = reduce_with(false, op, x, c.reduce);
        }
        EXPECT_EQ(values(on_one), values(on_two)) << where << " " << tg::kernels::op_name(op);
        if (op == ReduceOp::Sum) one = on_one;
      }
      if (c.shape.size() != 2 || !c.reduce[0] || c.reduce[1]) continue;
      const int64_t rows = c.shape[0], cols = c.shape[1];
      const std::vector<double> v = values(x);
      std::vector<double> want(static_cast<size_t>(cols), 0.0);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < cols; ++j) want[static_cast<size_t>(j)] += v[static_cast<size_t>(r * cols + j)];
      std::vector<double> got = values(one);
      if (dtype == DType::Float32)  // the kernel rounds the double sums to float32 as it writes them
        for (double& w : want) w = static_cast<double>(static_cast<float>(w));
      EXPECT_EQ(got, want) << where << ": not the row-by-row sum";
    }
}

}  // namespace
