// Behaviour of the reverse-mode engine: accumulation, retain/create graph, grad(), hooks, depth, in-place safety.
#include <gtest/gtest.h>

#include <tensorgrad/tensorgrad.h>

namespace tg {
namespace {

Tensor vec(std::vector<double> v) { return from_vector(v); }

void expect_values(const Tensor& t, const std::vector<double>& expected, double tol = 1e-12) {
  ASSERT_TRUE(t.defined());
  const auto got = t.to(DType::Float64).contiguous().to_vector<double>();
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], tol) << "element " << i;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no tg::Error thrown>";
}

TEST(Engine, ScalarBackwardOfPolynomial) {
  Tensor x = vec({1.0, 2.0, -3.0}).requires_grad_();
  Tensor y = sum(x * x * x + x * 2.0);  // dy/dx = 3x^2 + 2
  y.backward();
  expect_values(x.grad(), {5.0, 14.0, 29.0});
}

TEST(Engine, ExplicitGradientForNonScalarOutput) {
  Tensor x = vec({1.0, 2.0}).requires_grad_();
  Tensor y = x * 3.0;
  y.backward(vec({10.0, 100.0}));
  expect_values(x.grad(), {30.0, 300.0});
}

TEST(Engine, NonScalarOutputWithoutGradientIsAnError) {
  Tensor x = vec({1.0, 2.0}).requires_grad_();
  Tensor y = x * 3.0;
  EXPECT_NE(error_of([&] { y.backward(); }).find("only for one-element outputs"), std::string::npos);
  EXPECT_NE(error_of([&] { y.backward(vec({1.0})); }).find("has shape [1] but its output has shape [2]"),
            std::string::npos);
}

TEST(Engine, GradientsAccumulateUntilZeroed) {
  Tensor x = vec({2.0}).requires_grad_();
  sum(x * x).backward();
  sum(x * x).backward();
  expect_values(x.grad(), {8.0});
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
  sum(x * 5.0).backward();
  expect_values(x.grad(), {5.0});
}

TEST(Engine, SharedSubexpressionSumsBothPaths) {
  Tensor x = vec({3.0}).requires_grad_();
  Tensor a = x * 2.0;
  Tensor y = sum(a * a + a);  // 4x^2 + 2x -> 8x + 2
  y.backward();
  expect_values(x.grad(), {26.0});
}

TEST(Engine, DetachAndNoGradCutTheGraph) {
  Tensor x = vec({1.0, 2.0}).requires_grad_();
  Tensor d = x.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_EQ(d.data_ptr(), x.data_ptr());
  {
    NoGradGuard no_grad;
    Tensor y = x * 2.0;
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(y.grad_fn(), nullptr);
  }
  Tensor z = sum(x * d);  // d is a constant: dz/dx = d
  z.backward();
  expect_values(x.grad(), {1.0, 2.0});
}

TEST(Engine, SecondBackwardNeedsRetainGraph) {
  Tensor x = vec({1.0, 2.0}).requires_grad_();
  Tensor y = sum(exp(x));
  y.backward();
  EXPECT_NE(error_of([&] { y.backward(); }).find("retain_graph"), std::string::npos);

  Tensor x2 = vec({0.0}).requires_grad_();
  Tensor y2 = sum(exp(x2));
  y2.backward({}, /*retain_graph=*/true);
  y2.backward();
  expect_values(x2.grad(), {2.0});
}

TEST(Engine, SavedValuesAreFreedAfterBackward) {
  Tensor x = vec({1.0, 2.0}).requires_grad_();
  Tensor y = x * x;
  ASSERT_GT(y.grad_fn()->num_saved(), 0u);
  sum(y).backward();
  EXPECT_EQ(y.grad_fn()->num_saved(), 0u);

  Tensor y2 = x * x;
  sum(y2).backward({}, /*retain_graph=*/true);
  EXPECT_EQ(y2.grad_fn()->num_saved(), 2u);
}

TEST(Engine, CreateGraphGivesSecondAndThirdDerivatives) {
  Tensor x = vec({2.0, -1.0}).requires_grad_();
  Tensor y = sum(x * x * x);
  TensorList g1 = grad({y}, {x}, {}, {.create_graph = true});
  expect_values(g1[0], {12.0, 3.0});  // 3x^2
  TensorList g2 = grad({sum(g1[0])}, {x}, {}, {.create_graph = true});
  expect_values(g2[0], {12.0, -6.0});  // 6x
  TensorList g3 = grad({sum(g2[0])}, {x});
  expect_values(g3[0], {6.0, 6.0});
}

