// The promotion lattice bool < int64 < float32 < float64, Scalar categories, and the shape rules
// (broadcasting, dimension wrapping) that every op relies on.
#include <gtest/gtest.h>

#include <string>
#include <tensorgrad/tensorgrad.h>

namespace {

using tg::DType;
using tg::Scalar;
using tg::Shape;
using tg::Strides;
using tg::Tensor;

constexpr DType kAll[] = {DType::Bool, DType::Int64, DType::Float32, DType::Float64};

template <class F>
void expect_error_with(F&& fn, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "expected tg::Error mentioning \"" << needle << "\", nothing was thrown";
  } catch (const tg::Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message: " << e.what();
  }
}

// Sets the default float dtype for one test and restores it afterwards.
class DefaultFloat {
 public:
  explicit DefaultFloat(DType d) : saved_(tg::default_float_dtype()) { tg::set_default_float_dtype(d); }
  ~DefaultFloat() { tg::set_default_float_dtype(saved_); }
  DefaultFloat(const DefaultFloat&) = delete;
  DefaultFloat& operator=(const DefaultFloat&) = delete;

 private:
  DType saved_;
};

TEST(CoreDType, NamesSizesAndCategories) {
  EXPECT_STREQ(tg::dtype_name(DType::Bool), "bool");
  EXPECT_STREQ(tg::dtype_name(DType::Int64), "int64");
  EXPECT_STREQ(tg::dtype_name(DType::Float32), "float32");
  EXPECT_STREQ(tg::dtype_name(DType::Float64), "float64");
  EXPECT_EQ(tg::itemsize(DType::Bool), 1u);
  EXPECT_EQ(tg::itemsize(DType::Int64), 8u);
  EXPECT_EQ(tg::itemsize(DType::Float32), 4u);
  EXPECT_EQ(tg::itemsize(DType::Float64), 8u);
  EXPECT_FALSE(tg::is_floating(DType::Bool));
  EXPECT_FALSE(tg::is_floating(DType::Int64));
  EXPECT_TRUE(tg::is_floating(DType::Float32));
  EXPECT_TRUE(tg::is_floating(DType::Float64));
  static_assert(tg::dtype_of<float>() == DType::Float32 && tg::dtype_of<int64_t>() == DType::Int64);
}

TEST(CoreDType, PromotionTable) {
  // Row: a, column: b. Written out in full rather than derived from the enum order.
  const DType expected[4][4] = {
      {DType::Bool, DType::Int64, DType::Float32, DType::Float64},
      {DType::Int64, DType::Int64, DType::Float32, DType::Float64},
      {DType::Float32, DType::Float32, DType::Float32, DType::Float64},
      {DType::Float64, DType::Float64, DType::Float64, DType::Float64},
  };
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j)
      EXPECT_EQ(tg::promote_types(kAll[i], kAll[j]), expected[i][j]) << kAll[i] << " with " << kAll[j];
}

TEST(CoreDType, DefaultFloatDtypeIsASettingForFloatsOnly) {
  EXPECT_EQ(tg::default_float_dtype(), DType::Float32);
  {
    DefaultFloat guard(DType::Float64);
    EXPECT_EQ(tg::default_float_dtype(), DType::Float64);
  }
  EXPECT_EQ(tg::default_float_dtype(), DType::Float32);
  expect_error_with([] { tg::set_default_float_dtype(DType::Int64); }, "tg::set_default_float_dtype");
  EXPECT_THROW(tg::set_default_float_dtype(DType::Bool), tg::Error);
  EXPECT_EQ(tg::default_float_dtype(), DType::Float32);
}

TEST(CoreScalar, KindFollowsTheCppType) {
  EXPECT_EQ(Scalar(true).kind(), Scalar::Kind::Bool);
  EXPECT_EQ(Scalar(3).kind(), Scalar::Kind::Integral);
  EXPECT_EQ(Scalar(int64_t{3}).kind(), Scalar::Kind::Integral);
  EXPECT_EQ(Scalar(2.0).kind(), Scalar::Kind::Floating);
  EXPECT_EQ(Scalar(2.0f).kind(), Scalar::Kind::Floating);
  EXPECT_EQ(Scalar(-7).value(), -7.0);
}

