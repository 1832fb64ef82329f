// Factories, checked against values computed here independently (not through other tensor ops).
#include <gtest/gtest.h>

#include <tensorgrad/tensorgrad.h>

namespace {

using tg::DType;
using tg::Shape;
using tg::Strides;
using tg::Tensor;

TEST(CoreCreation, ZerosOnesFullHaveShapeDtypeAndValues) {
  Tensor z = tg::zeros({2, 3});
  EXPECT_EQ(z.shape(), (Shape{2, 3}));
  EXPECT_EQ(z.dtype(), DType::Float32);
  EXPECT_TRUE(z.is_contiguous());
  EXPECT_EQ(z.to_vector<float>(), std::vector<float>(6, 0.0f));

  Tensor o = tg::ones({4}, DType::Float64);
  EXPECT_EQ(o.dtype(), DType::Float64);
  EXPECT_EQ(o.to_vector<double>(), std::vector<double>(4, 1.0));

  Tensor f = tg::full({3, 1, 2}, 2.5);
  EXPECT_EQ(f.shape(), (Shape{3, 1, 2}));
  EXPECT_EQ(f.to_vector<float>(), std::vector<float>(6, 2.5f));

  Tensor fi = tg::full({2}, 7, DType::Int64);
  EXPECT_EQ(fi.to_vector<int64_t>(), (std::vector<int64_t>{7, 7}));
  Tensor fb = tg::full({3}, 1, DType::Bool);
  EXPECT_EQ(fb.to_vector<bool>(), (std::vector<bool>{true, true, true}));
}

TEST(CoreCreation, LikeFactoriesCopyShapeAndDtype) {
  Tensor x = tg::zeros({2, 5}, DType::Float64);
  Tensor o = tg::ones_like(x);
  EXPECT_EQ(o.shape(), x.shape());
  EXPECT_EQ(o.dtype(), DType::Float64);
  EXPECT_EQ(o.to_vector<double>(), std::vector<double>(10, 1.0));
  Tensor f = tg::full_like(x, -3.0);
  EXPECT_EQ(f.to_vector<double>(), std::vector<double>(10, -3.0));
  Tensor z = tg::zeros_like(f);
  EXPECT_EQ(z.to_vector<double>(), std::vector<double>(10, 0.0));
  EXPECT_NE(z.storage().get(), f.storage().get());
}

TEST(CoreCreation, ScalarTensorIsZeroDimensional) {
  Tensor s = tg::scalar_tensor(3.5);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.dtype(), DType::Float32);
  EXPECT_EQ(s.item(), 3.5);
  EXPECT_EQ(tg::scalar_tensor(4, DType::Int64).item<int64_t>(), 4);
}

TEST(CoreCreation, ArangeInt) {
  Tensor a = tg::arange(5);
  EXPECT_EQ(a.dtype(), DType::Int64);
  EXPECT_EQ(a.shape(), (Shape{5}));
  EXPECT_EQ(a.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(tg::arange(0).numel(), 0);
}

TEST(CoreCreation, ArangeFloatingStepsAndDirections) {
  Tensor a = tg::arange(0.0, 1.0, 0.25);
  EXPECT_EQ(a.dtype(), DType::Float32);
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{0.0f, 0.25f, 0.5f, 0.75f}));  // end excluded

  Tensor down = tg::arange(5.0, 0.0, -1.5, DType::Float64);
  EXPECT_EQ(down.to_vector<double>(), (std::vector<double>{5.0, 3.5, 2.0, 0.5}));

  Tensor tenth = tg::arange(0.0, 1.0, 0.1, DType::Float64);
  ASSERT_EQ(tenth.numel(), 10);  // ceil((end - start) / step)
  const auto v = tenth.to_vector<double>();
  for (size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(v[i], 0.1 * static_cast<double>(i), 1e-12) << "at " << i;

  EXPECT_EQ(tg::arange(2.0, 2.0, 1.0).numel(), 0);
  EXPECT_THROW(tg::arange(0.0, 1.0, 0.0), tg::Error);
  EXPECT_THROW(tg::arange(0.0, 1.0, -1.0), tg::Error);  // wrong direction
}

