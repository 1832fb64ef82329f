// Each class of bad input throws tg::Error naming the op and the offending shapes/dtypes; none crashes.
#include <gtest/gtest.h>

#include <numeric>

#include "support/expect_error.h"
#include "support/oracle.h"

namespace tgtest {
namespace {

Tensor T(const Shape& shape, DType dtype = DType::Float64) {
  std::vector<double> v(static_cast<size_t>(count(shape)));
  std::iota(v.begin(), v.end(), 0.0);
  return make_tensor(shape, v, dtype);
}

Tensor ints(const Shape& shape, std::vector<double> values) { return make_tensor(shape, values, DType::Int64); }

TEST(OpErrors, MatmulInnerDimensions) {
  const std::string msg = error_message([] { tg::matmul(T({32, 784}), T({512, 256})); });
  EXPECT_EQ(msg.rfind("tg::matmul: inner dimensions differ: [32, 784] @ [512, 256]", 0), 0u) << msg;
  EXPECT_TG_ERROR(tg::matmul(T({3}), T({4})), "tg::matmul", "[3]", "[4]");
  EXPECT_TG_ERROR(tg::matmul(T({2, 3}), T({2})), "tg::matmul", "[2, 3]", "[2]");
}

TEST(OpErrors, MatmulBatchAndRank) {
  EXPECT_TG_ERROR(tg::matmul(T({2, 3, 4}), T({3, 4, 5})), "tg::matmul", "[2, 3, 4]", "[3, 4, 5]");
  EXPECT_TG_ERROR(tg::matmul(T({}), T({3})), "tg::matmul", "[]", "[3]");
}

TEST(OpErrors, BroadcastMismatch) {
  EXPECT_TG_ERROR(tg::add(T({2, 3}), T({4})), "tg::add", "[2, 3]", "[4]");
  EXPECT_TG_ERROR(T({2, 3}) + T({4}), "tg::add", "[2, 3]", "[4]");
  EXPECT_TG_ERROR(tg::sub(T({2, 3}), T({3, 2})), "tg::sub", "[2, 3]", "[3, 2]");
  EXPECT_TG_ERROR(tg::mul(T({5}), T({4})), "tg::mul", "[5]", "[4]");
  EXPECT_TG_ERROR(tg::div(T({2, 1, 3}), T({4, 2})), "tg::div", "[2, 1, 3]", "[4, 2]");
  EXPECT_TG_ERROR(tg::pow(T({3}), T({2})), "tg::pow", "[3]", "[2]");
  EXPECT_TG_ERROR(tg::maximum(T({3}), T({2})), "tg::maximum", "[3]", "[2]");
  EXPECT_TG_ERROR(tg::lt(T({3}), T({2})), "tg::lt", "[3]", "[2]");
  EXPECT_TG_ERROR(tg::where(T({3}, DType::Bool), T({2}), T({3})), "tg::where", "[3]", "[2]");
}

TEST(OpErrors, ReductionDimOutOfRange) {
  EXPECT_TG_ERROR(tg::sum(T({2, 3}), {2}), "tg::sum", "out of range");
  EXPECT_TG_ERROR(tg::sum(T({2, 3}), {-3}), "tg::sum", "out of range");
  EXPECT_TG_ERROR(tg::mean(T({2, 3}), {5}), "tg::mean", "out of range");
  EXPECT_TG_ERROR(tg::prod(T({2, 3}), {2}), "tg::prod", "out of range");
  EXPECT_TG_ERROR(tg::max(T({2, 3}), {2}), "tg::max", "out of range");
  EXPECT_TG_ERROR(tg::var(T({2, 3}), {7}), "tg::var", "out of range");
  EXPECT_TG_ERROR(tg::logsumexp(T({2, 3}), {2}), "tg::logsumexp", "out of range");
  EXPECT_TG_ERROR(tg::argmax(T({2, 3}), 2), "tg::argmax", "out of range");
  EXPECT_TG_ERROR(tg::softmax(T({2, 3}), 2), "tg::softmax", "out of range");
  EXPECT_TG_ERROR(tg::log_softmax(T({2, 3}), -3), "tg::log_softmax", "out of range");
}

TEST(OpErrors, ReductionOfEmptyHasNoIdentity) {
  EXPECT_TG_ERROR(tg::max(T({0, 3})), "tg::max", "[0, 3]");
  EXPECT_TG_ERROR(tg::min(T({0, 3}), {0}), "tg::min", "[0, 3]");
  EXPECT_TG_ERROR(tg::argmax(T({0})), "tg::argmax", "[0]");
}

TEST(OpErrors, SumToIncompatible) {
  EXPECT_TG_ERROR(tg::sum_to(T({2, 3}), {4}), "tg::sum_to", "[2, 3]", "[4]");
  EXPECT_TG_ERROR(tg::sum_to(T({3}), {2, 3}), "tg::sum_to", "[3]", "[2, 3]");
}

TEST(OpErrors, ReshapeAndView) {
  EXPECT_TG_ERROR(tg::reshape(T({2, 3}), {4}), "tg::reshape", "[2, 3]", "[4]");
  EXPECT_TG_ERROR(tg::reshape(T({2, 3}), {-1, -1}), "tg::reshape", "[-1, -1]");
  EXPECT_TG_ERROR(tg::reshape(T({2, 3}), {-1, 4}), "tg::reshape", "[2, 3]");
  const Tensor transposed = make_tensor({2, 3}, {0, 1, 2, 3, 4, 5}, DType::Float64, Layout::Transposed);
  EXPECT_TG_ERROR(tg::view(transposed, {6}), "tg::view", "[2, 3]", "[6]");
  EXPECT_TG_ERROR(tg::view(T({2, 3}), {5}), "tg::view", "[2, 3]", "[5]");
}

TEST(OpErrors, ViewArguments) {
  EXPECT_TG_ERROR(tg::permute(T({2, 3}), {0}), "tg::permute", "[2, 3]");
  EXPECT_TG_ERROR(tg::permute(T({2, 3}), {0, 0}), "tg::permute");
  EXPECT_TG_ERROR(tg::transpose(T({2, 3}), 0, 2), "tg::transpose", "out of range");
  EXPECT_TG_ERROR(tg::expand(T({2, 3}), {4, 3}), "tg::expand", "[2, 3]", "[4, 3]");
  EXPECT_TG_ERROR(tg::expand(T({2, 3}), {3}), "tg::expand", "[2, 3]", "[3]");
  EXPECT_TG_ERROR(tg::slice(T({4, 5}), 1, 0, 5, 0), "tg::slice");
  EXPECT_TG_ERROR(tg::slice(T({4, 5}), 2, 0, 5, 1), "tg::slice", "out of range");
  EXPECT_TG_ERROR(tg::narrow(T({4, 5}), 1, 3, 3), "tg::narrow", "[4, 5]");
  EXPECT_TG_ERROR(tg::narrow(T({4, 5}), 0, -9, 1), "tg::narrow", "[4, 5]");
  EXPECT_TG_ERROR(tg::select(T({3, 4}), 0, 3), "tg::select", "[3, 4]");
  EXPECT_TG_ERROR(tg::select(T({3, 4}), 2, 0), "tg::select", "out of range");
  EXPECT_TG_ERROR(tg::squeeze(T({3, 4}), 2), "tg::squeeze", "out of range");
  EXPECT_TG_ERROR(tg::unsqueeze(T({3, 4}), 3), "tg::unsqueeze", "out of range");
  EXPECT_TG_ERROR(tg::flatten(T({2, 3, 4}), 2, 1), "tg::flatten");
  EXPECT_TG_ERROR(tg::flatten(T({2, 3}), 0, 2), "tg::flatten", "out of range");
}

TEST(OpErrors, CatAndStack) {
  EXPECT_TG_ERROR(tg::cat({T({2, 3}), T({2, 4})}, 0), "tg::cat", "[2, 3]", "[2, 4]");
  EXPECT_TG_ERROR(tg::cat({T({2, 3}), T({3})}, 0), "tg::cat", "[2, 3]", "[3]");
  EXPECT_TG_ERROR(tg::cat({}, 0), "tg::cat");
  EXPECT_TG_ERROR(tg::cat({T({2, 3}), T({2, 3})}, 2), "tg::cat", "out of range");
  EXPECT_TG_ERROR(tg::stack({T({2, 3}), T({3, 2})}, 0), "tg::stack", "[2, 3]", "[3, 2]");
  EXPECT_TG_ERROR(tg::stack({}, 0), "tg::stack");
  EXPECT_TG_ERROR(tg::stack({T({2, 3}), T({2, 3})}, 3), "tg::stack", "out of range");
}

TEST(OpErrors, PadArguments) {
  EXPECT_TG_ERROR(tg::pad(T({2, 3}), {1}), "tg::pad", "[1]");
  EXPECT_TG_ERROR(tg::pad(T({2, 3}), {1, 1, 1, 1, 1, 1}), "tg::pad", "[2, 3]");
}

TEST(OpErrors, GatherAndScatter) {
  const Tensor x = T({3, 4});
  EXPECT_TG_ERROR(tg::gather(x, 1, ints({3, 1}, {0, 5, 1})), "tg::gather", "5");
  EXPECT_TG_ERROR(tg::gather(x, 1, ints({3, 1}, {0, -1, 1})), "tg::gather", "-1");
  EXPECT_TG_ERROR(tg::gather(x, 1, T({3, 1})), "tg::gather", "float64");
  EXPECT_TG_ERROR(tg::gather(x, 1, ints({3}, {0, 1, 2})), "tg::gather", "[3, 4]", "[3]");
  EXPECT_TG_ERROR(tg::gather(x, 2, ints({3, 1}, {0, 1, 2})), "tg::gather", "out of range");
  EXPECT_TG_ERROR(tg::scatter_add(x, 0, ints({1, 4}, {0, 1, 2, 3}), T({1, 4})), "tg::scatter_add", "3");
  EXPECT_TG_ERROR(tg::scatter_add(x, 1, ints({3, 2}, {0, 1, 2, 3, 0, 1}), T({3, 1})), "tg::scatter_add", "[3, 2]",
                  "[3, 1]");
  EXPECT_TG_ERROR(tg::scatter_add(x, 1, T({3, 2}), T({3, 2})), "tg::scatter_add", "float64");
}

TEST(OpErrors, IndexSelect) {
  const Tensor x = T({4, 3});
  EXPECT_TG_ERROR(tg::index_select(x, 0, ints({2}, {0, 4})), "tg::index_select", "4");
  EXPECT_TG_ERROR(tg::index_select(x, 0, ints({1, 2}, {0, 1})), "tg::index_select", "[1, 2]");
  EXPECT_TG_ERROR(tg::index_select(x, 0, T({2})), "tg::index_select", "float64");
  EXPECT_TG_ERROR(tg::index_select(x, 2, ints({1}, {0})), "tg::index_select", "out of range");
}

TEST(OpErrors, OneHot) {
  EXPECT_TG_ERROR(tg::one_hot(ints({2}, {0, 3}), 3), "tg::one_hot", "3");
  EXPECT_TG_ERROR(tg::one_hot(ints({2}, {0, -1}), 3), "tg::one_hot", "-1");
  EXPECT_TG_ERROR(tg::one_hot(T({2}, DType::Float32), 3), "tg::one_hot", "float32");
}

TEST(OpErrors, UnsupportedDtypes) {
  EXPECT_TG_ERROR(tg::sub(T({2}, DType::Bool), T({2}, DType::Bool)), "tg::sub", "bool");
  EXPECT_TG_ERROR(tg::matmul(T({2, 2}, DType::Bool), T({2, 2}, DType::Bool)), "tg::matmul", "bool");
  EXPECT_TG_ERROR(tg::where(T({2}, DType::Float32), T({2}), T({2})), "tg::where", "float32");
  EXPECT_TG_ERROR(tg::pow(ints({2}, {2, 3}), ints({2}, {1, -1})), "tg::pow");
}

TEST(OpErrors, UndefinedTensor) {
  EXPECT_TG_ERROR(tg::add(Tensor(), T({2})), "undefined");
  EXPECT_TG_ERROR(tg::exp(Tensor()), "undefined");
  EXPECT_TG_ERROR(tg::sum(Tensor()), "undefined");
}

}  // namespace
}  // namespace tgtest