TEST(Engine, GradDoesNotTouchDotGrad) {
  Tensor x = vec({1.0, 2.0}).requires_grad_();
  Tensor w = vec({3.0, 4.0}).requires_grad_();
  Tensor y = sum(x * w);
  TensorList g = grad({y}, {w});
  expect_values(g[0], {1.0, 2.0});
  EXPECT_FALSE(x.grad().defined());
  EXPECT_FALSE(w.grad().defined());
}

TEST(Engine, GradOfUnusedInput) {
  Tensor x = vec({1.0}).requires_grad_();
  Tensor unused = vec({1.0}).requires_grad_();
  Tensor y = sum(x * 2.0);
  EXPECT_NE(error_of([&] { grad({y}, {unused}, {}, {.retain_graph = true}); }).find("not reachable"),
            std::string::npos);
  TensorList g = grad({y}, {x, unused}, {}, {.allow_unused = true});
  expect_values(g[0], {2.0});
  EXPECT_FALSE(g[1].defined());
}

TEST(Engine, GradWithRespectToIntermediate) {
  Tensor x = vec({1.0, 2.0}).requires_grad_();
  Tensor h = x * 3.0;
  Tensor y = sum(h * h);
  TensorList g = grad({y}, {h});
  expect_values(g[0], {6.0, 12.0});
}

TEST(Engine, GradientsAreUnbroadcastToInputShapes) {
  Tensor a = from_vector<double>({1, 2, 3}, {3, 1}).requires_grad_();
  Tensor b = from_vector<double>({10, 20, 30, 40}, {1, 4}).requires_grad_();
  sum(a * b).backward();
  ASSERT_EQ(a.grad().shape(), (Shape{3, 1}));
  ASSERT_EQ(b.grad().shape(), (Shape{1, 4}));
  expect_values(a.grad(), {100, 100, 100});
  expect_values(b.grad(), {6, 6, 6, 6});
}

TEST(Engine, GradientsAreCastToInputDtypes) {
  Tensor a = from_vector<float>({1, 2}).requires_grad_();
  Tensor b = from_vector<double>({3, 4}).requires_grad_();
  Tensor y = sum(a * b);
  EXPECT_EQ(y.dtype(), DType::Float64);
  y.backward();
  EXPECT_EQ(a.grad().dtype(), DType::Float32);
  EXPECT_EQ(b.grad().dtype(), DType::Float64);
  expect_values(a.grad(), {3, 4});
}

TEST(Engine, LeafHookReplacesGradient) {
  Tensor x = vec({1.0, 2.0}).requires_grad_();
  int calls = 0;
  x.register_hook([&](const Tensor& g) {
    ++calls;
    return g * 10.0;
  });
  sum(x * x).backward();
  EXPECT_EQ(calls, 1);
  expect_values(x.grad(), {20.0, 40.0});
}

// The first gradient of a leaf becomes its .grad without a copy when nothing else holds that memory (a
// backward pass made it), and is copied when something does (an optimizer writes into .grad in place).
TEST(Engine, FreshGradientIsAdoptedAndSharedGradientIsCopied) {
  Tensor x = vec({1.0, 2.0}).requires_grad_();
  const void* arriving = nullptr;
  x.register_hook([&](const Tensor& g) {
    arriving = g.data_ptr();
    return Tensor();
  });
  sum(x * 3.0).backward();
  EXPECT_EQ(x.grad().data_ptr(), arriving);

  Tensor y = vec({1.0, 2.0}).requires_grad_();
  Tensor kept;
  y.register_hook([&](const Tensor& g) {
    kept = g;
    return Tensor();
  });
  sum(y * 3.0).backward();
  EXPECT_NE(y.grad().data_ptr(), kept.data_ptr());
  kept.fill_(0.0);
  expect_values(y.grad(), {3.0, 3.0});
}