TEST(CoreCreation, Linspace) {
  Tensor l = tg::linspace(0.0, 1.0, 5);
  EXPECT_EQ(l.dtype(), DType::Float32);
  EXPECT_EQ(l.to_vector<float>(), (std::vector<float>{0.0f, 0.25f, 0.5f, 0.75f, 1.0f}));

  Tensor l7 = tg::linspace(-2.0, 3.0, 7, DType::Float64);
  const auto v = l7.to_vector<double>();
  ASSERT_EQ(v.size(), 7u);
  for (size_t i = 0; i < v.size(); ++i)
    EXPECT_NEAR(v[i], -2.0 + 5.0 * static_cast<double>(i) / 6.0, 1e-12) << "at " << i;
  EXPECT_DOUBLE_EQ(v.front(), -2.0);
  EXPECT_DOUBLE_EQ(v.back(), 3.0);

  Tensor desc = tg::linspace(1.0, -1.0, 3);
  EXPECT_EQ(desc.to_vector<float>(), (std::vector<float>{1.0f, 0.0f, -1.0f}));
  EXPECT_EQ(tg::linspace(4.0, 9.0, 1).to_vector<float>(), (std::vector<float>{4.0f}));
  EXPECT_EQ(tg::linspace(4.0, 9.0, 0).numel(), 0);
  EXPECT_THROW(tg::linspace(0.0, 1.0, -1), tg::Error);
}

TEST(CoreCreation, Eye) {
  Tensor i3 = tg::eye(3);
  EXPECT_EQ(i3.shape(), (Shape{3, 3}));
  EXPECT_EQ(i3.to_vector<float>(), (std::vector<float>{1, 0, 0, 0, 1, 0, 0, 0, 1}));
  Tensor rect = tg::eye(2, 3, DType::Float64);
  EXPECT_EQ(rect.shape(), (Shape{2, 3}));
  EXPECT_EQ(rect.to_vector<double>(), (std::vector<double>{1, 0, 0, 0, 1, 0}));
  Tensor tall = tg::eye(3, 2, DType::Int64);
  EXPECT_EQ(tall.to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 0, 1, 0, 0}));
}

TEST(CoreCreation, FromVectorCopiesRowMajor) {
  std::vector<float> values{1, 2, 3, 4, 5, 6};
  Tensor t = tg::from_vector(values, {2, 3});
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.dtype(), DType::Float32);
  EXPECT_EQ(t.at<float>({1, 0}), 4.0f);
  values[0] = 100.0f;  // a copy: the tensor does not see later changes
  EXPECT_EQ(t.at<float>({0, 0}), 1.0f);

  Tensor flat = tg::from_vector(std::vector<int64_t>{3, 1, 4});
  EXPECT_EQ(flat.shape(), (Shape{3}));
  EXPECT_EQ(flat.dtype(), DType::Int64);
  EXPECT_EQ(flat.to_vector<int64_t>(), (std::vector<int64_t>{3, 1, 4}));

  Tensor b = tg::from_vector(std::vector<bool>{true, false, true});
  EXPECT_EQ(b.dtype(), DType::Bool);
  EXPECT_EQ(b.to_vector<bool>(), (std::vector<bool>{true, false, true}));

  Tensor d = tg::from_vector(std::vector<double>{0.1, 0.2}, {2, 1});
  EXPECT_EQ(d.dtype(), DType::Float64);
  EXPECT_EQ(d.at<double>({1, 0}), 0.2);

  EXPECT_THROW(tg::from_vector(std::vector<float>{1, 2, 3}, {2, 2}), tg::Error);
}

TEST(CoreCreation, FromBlobWrapsWithoutCopying) {
  float buffer[6] = {0, 1, 2, 3, 4, 5};
  const auto before = tg::cpu_allocator().stats();
  Tensor t = tg::from_blob(buffer, {2, 3}, DType::Float32);
  EXPECT_EQ(tg::cpu_allocator().stats().current_bytes, before.current_bytes);  // nothing allocated
  EXPECT_EQ(t.data_ptr(), static_cast<void*>(buffer));
  EXPECT_EQ(t.strides(), (Strides{3, 1}));
  buffer[4] = 42.0f;
  EXPECT_EQ(t.at<float>({1, 1}), 42.0f);
  t.at<float>({0, 2}) = -1.0f;
  EXPECT_EQ(buffer[2], -1.0f);
}

TEST(CoreCreation, FromBlobWithStrides) {
  double buffer[6] = {0, 1, 2, 3, 4, 5};
  Tensor t = tg::from_blob(buffer, {2, 3}, DType::Float64, {1, 2});  // column-major
  EXPECT_FALSE(t.is_contiguous());
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j) EXPECT_EQ(t.at<double>({i, j}), buffer[i + 2 * j]) << i << "," << j;
  EXPECT_EQ(t.to_vector<double>(), (std::vector<double>{0, 2, 4, 1, 3, 5}));
}

TEST(CoreCreation, NegativeShapeThrows) {
  EXPECT_THROW(tg::zeros({2, -1}), tg::Error);
  EXPECT_THROW(tg::empty({-3}), tg::Error);
}

}  // namespace