TEST(CoreScalar, DtypeWithATensor) {
  // A bool scalar never promotes.
  for (DType d : kAll) EXPECT_EQ(Scalar(true).dtype_with(d), d) << d;
  // An integral scalar lifts bool to int64 and leaves the rest.
  EXPECT_EQ(Scalar(2).dtype_with(DType::Bool), DType::Int64);
  EXPECT_EQ(Scalar(2).dtype_with(DType::Int64), DType::Int64);
  EXPECT_EQ(Scalar(2).dtype_with(DType::Float32), DType::Float32);
  EXPECT_EQ(Scalar(2).dtype_with(DType::Float64), DType::Float64);
  // A floating scalar keeps a float tensor's dtype (float32 * 2.0 stays float32) and turns integers
  // into the default float dtype.
  EXPECT_EQ(Scalar(2.5).dtype_with(DType::Float32), DType::Float32);
  EXPECT_EQ(Scalar(2.5).dtype_with(DType::Float64), DType::Float64);
  EXPECT_EQ(Scalar(2.5).dtype_with(DType::Int64), DType::Float32);
  EXPECT_EQ(Scalar(2.5).dtype_with(DType::Bool), DType::Float32);
  DefaultFloat guard(DType::Float64);
  EXPECT_EQ(Scalar(2.5).dtype_with(DType::Int64), DType::Float64);
  EXPECT_EQ(Scalar(2.5).dtype_with(DType::Float32), DType::Float32);
}

TEST(CoreDTypeOps, TensorTensorOpsPromote) {
  Tensor b = tg::from_vector(std::vector<bool>{true, false});
  Tensor i = tg::from_vector(std::vector<int64_t>{1, 2});
  Tensor f = tg::from_vector(std::vector<float>{1, 2});
  Tensor d = tg::from_vector(std::vector<double>{1, 2});
  EXPECT_EQ((i + b).dtype(), DType::Int64);
  EXPECT_EQ((i + f).dtype(), DType::Float32);
  EXPECT_EQ((f * d).dtype(), DType::Float64);
  EXPECT_EQ((b * d).dtype(), DType::Float64);
  EXPECT_EQ((i + f).to_vector<float>(), (std::vector<float>{2, 4}));
  EXPECT_EQ((i - b).to_vector<int64_t>(), (std::vector<int64_t>{0, 2}));
}

TEST(CoreDTypeOps, ScalarOperandsPromoteByCategory) {
  Tensor i = tg::from_vector(std::vector<int64_t>{1, 2});
  Tensor f = tg::from_vector(std::vector<float>{1, 2});
  EXPECT_EQ((f * 2.0).dtype(), DType::Float32);
  EXPECT_EQ((i * 2).dtype(), DType::Int64);
  EXPECT_EQ((i * 2).to_vector<int64_t>(), (std::vector<int64_t>{2, 4}));
  Tensor scaled = i * 2.5;
  EXPECT_EQ(scaled.dtype(), DType::Float32);
  EXPECT_EQ(scaled.to_vector<float>(), (std::vector<float>{2.5f, 5.0f}));
  DefaultFloat guard(DType::Float64);
  EXPECT_EQ((i * 2.5).dtype(), DType::Float64);
  EXPECT_EQ((f * 2.5).dtype(), DType::Float32);
}

TEST(CoreDTypeOps, DivisionAndFloatOnlyOpsGiveTheDefaultFloat) {
  Tensor i = tg::from_vector(std::vector<int64_t>{1, 4});
  Tensor q = i / tg::from_vector(std::vector<int64_t>{2, 2});
  EXPECT_EQ(q.dtype(), DType::Float32);
  EXPECT_EQ(q.to_vector<float>(), (std::vector<float>{0.5f, 2.0f}));
  EXPECT_EQ(tg::sqrt(i).dtype(), DType::Float32);
  EXPECT_EQ(tg::sqrt(i).to_vector<float>(), (std::vector<float>{1.0f, 2.0f}));
  DefaultFloat guard(DType::Float64);
  EXPECT_EQ((i / i).dtype(), DType::Float64);
  EXPECT_EQ(tg::exp(i).dtype(), DType::Float64);
}

TEST(CoreDTypeOps, ComparisonsGiveBoolAndIntegerSumsGiveInt64) {
  Tensor f = tg::from_vector(std::vector<float>{1, 2, 3});
  Tensor c = f > tg::from_vector(std::vector<double>{2, 2, 2});
  EXPECT_EQ(c.dtype(), DType::Bool);
  EXPECT_EQ(c.to_vector<bool>(), (std::vector<bool>{false, false, true}));
  Tensor s = tg::sum(tg::from_vector(std::vector<bool>{true, true, false, true}));
  EXPECT_EQ(s.dtype(), DType::Int64);
  EXPECT_EQ(s.item<int64_t>(), 3);
  Tensor si = tg::sum(tg::from_vector(std::vector<int64_t>{5, -2}));
  EXPECT_EQ(si.dtype(), DType::Int64);
  EXPECT_EQ(si.item<int64_t>(), 3);
}

TEST(CoreDTypeOps, GradientIsCastBackToTheInputDtype) {
  Tensor x = tg::from_vector(std::vector<float>{1, 2});
  x.requires_grad_();
  Tensor y = tg::sum(x * tg::from_vector(std::vector<double>{3, 4}));  // computed in float64
  EXPECT_EQ(y.dtype(), DType::Float64);
  y.backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_EQ(x.grad().dtype(), DType::Float32);
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{3, 4}));
}