TEST(Engine, PostAccumulateHookSeesTheAccumulatedGradientOncePerPass) {
  Tensor x = vec({1.0, 2.0}).requires_grad_();
  Tensor y = vec({5.0}).requires_grad_();
  std::vector<std::vector<double>> seen;
  std::vector<std::string> order;
  x.register_post_accumulate_grad_hook([&](const Tensor& leaf) {
    seen.push_back(leaf.grad().to_vector<double>());
    order.push_back("x");
  });
  y.register_post_accumulate_grad_hook([&](const Tensor&) { order.push_back("y"); });
  // x is used twice: the hook still runs once, with the summed gradient.
  sum(x * x + x * 3.0).backward();
  sum(x * 2.0).backward();  // second pass: the hook sees .grad after accumulation
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], (std::vector<double>{5.0, 7.0}));
  EXPECT_EQ(seen[1], (std::vector<double>{7.0, 9.0}));
  order.clear();
  sum(x * y).backward();  // y was created after x, so its accumulator runs first (newest first)
  EXPECT_EQ(order, (std::vector<std::string>{"y", "x"}));
  EXPECT_NE(error_of([&] { (x * 2.0).register_post_accumulate_grad_hook([](const Tensor&) {}); }).find("leaf"),
            std::string::npos);
}

TEST(Engine, NonLeafHookSeesAndChangesTheFlowingGradient) {
  Tensor x = vec({1.0, 2.0}).requires_grad_();
  Tensor h = x * 2.0;
  Tensor seen;
  h.register_hook([&](const Tensor& g) {
    seen = g.detach();
    return g * 0.5;
  });
  sum(h * 3.0).backward();
  expect_values(seen, {3.0, 3.0});
  expect_values(x.grad(), {3.0, 3.0});  // 3 * 0.5 * 2
}

TEST(Engine, RetainGradKeepsNonLeafGradient) {
  Tensor x = vec({1.0, 2.0}).requires_grad_();
  Tensor h = x * x;
  h.retain_grad();
  sum(h * 4.0).backward();
  expect_values(h.grad(), {4.0, 4.0});
}

TEST(Engine, LongChainNeedsNoRecursion) {
  Tensor x = vec({1.0}).requires_grad_();
  {
    Tensor y = x;
    for (int i = 0; i < 100000; ++i) y = y * 1.0;
    sum(y).backward();
    // y and its 100 000-node history die here; destruction must not recurse either.
  }
  expect_values(x.grad(), {1.0});
}

TEST(Engine, InPlaceChangeOfSavedTensorIsDetected) {
  Tensor x = vec({1.0, 2.0}).requires_grad_();
  Tensor h = x * 2.0;
  Tensor y = sum(h * h);  // saves h
  h.add_(vec({1.0, 1.0}));
  const std::string message = error_of([&] { y.backward(); });
  EXPECT_NE(message.find("modified in place"), std::string::npos) << message;
  EXPECT_NE(message.find("mul"), std::string::npos) << message;
}

TEST(Engine, InPlaceOnLeafRequiringGradIsRefused) {
  Tensor x = vec({1.0}).requires_grad_();
  EXPECT_NE(error_of([&] { x.add_(vec({1.0})); }).find("leaf tensor that requires grad"), std::string::npos);
  {
    NoGradGuard no_grad;
    x.sub_(vec({0.5}));  // the optimizer's way
  }
  expect_values(x, {0.5});
}

TEST(Engine, InPlaceOnNonLeafIsDifferentiated) {
  Tensor x = vec({1.0, 2.0}).requires_grad_();
  Tensor w = vec({3.0, 5.0}).requires_grad_();
  Tensor h = x * 2.0;  // 2x
  h.mul_(w);           // 2xw
  h.add_(x, 3.0);      // 2xw + 3x
  sum(h).backward();
  expect_values(x.grad(), {2 * 3.0 + 3, 2 * 5.0 + 3});
  expect_values(w.grad(), {2.0, 4.0});
}

TEST(Engine, InPlaceBumpsVersion) {
  Tensor x = vec({1.0, 2.0});
  const auto before = x.version();
  x.mul_(2.0);
  x.zero_();
  EXPECT_EQ(x.version(), before + 2);
  Tensor view = x.narrow(0, 0, 1);
  view.fill_(7.0);
  EXPECT_EQ(x.version(), before + 3);  // shared storage, shared counter
  expect_values(x, {7.0, 0.0});
}

TEST(Engine, BackwardThroughViews) {
  Tensor x = from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3}).requires_grad_();
  Tensor y = sum(x.transpose(0, 1).slice(0, 1, 3) * vec({1.0, 10.0}));
  y.backward();
  expect_values(x.grad(), {0, 1, 1, 0, 10, 10});
}

}  // namespace
}  // namespace tg
