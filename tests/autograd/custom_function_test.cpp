// tg::custom_function: a user-written backward takes the place of the forward's ops in the graph.
#include <gtest/gtest.h>

#include <tensorgrad/tensorgrad.h>

namespace tg {
namespace {

// y = x^3 with backward 3 x^2 g, written with tensor ops so it differentiates again.
Tensor cube(const Tensor& x) {
  return custom_function(
      "Cube", {x},
      [](const TensorList& in) { return CustomForwardResult{in[0] * in[0] * in[0], {in[0]}}; },
      [](const Tensor& g, const TensorList& saved) { return TensorList{g * 3.0 * square(saved[0])}; });
}

TEST(CustomFunction, ItsBackwardGivesTheGradientAndGradOfGrad) {
  Tensor x = from_vector<double>({0.5, -2.0, 3.0}, {3});
  x.requires_grad_();
  Tensor y = cube(x);
  EXPECT_EQ(y.grad_fn()->name(), "Cube");
  const TensorList g = grad({sum(y)}, {x}, {}, GradOptions{.create_graph = true});
  EXPECT_EQ(g[0].to_vector<double>(), (std::vector<double>{0.75, 12.0, 27.0}));
  const TensorList gg = grad({sum(g[0])}, {x});
  EXPECT_EQ(gg[0].to_vector<double>(), (std::vector<double>{3.0, -12.0, 18.0}));  // 6x
}

TEST(CustomFunction, GradcheckPassesForAFunctionOfTwoInputs) {
  auto fn = [](const TensorList& in) {
    return custom_function(
        "MulAdd", in,
        [](const TensorList& xs) { return CustomForwardResult{xs[0] * xs[1] + xs[1], {xs[0], xs[1]}}; },
        [](const Tensor& g, const TensorList& s) { return TensorList{g * s[1], g * (s[0] + 1.0)}; });
  };
  Generator gen(3);
  Tensor a = randn({2, 3}, DType::Float64, gen).requires_grad_();
  Tensor b = randn({2, 3}, DType::Float64, gen).requires_grad_();
  EXPECT_TRUE(gradcheck(fn, {a, b}).ok);
}

TEST(CustomFunction, AnInPlaceWriteToASavedTensorIsCaught) {
  Tensor x = from_vector<double>({1.0, 2.0}, {2});
  x.requires_grad_();
  Tensor h = x * 1.0;
  Tensor y = cube(h);
  h.mul_(2.0);
  EXPECT_THROW(sum(y).backward(), Error);
}

TEST(CustomFunction, SavingTheOutputKeepsNoCycleAndRestoresIt) {
  std::weak_ptr<TensorImpl> weak;
  {
    Tensor x = from_vector<double>({0.0, 1.0}, {2});
    x.requires_grad_();
    Tensor y = custom_function(
        "Exp", {x}, [](const TensorList& in) {
          Tensor e = exp(in[0]);
          return CustomForwardResult{e, {e}};
        },
        [](const Tensor& g, const TensorList& saved) { return TensorList{g * saved[0]}; });
    weak = y.impl_ptr();
    sum(y).backward();
    EXPECT_NEAR(x.grad().to_vector<double>()[1], std::exp(1.0), 1e-12);
  }
  EXPECT_TRUE(weak.expired());
}

TEST(CustomFunction, NoNodeWithoutGradAndClearErrors) {
  Tensor x = from_vector<double>({1.0}, {1});
  EXPECT_EQ(cube(x).grad_fn(), nullptr);
  x.requires_grad_();
  try {
    custom_function("Empty", {x}, [](const TensorList&) { return CustomForwardResult{}; },
                    [](const Tensor&, const TensorList&) { return TensorList{}; });
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'Empty': forward returned no output"), std::string::npos) << e.what();
  }
  Tensor y = custom_function("TooFew", {x}, [](const TensorList& in) { return CustomForwardResult{in[0] * 2.0, {}}; },
                             [](const Tensor&, const TensorList&) { return TensorList{}; });
  try {
    y.backward(ones_like(y));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("TooFew returned 0 gradients for 1 inputs"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tg
