// Element access (item, at, to_vector) and printing.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <tensorgrad/tensorgrad.h>

namespace {

using tg::DType;
using tg::Tensor;

std::string str(const Tensor& t) {
  std::ostringstream os;
  os << t;
  return os.str();
}

// Runs `fn`, expecting a tg::Error whose message contains `needle`.
template <class F>
void expect_error_with(F&& fn, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "expected tg::Error mentioning \"" << needle << "\", nothing was thrown";
  } catch (const tg::Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message: " << e.what();
  }
}

TEST(CoreAccess, ItemOfOneElementTensors) {
  EXPECT_EQ(tg::full({1, 1}, 2.5).item(), 2.5);
  EXPECT_EQ(tg::full({1}, -4, DType::Int64).item<int64_t>(), -4);
  EXPECT_EQ(tg::from_vector(std::vector<bool>{true}).item<bool>(), true);
  EXPECT_EQ(tg::scalar_tensor(0.125, DType::Float64).item(), 0.125);
  // A one-element view into a larger storage reads its own element.
  Tensor x = tg::from_vector(std::vector<float>{1, 2, 3, 4}, {2, 2});
  EXPECT_EQ(tg::narrow(tg::narrow(x, 0, 1, 1), 1, 1, 1).item(), 4.0);
  expect_error_with([&] { (void)x.item(); }, "[2, 2]");
}

TEST(CoreAccess, AtWithNegativeIndicesAndErrors) {
  Tensor x = tg::from_vector(std::vector<int64_t>{0, 1, 2, 3, 4, 5}, {2, 3});
  EXPECT_EQ(x.at<int64_t>({1, 2}), 5);
  EXPECT_EQ(x.at<int64_t>({-1, -3}), 3);
  EXPECT_EQ(x.at<int64_t>({-2, 1}), 1);
  EXPECT_EQ(x.element_offset({1, 1}), 4);
  expect_error_with([&] { (void)x.at<int64_t>({2, 0}); }, "out of range");
  expect_error_with([&] { (void)x.at<int64_t>({0, -4}); }, "out of range");
  expect_error_with([&] { (void)x.at<int64_t>({0}); }, "expected 2 indices");
  expect_error_with([&] { (void)x.at<float>({0, 0}); }, "int64");
}

TEST(CoreAccess, ToVectorReadsLogicalOrder) {
  Tensor x = tg::from_vector(std::vector<double>{0, 1, 2, 3, 4, 5}, {2, 3});
  EXPECT_EQ(tg::transpose(x, 0, 1).to_vector<double>(), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(tg::expand(tg::select(x, 0, 1), {2, 3}).to_vector<double>(),
            (std::vector<double>{3, 4, 5, 3, 4, 5}));
  EXPECT_TRUE(tg::zeros({0, 3}).to_vector<float>().empty());
  EXPECT_EQ(tg::scalar_tensor(2.0).to_vector<float>(), (std::vector<float>{2.0f}));
  EXPECT_THROW((void)x.to_vector<float>(), tg::Error);
}

TEST(CoreAccess, DataChecksTheDtype) {
  Tensor x = tg::zeros({3}, DType::Float64);
  EXPECT_NE(x.data<double>(), nullptr);
  EXPECT_THROW((void)x.data<float>(), tg::Error);
  EXPECT_THROW((void)x.data<int64_t>(), tg::Error);
}

TEST(CoreAccess, UndefinedTensorThrowsInsteadOfCrashing) {
  Tensor u;
  EXPECT_FALSE(u.defined());
  expect_error_with([&] { (void)u.shape(); }, "undefined");
}

TEST(CorePrint, SmallMatrixExactly) {
  Tensor x = tg::from_vector(std::vector<float>{1, 2, 3, 4}, {2, 2});
  EXPECT_EQ(str(x), "tensor([[1, 2],\n        [3, 4]], shape=[2, 2], dtype=float32)");
}

TEST(CorePrint, DtypesAndZeroDim) {
  EXPECT_EQ(str(tg::from_vector(std::vector<bool>{true, false})), "tensor([true, false], shape=[2], dtype=bool)");
  EXPECT_EQ(str(tg::from_vector(std::vector<int64_t>{-1, 20})), "tensor([-1, 20], shape=[2], dtype=int64)");
  EXPECT_EQ(str(tg::scalar_tensor(3.5)), "tensor(3.5, shape=[], dtype=float32)");
  EXPECT_EQ(str(tg::from_vector(std::vector<double>{0.1})), "tensor([0.1], shape=[1], dtype=float64)");
  EXPECT_EQ(str(Tensor()), "tensor(undefined)");
}

TEST(CorePrint, PrintsAViewInLogicalOrder) {
  Tensor x = tg::from_vector(std::vector<int64_t>{1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(str(tg::transpose(x, 0, 1)), "tensor([[1, 4],\n        [2, 5],\n        [3, 6]], shape=[3, 2], dtype=int64)");
}

TEST(CorePrint, LargeTensorsAreElided) {
  const std::string s = str(tg::arange(2000));
  EXPECT_NE(s.find("[0, 1, 2, ..., 1997, 1998, 1999]"), std::string::npos) << s;
  EXPECT_NE(s.find("shape=[2000]"), std::string::npos) << s;
  EXPECT_LT(s.size(), 100u) << s;
  EXPECT_EQ(s.find("1000"), std::string::npos) << s;

  const std::string m = str(tg::zeros({100, 100}));
  EXPECT_NE(m.find("..."), std::string::npos);
  EXPECT_LT(m.size(), 400u) << m;
  // Small tensors are never elided.
  EXPECT_EQ(str(tg::arange(10)).find("..."), std::string::npos);
}

TEST(CorePrint, ShowsAutogradState) {
  Tensor w = tg::zeros({2});
  w.requires_grad_();
  EXPECT_NE(str(w).find("requires_grad=true"), std::string::npos) << str(w);
  EXPECT_EQ(str(tg::zeros({2})).find("requires_grad"), std::string::npos);
}

TEST(CorePrint, DoesNotLeakStreamState) {
  std::ostringstream os;
  os.precision(2);
  os << tg::from_vector(std::vector<double>{1.0 / 3.0});
  os << ' ' << 1.0 / 3.0;
  EXPECT_NE(os.str().find(" 0.33"), std::string::npos) << os.str();
  EXPECT_EQ(os.str().find(" 0.333"), std::string::npos) << os.str();
}

}  // namespace
