// Views share storage with their base: a write through either is seen by the other. Copies happen only
// when no strides can describe the result (contiguous() of a strided tensor, reshape across a gap).
#include <gtest/gtest.h>

#include <numeric>
#include <tensorgrad/tensorgrad.h>

namespace {

using tg::DType;
using tg::Shape;
using tg::Strides;
using tg::Tensor;

// A contiguous float32 tensor holding 0, 1, 2, ... so every element is identifiable by its value.
Tensor iota(const Shape& shape) {
  std::vector<float> values(static_cast<size_t>(tg::numel_of(shape)));
  std::iota(values.begin(), values.end(), 0.0f);
  return tg::from_vector(values, shape);
}

bool shares_storage(const Tensor& a, const Tensor& b) { return a.storage().get() == b.storage().get(); }

TEST(CoreViews, ReshapeOfContiguousIsAViewAndWritesReachTheBase) {
  Tensor x = iota({2, 3, 4});
  Tensor v = tg::reshape(x, {6, 4});
  EXPECT_EQ(v.shape(), (Shape{6, 4}));
  EXPECT_EQ(v.strides(), (Strides{4, 1}));
  EXPECT_TRUE(shares_storage(v, x));
  v.at<float>({5, 3}) = -1.0f;
  EXPECT_EQ(x.at<float>({1, 2, 3}), -1.0f);
  x.at<float>({0, 1, 0}) = -2.0f;
  EXPECT_EQ(v.at<float>({1, 0}), -2.0f);
}

TEST(CoreViews, ReshapeInfersMinusOne) {
  Tensor x = iota({2, 3, 4});
  EXPECT_EQ(tg::reshape(x, {-1, 2}).shape(), (Shape{12, 2}));
  EXPECT_EQ(tg::reshape(x, {3, -1}).shape(), (Shape{3, 8}));
  EXPECT_THROW(tg::reshape(x, {5, -1}), tg::Error);
  EXPECT_THROW(tg::reshape(x, {7, 3}), tg::Error);
}

TEST(CoreViews, PermuteSharesStorageWithPermutedStrides) {
  Tensor x = iota({2, 3, 4});
  Tensor p = tg::permute(x, {2, 0, 1});
  EXPECT_EQ(p.shape(), (Shape{4, 2, 3}));
  EXPECT_EQ(p.strides(), (Strides{1, 12, 4}));
  EXPECT_EQ(p.offset(), 0);
  EXPECT_FALSE(p.is_contiguous());
  EXPECT_TRUE(shares_storage(p, x));
  EXPECT_EQ(p.at<float>({3, 1, 2}), 1 * 12 + 2 * 4 + 3);
  p.at<float>({1, 0, 2}) = 100.0f;
  EXPECT_EQ(x.at<float>({0, 2, 1}), 100.0f);
}

TEST(CoreViews, PermuteRejectsBadDims) {
  Tensor x = iota({2, 3, 4});
  EXPECT_THROW(tg::permute(x, {0, 1}), tg::Error);
  EXPECT_THROW(tg::permute(x, {0, 1, 1}), tg::Error);
  EXPECT_THROW(tg::permute(x, {0, 1, 3}), tg::Error);
}

TEST(CoreViews, TransposeSwapsStrides) {
  Tensor x = iota({3, 4});
  Tensor t = tg::transpose(x, 0, 1);
  EXPECT_EQ(t.shape(), (Shape{4, 3}));
  EXPECT_EQ(t.strides(), (Strides{1, 4}));
  EXPECT_FALSE(t.is_contiguous());
  EXPECT_TRUE(shares_storage(t, x));
  t.at<float>({3, 2}) = 55.0f;
  EXPECT_EQ(x.at<float>({2, 3}), 55.0f);
  // Negative dims wrap; the method form and t() agree with the free function.
  EXPECT_EQ(tg::transpose(x, -1, -2).strides(), (Strides{1, 4}));
  EXPECT_EQ(x.t().shape(), (Shape{4, 3}));
  EXPECT_EQ(x.transpose(0, 1).strides(), (Strides{1, 4}));
}

TEST(CoreViews, ExpandUsesZeroStrides) {
  Tensor x = iota({3, 1});
  Tensor e = tg::expand(x, {2, 3, 4});
  EXPECT_EQ(e.shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(e.strides(), (Strides{0, 1, 0}));
  EXPECT_TRUE(shares_storage(e, x));
  EXPECT_EQ(e.at<float>({1, 2, 3}), 2.0f);
  x.at<float>({1, 0}) = 9.0f;
  EXPECT_EQ(e.at<float>({0, 1, 0}), 9.0f);
  EXPECT_EQ(e.at<float>({1, 1, 3}), 9.0f);
  // -1 keeps a dimension; a non-1 dimension cannot be expanded to another size.
  EXPECT_EQ(tg::expand(x, {-1, 5}).shape(), (Shape{3, 5}));
  EXPECT_THROW(tg::expand(x, {4, 4}), tg::Error);
}

TEST(CoreViews, SliceHasOffsetAndStepStride) {
  Tensor x = iota({3, 6});
  Tensor s = tg::slice(x, 1, 1, 5, 2);  // columns 1 and 3
  EXPECT_EQ(s.shape(), (Shape{3, 2}));
  EXPECT_EQ(s.strides(), (Strides{6, 2}));
  EXPECT_EQ(s.offset(), 1);
  EXPECT_TRUE(shares_storage(s, x));
  EXPECT_EQ(s.to_vector<float>(), (std::vector<float>{1, 3, 7, 9, 13, 15}));
  s.at<float>({2, 1}) = -7.0f;
  EXPECT_EQ(x.at<float>({2, 3}), -7.0f);
}

TEST(CoreViews, SliceFollowsPythonBounds) {
  Tensor x = iota({10});
  EXPECT_EQ(tg::slice(x, 0, -3, 100).to_vector<float>(), (std::vector<float>{7, 8, 9}));
  EXPECT_EQ(tg::slice(x, 0, -100, 2).to_vector<float>(), (std::vector<float>{0, 1}));
  EXPECT_EQ(tg::slice(x, 0, 6, 2).numel(), 0);
  EXPECT_EQ(tg::slice(x, 0, 0, 10, 3).to_vector<float>(), (std::vector<float>{0, 3, 6, 9}));
  EXPECT_THROW(tg::slice(x, 0, 0, 10, 0), tg::Error);
}

TEST(CoreViews, NarrowAndSelect) {
  Tensor x = iota({4, 6});
  Tensor n = tg::narrow(x, 1, 2, 3);
  EXPECT_EQ(n.shape(), (Shape{4, 3}));
  EXPECT_EQ(n.strides(), (Strides{6, 1}));
  EXPECT_EQ(n.offset(), 2);
  EXPECT_TRUE(shares_storage(n, x));
  n.at<float>({3, 0}) = -1.0f;
  EXPECT_EQ(x.at<float>({3, 2}), -1.0f);
  EXPECT_THROW(tg::narrow(x, 1, 4, 3), tg::Error);  // 4 + 3 > 6
  // A negative start counts from the end, as in torch.narrow.
  EXPECT_EQ(tg::narrow(x, 1, -1, 1).to_vector<float>(), (std::vector<float>{5, 11, 17, 23}));
  EXPECT_THROW(tg::narrow(x, 1, -7, 1), tg::Error);
  EXPECT_THROW(tg::narrow(x, 1, 0, -1), tg::Error);

  Tensor row = tg::select(x, 0, 2);
  EXPECT_EQ(row.shape(), (Shape{6}));
  EXPECT_EQ(row.offset(), 12);
  Tensor col = tg::select(x, 1, -1);
  EXPECT_EQ(col.shape(), (Shape{4}));
  EXPECT_EQ(col.strides(), (Strides{6}));
  EXPECT_EQ(col.offset(), 5);
  col.at<float>({0}) = 42.0f;
  EXPECT_EQ(x.at<float>({0, 5}), 42.0f);
  EXPECT_THROW(tg::select(x, 0, 4), tg::Error);
}

TEST(CoreViews, SqueezeUnsqueezeFlattenShareStorage) {
  Tensor x = iota({1, 3, 1, 2});
  Tensor all = tg::squeeze(x);
  EXPECT_EQ(all.shape(), (Shape{3, 2}));
  EXPECT_TRUE(shares_storage(all, x));
  EXPECT_EQ(tg::squeeze(x, 2).shape(), (Shape{1, 3, 2}));
  EXPECT_EQ(tg::squeeze(x, 1).shape(), (Shape{1, 3, 1, 2}));  // not size 1: a no-op
  EXPECT_EQ(tg::squeeze(x, -4).shape(), (Shape{3, 1, 2}));

  Tensor u = tg::unsqueeze(all, 1);
  EXPECT_EQ(u.shape(), (Shape{3, 1, 2}));
  EXPECT_EQ(tg::unsqueeze(all, -1).shape(), (Shape{3, 2, 1}));
  EXPECT_EQ(tg::unsqueeze(all, 2).shape(), (Shape{3, 2, 1}));
  EXPECT_THROW(tg::unsqueeze(all, 3), tg::Error);
  EXPECT_TRUE(shares_storage(u, x));
  u.at<float>({2, 0, 1}) = -5.0f;
  EXPECT_EQ(x.at<float>({0, 2, 0, 1}), -5.0f);

  Tensor y = iota({2, 3, 4});
  Tensor f = tg::flatten(y);
  EXPECT_EQ(f.shape(), (Shape{24}));
  EXPECT_TRUE(shares_storage(f, y));
  EXPECT_EQ(tg::flatten(y, 1).shape(), (Shape{2, 12}));
  EXPECT_EQ(tg::flatten(y, 0, 1).shape(), (Shape{6, 4}));
  f.at<float>({23}) = 0.5f;
  EXPECT_EQ(y.at<float>({1, 2, 3}), 0.5f);
}

TEST(CoreViews, ViewOfAViewComposesOffsets) {
  Tensor x = iota({4, 5});
  Tensor inner = tg::narrow(tg::narrow(x, 0, 1, 3), 1, 2, 2);  // rows 1..3, columns 2..3
  EXPECT_EQ(inner.offset(), 1 * 5 + 2);
  EXPECT_EQ(inner.to_vector<float>(), (std::vector<float>{7, 8, 12, 13, 17, 18}));
  Tensor t = tg::transpose(inner, 0, 1);
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{7, 12, 17, 8, 13, 18}));
  t.at<float>({1, 2}) = -1.0f;
  EXPECT_EQ(x.at<float>({3, 3}), -1.0f);
}

