// sort / argsort / topk beyond the op table: NaN placement, stable ties, a large threaded sort against std::sort,
// gradients scattering back, and errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include <tensorgrad/tensorgrad.h>

#include "support/expect_error.h"

namespace {

using tg::DType;

TEST(Sort, NanSortsAboveEveryNumberAndTiesKeepTheirOrder) {
  const float nan = std::nanf("");
  const tg::Tensor x = tg::from_vector<float>({2, nan, -1, 2, 0, 2});
  const auto up = tg::sort(x);
  EXPECT_EQ(up.indices.to_vector<int64_t>(), (std::vector<int64_t>{2, 4, 0, 3, 5, 1}));
  EXPECT_TRUE(std::isnan(up.values.to_vector<float>()[5]));
  const auto down = tg::sort(x, 0, true);
  EXPECT_EQ(down.indices.to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 3, 5, 4, 2}));
  EXPECT_EQ(tg::topk(x, 2, 0, false).indices.to_vector<int64_t>(), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(tg::argsort(tg::from_vector<int64_t>({5, -3, 5, 0})).to_vector<int64_t>(),
            (std::vector<int64_t>{1, 3, 0, 2}));
  EXPECT_EQ(tg::sort(x.to(DType::BFloat16)).indices.to_vector<int64_t>(), up.indices.to_vector<int64_t>());
}

TEST(Sort, LargeThreadedSortMatchesStdSort) {
  std::mt19937 rng(5);
  std::vector<float> v(64 * 4096);
  for (auto& e : v) e = static_cast<float>(rng() % 100000) / 7.0f;
  const tg::Tensor x = tg::from_vector<float>(v, {64, 4096});
  const auto r = tg::sort(x.transpose(0, 1), 0, true);  // rows along a strided dim
  const auto got = r.values.transpose(0, 1).contiguous().to_vector<float>();
  for (int64_t row = 0; row < 64; ++row) {
    std::vector<float> want(v.begin() + row * 4096, v.begin() + (row + 1) * 4096);
    std::stable_sort(want.begin(), want.end(), std::greater<float>());
    ASSERT_TRUE(std::equal(want.begin(), want.end(), got.begin() + row * 4096)) << "row " << row;
  }
}

TEST(Sort, GradientScattersBackToTheChosenPositions) {
  const tg::Tensor x = tg::from_vector<double>({0.5, 3, -1, 2}).requires_grad_(true);
  const auto top = tg::topk(x, 2);
  tg::sum(top.values * tg::from_vector<double>({10, 1})).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 10, 0, 1}));
}

TEST(Sort, Errors) {
  const tg::Tensor x = tg::zeros({3, 4});
  EXPECT_TG_ERROR(tg::topk(x, 5), "k = 5 is larger than dim -1");
  EXPECT_TG_ERROR(tg::topk(x, -1), "k must be >= 0");
  EXPECT_TG_ERROR(tg::sort(x, 2), "tg::sort");
  EXPECT_TG_ERROR(tg::sort(tg::zeros({3}, DType::Bool)), "bool input is not supported");
}

}  // namespace

namespace {

TEST(Einsum, ImplicitOutputAndErrors) {
  const tg::Tensor a = tg::randn({3, 4}, tg::DType::Float64), b = tg::randn({4, 2}, tg::DType::Float64);
  // Without "->": the labels used once, alphabetically: "ij,jk" is "ik"; "ba" alone is "ab" (a transpose).
  auto max_diff = [](const tg::Tensor& x, const tg::Tensor& y) { return tg::max(tg::abs(x - y)).item(); };
  EXPECT_LT(max_diff(tg::einsum("ij,jk", {a, b}), tg::matmul(a, b)), 1e-12);
  EXPECT_EQ(tg::einsum("ij,jk", {a, b}).shape(), (tg::Shape{3, 2}));
  EXPECT_LT(max_diff(tg::einsum("ba", {a}), a.transpose(0, 1)), 1e-15);
  EXPECT_TG_ERROR(tg::einsum("ii->i", {tg::zeros({3, 3})}), "label 'i' repeats in operand \"ii\"");
  EXPECT_TG_ERROR(tg::einsum("...ij->ij", {a}), "ellipsis");
  EXPECT_TG_ERROR(tg::einsum("ij,jk,kl->il", {a, b, b}), "only one or two operands");
  EXPECT_TG_ERROR(tg::einsum("ij,jk->ik", {a, a}), "label 'j' has size 4 and 3");
  EXPECT_TG_ERROR(tg::einsum("ijk,jk->i", {a, b}), "operand 0 has 2 dims");
  EXPECT_TG_ERROR(tg::einsum("ij,jk->iz", {a, b}), "output label 'z' appears in no operand");
  EXPECT_TG_ERROR(tg::einsum("ij->ij", {a, b}), "names 1 operand but 2 were given");
}

}  // namespace