TEST(CoreDTypeOps, IntegerTensorsCannotRequireGrad) {
  Tensor i = tg::arange(3);
  expect_error_with([&] { i.requires_grad_(); }, "int64");
}

TEST(CoreShape, NumelAndContiguousStrides) {
  EXPECT_EQ(tg::numel_of({}), 1);
  EXPECT_EQ(tg::numel_of({2, 3, 4}), 24);
  EXPECT_EQ(tg::numel_of({2, 0, 4}), 0);
  EXPECT_EQ(tg::contiguous_strides({2, 3, 4}), (Strides{12, 4, 1}));
  EXPECT_EQ(tg::contiguous_strides({5}), (Strides{1}));
  EXPECT_TRUE(tg::contiguous_strides({}).empty());
  EXPECT_EQ(tg::shape_str({2, 3}), "[2, 3]");
  EXPECT_EQ(tg::shape_str({}), "[]");
}

TEST(CoreShape, BroadcastShapes) {
  EXPECT_EQ(tg::broadcast_shapes({3, 1}, {1, 4}, "tg::add"), (Shape{3, 4}));
  EXPECT_EQ(tg::broadcast_shapes({5, 3, 1}, {4}, "tg::add"), (Shape{5, 3, 4}));
  EXPECT_EQ(tg::broadcast_shapes({}, {2, 3}, "tg::add"), (Shape{2, 3}));
  EXPECT_EQ(tg::broadcast_shapes({2, 1, 3}, {2, 1, 3}, "tg::add"), (Shape{2, 1, 3}));
  EXPECT_EQ(tg::broadcast_shapes({0, 1}, {1, 5}, "tg::add"), (Shape{0, 5}));
}

TEST(CoreShape, BroadcastShapesErrorsNameTheOpAndShapes) {
  try {
    tg::broadcast_shapes({3}, {4}, "tg::mul");
    FAIL() << "[3] and [4] must not broadcast";
  } catch (const tg::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("tg::mul"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[3]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[4]"), std::string::npos) << msg;
  }
  EXPECT_THROW(tg::broadcast_shapes({2, 3}, {3, 2}, "tg::add"), tg::Error);
  EXPECT_THROW(tg::broadcast_shapes({2, 0}, {2, 3}, "tg::add"), tg::Error);
  // The same rule through an op.
  expect_error_with([] { (void)(tg::zeros({2, 3}) + tg::zeros({4})); }, "[2, 3]");
}

TEST(CoreShape, BroadcastStridesAndBroadcastability) {
  EXPECT_TRUE(tg::is_broadcastable_to({3, 1}, {2, 3, 4}));
  EXPECT_TRUE(tg::is_broadcastable_to({}, {2}));
  EXPECT_FALSE(tg::is_broadcastable_to({3, 2}, {3, 4}));
  EXPECT_FALSE(tg::is_broadcastable_to({2, 3}, {3}));
  EXPECT_EQ(tg::broadcast_strides({3, 1}, {1, 1}, {2, 3, 4}), (Strides{0, 1, 0}));
  EXPECT_EQ(tg::broadcast_strides({3, 4}, {4, 1}, {3, 4}), (Strides{4, 1}));
}

TEST(CoreShape, WrapDim) {
  EXPECT_EQ(tg::wrap_dim(0, 3, "tg::sum"), 0);
  EXPECT_EQ(tg::wrap_dim(2, 3, "tg::sum"), 2);
  EXPECT_EQ(tg::wrap_dim(-1, 3, "tg::sum"), 2);
  EXPECT_EQ(tg::wrap_dim(-3, 3, "tg::sum"), 0);
  // A 0-d tensor accepts 0 and -1, as in PyTorch.
  EXPECT_EQ(tg::wrap_dim(0, 0, "tg::sum"), 0);
  EXPECT_EQ(tg::wrap_dim(-1, 0, "tg::sum"), 0);
}

TEST(CoreShape, WrapDimErrors) {
  expect_error_with([] { tg::wrap_dim(3, 3, "tg::softmax"); }, "tg::softmax");
  expect_error_with([] { tg::wrap_dim(-4, 3, "tg::softmax"); }, "-4");
  EXPECT_THROW(tg::wrap_dim(1, 0, "tg::sum"), tg::Error);
  EXPECT_THROW(tg::wrap_dim(-2, 0, "tg::sum"), tg::Error);
  // The same rule through a view op.
  expect_error_with([] { (void)tg::transpose(tg::zeros({2, 3}), 0, 2); }, "tg::transpose");
}

}  // namespace