TEST(CoreViews, InPlaceFillThroughAStridedViewReachesTheBase) {
  Tensor x = tg::zeros({3, 4});
  tg::slice(x, 1, 0, 4, 2).fill_(1.0f);
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0}));
}

TEST(CoreViews, ContiguousCopiesOnlyWhenNeeded) {
  Tensor x = iota({3, 4});
  Tensor same = tg::contiguous(x);
  EXPECT_TRUE(shares_storage(same, x));
  EXPECT_EQ(same.data_ptr(), x.data_ptr());

  Tensor t = tg::transpose(x, 0, 1);
  Tensor c = tg::contiguous(t);
  EXPECT_FALSE(shares_storage(c, x));
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(c.shape(), (Shape{4, 3}));
  EXPECT_EQ(c.strides(), (Strides{3, 1}));
  EXPECT_EQ(c.to_vector<float>(), t.to_vector<float>());
  c.at<float>({0, 0}) = 99.0f;
  EXPECT_EQ(x.at<float>({0, 0}), 0.0f);  // a copy: the base is untouched
}

TEST(CoreViews, ReshapeOfNonContiguousCopiesWhenItMust) {
  Tensor x = iota({3, 4});
  Tensor t = tg::transpose(x, 0, 1);  // [4, 3], strides [1, 4]
  Tensor r = tg::reshape(t, {12});
  EXPECT_FALSE(shares_storage(r, x));
  EXPECT_EQ(r.to_vector<float>(), (std::vector<float>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
  r.at<float>({0}) = 50.0f;
  EXPECT_EQ(x.at<float>({0, 0}), 0.0f);
  // view() refuses instead of copying.
  EXPECT_THROW(tg::view(t, {12}), tg::Error);
}

TEST(CoreViews, ReshapeOfNonContiguousViewsWhenStridesAllow) {
  Tensor x = iota({4, 6});
  Tensor t = tg::transpose(x, 0, 1);  // [6, 4], strides [1, 6]
  // Splitting the stride-1 dimension needs no copy: [3, 2, 4] with strides [2, 1, 6].
  Tensor r = tg::reshape(t, {3, 2, 4});
  EXPECT_TRUE(shares_storage(r, x));
  EXPECT_EQ(r.strides(), (Strides{2, 1, 6}));
  EXPECT_EQ(r.to_vector<float>(), t.to_vector<float>());
  EXPECT_NO_THROW(tg::view(t, {3, 2, 4}));
}

TEST(CoreViews, IsContiguous) {
  EXPECT_TRUE(iota({2, 3}).is_contiguous());
  EXPECT_TRUE(iota({}).is_contiguous());
  EXPECT_TRUE(tg::narrow(iota({4, 3}), 0, 1, 2).is_contiguous());  // whole rows
  EXPECT_FALSE(tg::narrow(iota({4, 3}), 1, 1, 2).is_contiguous());  // part of each row
  EXPECT_FALSE(tg::expand(iota({3, 1}), {3, 2}).is_contiguous());
  // Size-1 dimensions do not constrain strides; empty tensors are contiguous.
  EXPECT_TRUE(iota({6}).as_strided({3, 1, 2}, {2, 77, 1}, 0).is_contiguous());
  EXPECT_TRUE(iota({6}).as_strided({0, 3}, {1, 5}, 0).is_contiguous());
  EXPECT_FALSE(iota({6}).as_strided({3, 2}, {1, 3}, 0).is_contiguous());
}

TEST(CoreViews, SizeAndStrideAcceptNegativeDims) {
  Tensor x = iota({2, 3, 4});
  EXPECT_EQ(x.dim(), 3);
  EXPECT_EQ(x.size(-1), 4);
  EXPECT_EQ(x.size(0), 2);
  EXPECT_EQ(x.stride(-3), 12);
  EXPECT_EQ(x.stride(1), 4);
  EXPECT_THROW(x.size(3), tg::Error);
  EXPECT_THROW(x.stride(-4), tg::Error);
}

}  // namespace
