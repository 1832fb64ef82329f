// Optimizers against hand-computed update sequences (reference.h), parameter handling and argument checks.
#include <gtest/gtest.h>

#include <tensorgrad/tensorgrad.h>

#include "optim/reference.h"
#include "support/expect_error.h"

namespace tgtest::optim {
namespace {

using tg::DType;
using tg::Tensor;
using namespace tg::optim;

template <class O, class Options>
MakeOptimizer maker(Options options) {
  return [options](std::vector<Tensor> params) { return std::make_unique<O>(std::move(params), options); };
}

// ---- SGD ----

TEST(OptimSGD, Plain) { check_all(maker<SGD>(SGDOptions{.lr = 0.1}), SgdRef{.lr = 0.1}); }

TEST(OptimSGD, Momentum) {
  check_all(maker<SGD>(SGDOptions{.lr = 0.1, .momentum = 0.9}), SgdRef{.lr = 0.1, .momentum = 0.9});
}

TEST(OptimSGD, MomentumWithDampening) {
  check_all(maker<SGD>(SGDOptions{.lr = 0.1, .momentum = 0.9, .dampening = 0.3}),
            SgdRef{.lr = 0.1, .momentum = 0.9, .dampening = 0.3});
}

TEST(OptimSGD, Nesterov) {
  check_all(maker<SGD>(SGDOptions{.lr = 0.05, .momentum = 0.8, .nesterov = true}),
            SgdRef{.lr = 0.05, .momentum = 0.8, .nesterov = true});
}

TEST(OptimSGD, WeightDecay) {
  check_all(maker<SGD>(SGDOptions{.lr = 0.1, .weight_decay = 0.05}), SgdRef{.lr = 0.1, .weight_decay = 0.05});
}

TEST(OptimSGD, NesterovMomentumAndWeightDecay) {
  check_all(maker<SGD>(SGDOptions{.lr = 0.1, .momentum = 0.9, .nesterov = true, .weight_decay = 0.01}),
            SgdRef{.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true});
}

TEST(OptimSGD, FirstMomentumStepIsTheGradientItself) {
  // buf = g on the first step (no (1 - dampening) factor), so p1 = p0 - lr * g0 even with dampening.
  Tensor p = tg::from_vector(Vec{1.0, 2.0}).requires_grad_();
  SGD opt({p}, 0.5, /*momentum=*/0.9, /*dampening=*/0.5);
  p.set_grad(tg::from_vector(Vec{1.0, -1.0}));
  opt.step();
  EXPECT_EQ(values(p), (Vec{0.5, 2.5}));
  const tg::StateDict sd = opt.state_dict();
  EXPECT_EQ(values(sd.at("state.0.momentum_buffer")), (Vec{1.0, -1.0}));
  // Second step: buf = 0.9 * 1 + 0.5 * 1 = 1.4 (and -1.4); p = 0.5 - 0.7, 2.5 + 0.7.
  opt.step();
  const Vec got = values(p);
  EXPECT_NEAR(got[0], -0.2, 1e-15);
  EXPECT_NEAR(got[1], 3.2, 1e-15);
}

TEST(OptimSGD, PositionalConstructorMatchesOptions) {
  SGD a({tg::zeros({1}).requires_grad_()}, 0.2, 0.9, 0.1, false, 0.01);
  const SGDOptions o = a.options();
  EXPECT_EQ(o.lr, 0.2);
  EXPECT_EQ(o.momentum, 0.9);
  EXPECT_EQ(o.dampening, 0.1);
  EXPECT_FALSE(o.nesterov);
  EXPECT_EQ(o.weight_decay, 0.01);
  EXPECT_EQ(a.name(), "SGD");
}

// ---- Adam ----

TEST(OptimAdam, Defaults) { check_all(maker<Adam>(AdamOptions{}), AdamRef{}); }

TEST(OptimAdam, LargeStepsAndBetas) {
  check_all(maker<Adam>(AdamOptions{.lr = 0.1, .beta1 = 0.8, .beta2 = 0.9, .eps = 1e-6}),
            AdamRef{.lr = 0.1, .beta1 = 0.8, .beta2 = 0.9, .eps = 1e-6});
}

TEST(OptimAdam, L2WeightDecay) {
  check_all(maker<Adam>(AdamOptions{.lr = 0.05, .weight_decay = 0.1}), AdamRef{.lr = 0.05, .weight_decay = 0.1});
}

TEST(OptimAdam, AmsGrad) {
  check_all(maker<Adam>(AdamOptions{.lr = 0.05, .beta2 = 0.9, .amsgrad = true}),
            AdamRef{.lr = 0.05, .beta2 = 0.9, .amsgrad = true});
}

TEST(OptimAdam, AmsGradWithWeightDecay) {
  check_all(maker<Adam>(AdamOptions{.lr = 0.05, .beta2 = 0.9, .weight_decay = 0.1, .amsgrad = true}),
            AdamRef{.lr = 0.05, .beta2 = 0.9, .weight_decay = 0.1, .amsgrad = true});
}

TEST(OptimAdam, AmsGradChangesTheResultOnShrinkingGradients) {
  // Guards the test data: with the given gradients, AMSGrad's maximum is in effect by step 3.
  AdamRef plain{.lr = 0.05, .beta2 = 0.9}, ams{.lr = 0.05, .beta2 = 0.9, .amsgrad = true};
  Vec a = kP0, b = kP0;
  for (const Vec& g : kGivenGrads) plain.step(a, g), ams.step(b, g);
  EXPECT_GT(std::abs(a[0] - b[0]), 1e-3);
}

TEST(OptimAdam, FirstStepMovesEachElementByAboutLr) {
  // Step 1: m_hat = g and v_hat = g^2, so the update is lr * g / (|g| + eps) = lr * sign(g).
  Tensor p = tg::from_vector(Vec{0.0, 0.0}).requires_grad_();
  Adam opt({p}, 0.01);
  p.set_grad(tg::from_vector(Vec{3.0, -0.5}));
  opt.step();
  const Vec got = values(p);
  EXPECT_NEAR(got[0], -0.01 * 3.0 / (3.0 + 1e-8), 1e-16);
  EXPECT_NEAR(got[1], 0.01 * 0.5 / (0.5 + 1e-8), 1e-16);
}

TEST(OptimAdam, PositionalConstructorMatchesOptions) {
  Adam a({tg::zeros({1}).requires_grad_()}, 0.2, {0.5, 0.6}, 1e-5, 0.1, true);
  const AdamOptions o = a.options();
  EXPECT_EQ(o.lr, 0.2);
  EXPECT_EQ(o.beta1, 0.5);
  EXPECT_EQ(o.beta2, 0.6);
  EXPECT_EQ(o.eps, 1e-5);
  EXPECT_EQ(o.weight_decay, 0.1);
  EXPECT_TRUE(o.amsgrad);
}

// ---- AdamW ----

TEST(OptimAdamW, DefaultDecoupledWeightDecay) {
  AdamW opt({tg::zeros({1}).requires_grad_()});
  EXPECT_EQ(opt.name(), "AdamW");
  EXPECT_EQ(opt.options().weight_decay, 1e-2);
  EXPECT_EQ(opt.hyperparameters().at("weight_decay"), 1e-2);
  check_all(maker<AdamW>(AdamWOptions{}), AdamRef{.weight_decay = 1e-2, .decoupled = true});
}

TEST(OptimAdamW, StrongDecayAndLargeLr) {
  check_all(maker<AdamW>(AdamWOptions{.lr = 0.1, .beta1 = 0.5, .beta2 = 0.9, .weight_decay = 0.5}),
            AdamRef{.lr = 0.1, .beta1 = 0.5, .beta2 = 0.9, .weight_decay = 0.5, .decoupled = true});
}

TEST(OptimAdamW, AmsGrad) {
  check_all(maker<AdamW>(AdamWOptions{.lr = 0.05, .beta2 = 0.9, .weight_decay = 0.1, .amsgrad = true}),
            AdamRef{.lr = 0.05, .beta2 = 0.9, .weight_decay = 0.1, .amsgrad = true, .decoupled = true});
}

TEST(OptimAdamW, DiffersFromAdamWithL2) {
  AdamRef l2{.lr = 0.1, .weight_decay = 0.5}, decoupled{.lr = 0.1, .weight_decay = 0.5, .decoupled = true};
  Vec a = kP0, b = kP0;
  for (const Vec& g : kGivenGrads) l2.step(a, g), decoupled.step(b, g);
  EXPECT_GT(std::abs(a[2] - b[2]), 1e-3);
}

// ---- RMSprop ----

TEST(OptimRMSprop, Defaults) { check_all(maker<RMSprop>(RMSpropOptions{}), RmspropRef{}); }

TEST(OptimRMSprop, AlphaAndWeightDecay) {
  check_all(maker<RMSprop>(RMSpropOptions{.lr = 0.02, .alpha = 0.9, .eps = 1e-6, .weight_decay = 0.1}),
            RmspropRef{.lr = 0.02, .alpha = 0.9, .eps = 1e-6, .weight_decay = 0.1});
}

TEST(OptimRMSprop, Momentum) {
  check_all(maker<RMSprop>(RMSpropOptions{.lr = 0.01, .alpha = 0.9, .momentum = 0.9}),
            RmspropRef{.lr = 0.01, .alpha = 0.9, .momentum = 0.9});
}

TEST(OptimRMSprop, Centered) {
  check_all(maker<RMSprop>(RMSpropOptions{.lr = 0.01, .alpha = 0.9, .centered = true}),
            RmspropRef{.lr = 0.01, .alpha = 0.9, .centered = true});
}

TEST(OptimRMSprop, CenteredMomentumAndWeightDecay) {
  check_all(
      maker<RMSprop>(RMSpropOptions{.lr = 0.01, .alpha = 0.8, .weight_decay = 0.05, .momentum = 0.5, .centered = true}),
      RmspropRef{.lr = 0.01, .alpha = 0.8, .weight_decay = 0.05, .momentum = 0.5, .centered = true});
}

// ---- shared behaviour ----

TEST(OptimBase, UpdatesTheSharedStorageInPlace) {
  Tensor weight = tg::from_vector(Vec{1.0, 2.0, 3.0}).requires_grad_();
  const void* data = weight.data_ptr();
  const auto version = weight.version();
  std::vector<Tensor> handles{weight};  // what Module::parameters() hands over
  SGD opt(handles, 0.1);
  weight.set_grad(tg::from_vector(Vec{1.0, 1.0, 1.0}));
  opt.step();
  EXPECT_EQ(weight.data_ptr(), data);
  EXPECT_TRUE(opt.parameters()[0].same(weight));
  EXPECT_GT(weight.version(), version);
  const Vec got = values(weight);
  EXPECT_NEAR(got[0], 0.9, 1e-15);
  EXPECT_NEAR(got[2], 2.9, 1e-15);
  EXPECT_TRUE(weight.requires_grad());
  EXPECT_TRUE(weight.is_leaf());
}

TEST(OptimBase, UpdatesAViewOfALargerStorage) {
  // A parameter may be a strided view (e.g. one row of a packed buffer): only its elements change.
  Tensor storage = tg::from_vector(Vec{1.0, 2.0, 3.0, 4.0, 5.0, 6.0}, {2, 3});
  Tensor column = storage.slice(1, 1, 2);  // [[2], [5]], strides [3, 1]
  ASSERT_FALSE(column.is_contiguous());
  column.requires_grad_();
  Adam opt({column}, 0.5);
  column.set_grad(tg::from_vector(Vec{1.0, -1.0}, {2, 1}));
  opt.step();
  const double move = 0.5 / (1.0 + 1e-8);  // lr * g / (|g| + eps), |g| = 1
  const Vec first = values(storage);
  const Vec expected{1.0, 2.0 - move, 3.0, 4.0, 5.0 + move, 6.0};
  for (size_t i = 0; i < 6; ++i) EXPECT_NEAR(first[i], expected[i], 1e-15) << i;
  column.set_grad(tg::from_vector(Vec{1.0, -1.0}, {2, 1}));
  opt.step();  // same gradient again: m_hat = g, v_hat = g^2 once more, so another lr * sign(g)
  const Vec got = values(storage);
  EXPECT_NEAR(got[1], 2.0 - 2.0 * move, 1e-13);
  EXPECT_NEAR(got[4], 5.0 + 2.0 * move, 1e-13);
  EXPECT_EQ(got[0], 1.0);
  EXPECT_EQ(got[5], 6.0);
}

// Contiguous CPU parameters take the one-pass kernels; a transposed parameter (and gradient) takes the
// composed elementwise ops. Both must follow the same trajectory, in float32 and float64.
TEST(OptimBase, FusedAndComposedUpdatesAgree) {
  const std::vector<std::pair<std::string, MakeOptimizer>> makers = {
      {"sgd", maker<SGD>(SGDOptions{.lr = 0.1})},
      {"sgd momentum+wd", maker<SGD>(SGDOptions{.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .weight_decay = 0.01})},
      {"sgd nesterov", maker<SGD>(SGDOptions{.lr = 0.05, .momentum = 0.8, .nesterov = true})},
      {"adam", maker<Adam>(AdamOptions{.lr = 0.01})},
      {"adam amsgrad+l2", maker<Adam>(AdamOptions{.lr = 0.01, .weight_decay = 0.1, .amsgrad = true})},
      {"adamw", maker<AdamW>(AdamWOptions{.lr = 0.01, .weight_decay = 0.1})},
  };
  for (DType dtype : {DType::Float32, DType::Float64}) {
    for (const auto& [name, make] : makers) {
      tg::Generator gen(7);
      const Tensor start = tg::randn({5, 3}, dtype, gen);
      Tensor flat = tg::clone(start).requires_grad_();
      Tensor strided = tg::transpose(tg::clone(tg::transpose(start, 0, 1)), 0, 1).detach().requires_grad_();
      ASSERT_FALSE(strided.is_contiguous());
      auto fused = make({flat});
      auto composed = make({strided});
      for (int step = 0; step < 4; ++step) {
        const Tensor g = tg::randn({5, 3}, dtype, gen);
        flat.set_grad(g);
        strided.set_grad(tg::transpose(tg::clone(tg::transpose(g, 0, 1)), 0, 1));
        fused->step();
        composed->step();
      }
      const double tol = dtype == DType::Float32 ? 1e-5 : 1e-13;
      const Vec a = values(flat), b = values(tg::contiguous(strided));
      for (size_t i = 0; i < a.size(); ++i)
        EXPECT_NEAR(a[i], b[i], tol * (1.0 + std::abs(b[i]))) << name << " " << tg::dtype_name(dtype) << " " << i;
      EXPECT_NE(a, values(start)) << name;
    }
  }
}

TEST(OptimBase, ParametersWithoutGradientAreSkipped) {
  Tensor a = tg::from_vector(Vec{1.0, 2.0}).requires_grad_();
  Tensor b = tg::from_vector(Vec{3.0, 4.0}).requires_grad_();
  Tensor frozen = tg::from_vector(Vec{5.0});  // requires_grad false: never gets a gradient
  Adam opt({a, b, frozen}, 0.1);
  a.set_grad(tg::from_vector(Vec{1.0, 1.0}));
  opt.step();
  EXPECT_EQ(values(b), (Vec{3.0, 4.0}));
  EXPECT_EQ(values(frozen), (Vec{5.0}));
  EXPECT_NE(values(a), (Vec{1.0, 2.0}));
  EXPECT_EQ(opt.step_count(0), 1);
  EXPECT_EQ(opt.step_count(1), 0);
  const tg::StateDict sd = opt.state_dict();
  EXPECT_TRUE(sd.count("state.0.exp_avg"));
  EXPECT_FALSE(sd.count("state.1.step"));
  EXPECT_FALSE(sd.count("state.1.exp_avg"));
  EXPECT_FALSE(sd.count("state.2.step"));
}

TEST(OptimBase, StepCountsArePerParameter) {
  // Adam's bias correction uses each parameter's own count, as torch keeps state["step"] per parameter.
  Tensor a = tg::from_vector(Vec{0.0}).requires_grad_();
  Tensor b = tg::from_vector(Vec{0.0}).requires_grad_();
  Adam opt({a, b}, 0.01);
  a.set_grad(tg::from_vector(Vec{1.0}));
  opt.step();
  opt.step();
  b.set_grad(tg::from_vector(Vec{1.0}));
  opt.step();
  EXPECT_EQ(opt.step_count(0), 3);
  EXPECT_EQ(opt.step_count(1), 1);
  EXPECT_NEAR(values(b)[0], -0.01 / (1.0 + 1e-8), 1e-16);  // a first step again: lr * g / (|g| + eps)
}

TEST(OptimBase, ZeroGradSetsToNoneByDefault) {
  Tensor p = tg::from_vector(Vec{1.0, 2.0}).requires_grad_();
  SGD opt({p}, 0.1);
  tg::sum(p * p).backward();
  ASSERT_TRUE(p.grad().defined());
  opt.zero_grad();
  EXPECT_FALSE(p.grad().defined());
  opt.step();  // no gradient: nothing happens
  EXPECT_EQ(values(p), (Vec{1.0, 2.0}));
}

TEST(OptimBase, ZeroGradCanFillWithZerosInPlace) {
  Tensor p = tg::from_vector(Vec{1.0, 2.0}).requires_grad_();
  SGD opt({p}, 0.1);
  tg::sum(p * p).backward();
  const Tensor g = p.grad();
  opt.zero_grad(/*set_to_none=*/false);
  ASSERT_TRUE(p.grad().defined());
  EXPECT_TRUE(p.grad().same(g));
  EXPECT_EQ(values(p.grad()), (Vec{0.0, 0.0}));
  tg::sum(p * 3.0).backward();  // accumulates into the zeroed gradient
  EXPECT_EQ(values(p.grad()), (Vec{3.0, 3.0}));
}

TEST(OptimBase, SetLrChangesTheNextStep) {
  Tensor p = tg::from_vector(Vec{1.0}).requires_grad_();
  SGD opt({p}, 0.1);
  opt.set_lr(0.25);
  EXPECT_EQ(opt.lr(), 0.25);
  EXPECT_EQ(opt.options().lr, 0.25);
  EXPECT_EQ(opt.hyperparameters().at("lr"), 0.25);
  p.set_grad(tg::from_vector(Vec{2.0}));
  opt.step();
  EXPECT_EQ(values(p)[0], 0.5);
}

TEST(OptimBase, StepDoesNotRecordAutogradHistory) {
  Tensor p = tg::from_vector(Vec{1.0, -1.0}).requires_grad_();
  RMSprop opt({p}, RMSpropOptions{.momentum = 0.5, .centered = true});
  tg::sum(p * p).backward();
  opt.step();
  EXPECT_TRUE(p.is_leaf());
  EXPECT_TRUE(p.requires_grad());
  EXPECT_TRUE(tg::GradMode::enabled());
  for (const auto& [key, t] : opt.state_dict()) EXPECT_FALSE(t.requires_grad()) << key;
}

TEST(OptimBase, TrainsALinearRegression) {
  // y = 2 x - 1 from 8 points; each optimizer brings the loss near zero.
  const Tensor x = tg::linspace(-1.0, 1.0, 8, DType::Float32).reshape({8, 1});
  const Tensor y = x * 2.0 - 1.0;
  const std::vector<std::pair<const char*, MakeOptimizer>> cases{
      {"SGD", maker<SGD>(SGDOptions{.lr = 0.1, .momentum = 0.9})},
      {"Adam", maker<Adam>(AdamOptions{.lr = 0.05})},
      {"AdamW", maker<AdamW>(AdamWOptions{.lr = 0.05, .weight_decay = 1e-4})},
      {"RMSprop", maker<RMSprop>(RMSpropOptions{.lr = 0.01})}};
  for (const auto& [name, make] : cases) {
    SCOPED_TRACE(name);
    Tensor w = tg::zeros({1, 1}).requires_grad_();
    Tensor b = tg::zeros({1}).requires_grad_();
    auto opt = make({w, b});
    double loss_value = 0.0;
    for (int it = 0; it < 300; ++it) {
      opt->zero_grad();
      const Tensor diff = tg::matmul(x, w) + b - y;
      const Tensor loss = tg::mean(diff * diff);
      loss.backward();
      opt->step();
      loss_value = loss.item();
    }
    EXPECT_LT(loss_value, 1e-3);
    EXPECT_NEAR(values(w)[0], 2.0, 0.05);
    EXPECT_NEAR(values(b)[0], -1.0, 0.05);
  }
}

// ---- argument checks ----

TEST(OptimErrors, BadHyperparametersNameTheOptimizerAndValue) {
  const std::vector<Tensor> ps{tg::zeros({2}).requires_grad_()};
  EXPECT_TG_ERROR(SGD(ps, -0.1), "tg::optim::SGD", "learning rate", "-0.1");
  EXPECT_TG_ERROR(SGD(ps, SGDOptions{.lr = std::nan("")}), "tg::optim::SGD", "learning rate", "nan");
  EXPECT_TG_ERROR(SGD(ps, 0.1, -0.5), "tg::optim::SGD", "momentum", "-0.5");
  EXPECT_TG_ERROR(SGD(ps, 0.1, 0.0, 0.0, /*nesterov=*/true), "tg::optim::SGD", "nesterov needs momentum > 0");
  EXPECT_TG_ERROR(SGD(ps, 0.1, 0.9, 0.1, /*nesterov=*/true), "tg::optim::SGD", "dampening", "0.1",
                  "nesterov needs dampening == 0");
  EXPECT_TG_ERROR(SGD(ps, 0.1, 0.0, 0.0, false, -1e-4), "tg::optim::SGD", "weight_decay", "-0.0001");

  EXPECT_TG_ERROR(Adam(ps, -1.0), "tg::optim::Adam", "learning rate", "-1");
  EXPECT_TG_ERROR(Adam(ps, 1e-3, {1.0, 0.999}), "tg::optim::Adam", "beta1", "1", "[0, 1)");
  EXPECT_TG_ERROR(Adam(ps, 1e-3, {0.9, -0.1}), "tg::optim::Adam", "beta2", "-0.1", "[0, 1)");
  EXPECT_TG_ERROR(Adam(ps, 1e-3, {0.9, 1.5}), "tg::optim::Adam", "beta2", "1.5");
  EXPECT_TG_ERROR(Adam(ps, 1e-3, {0.9, 0.999}, -1e-8), "tg::optim::Adam", "eps", "-1e-08");
  EXPECT_TG_ERROR(Adam(ps, AdamOptions{.weight_decay = -0.5}), "tg::optim::Adam", "weight_decay", "-0.5");
  EXPECT_TG_ERROR(AdamW(ps, AdamWOptions{.beta1 = -0.2}), "tg::optim::AdamW", "beta1", "-0.2");
  EXPECT_TG_ERROR(AdamW(ps, -0.001), "tg::optim::AdamW", "learning rate", "-0.001");

  EXPECT_TG_ERROR(RMSprop(ps, -0.01), "tg::optim::RMSprop", "learning rate", "-0.01");
  EXPECT_TG_ERROR(RMSprop(ps, 0.01, 1.5), "tg::optim::RMSprop", "alpha", "1.5", "[0, 1]");
  EXPECT_TG_ERROR(RMSprop(ps, 0.01, 0.99, -1.0), "tg::optim::RMSprop", "eps", "-1");
  EXPECT_TG_ERROR(RMSprop(ps, 0.01, 0.99, 1e-8, -0.1), "tg::optim::RMSprop", "weight_decay", "-0.1");
  EXPECT_TG_ERROR(RMSprop(ps, 0.01, 0.99, 1e-8, 0.0, -0.9), "tg::optim::RMSprop", "momentum", "-0.9");
}

TEST(OptimErrors, SetLrRejectsBadValuesAndKeepsTheOldOne) {
  Adam opt({tg::zeros({2}).requires_grad_()}, 0.01);
  EXPECT_TG_ERROR(opt.set_lr(-0.5), "tg::optim::Adam", "learning rate", "-0.5");
  EXPECT_TG_ERROR(opt.set_lr(std::numeric_limits<double>::infinity()), "tg::optim::Adam", "inf");
  EXPECT_EQ(opt.lr(), 0.01);
  opt.set_lr(0.0);  // zero is allowed (a frozen phase)
  EXPECT_EQ(opt.lr(), 0.0);
}

TEST(OptimErrors, BadParameterLists) {
  EXPECT_TG_ERROR(SGD(std::vector<Tensor>{}, 0.1), "tg::optim::SGD", "empty parameter list");
  Tensor leaf = tg::zeros({2}).requires_grad_();
  EXPECT_TG_ERROR(Adam({leaf * 2.0}), "tg::optim::Adam", "parameter 0", "not a leaf");
  EXPECT_TG_ERROR(Adam({leaf, tg::arange(3)}), "tg::optim::Adam", "parameter 1", "int64");
  EXPECT_TG_ERROR(RMSprop({leaf, leaf}), "tg::optim::RMSprop", "parameters 0 and 1", "same tensor");
  EXPECT_TG_ERROR(SGD({leaf, Tensor()}, 0.1), "tg::optim::SGD", "parameter 1", "undefined");
}

TEST(OptimErrors, GradientOfAnotherDtype) {
  Tensor p = tg::zeros({2}, DType::Float64).requires_grad_();
  SGD opt({p}, 0.1);
  p.set_grad(tg::ones({2}, DType::Float32));
  EXPECT_TG_ERROR(opt.step(), "tg::optim::SGD::step", "parameter 0", "float64", "float32");
}

}  // namespace
}  // namespace tgtest::optim

// ---- 16-bit parameters and master weights ----
namespace tgtest::optim {
namespace {

using tg::DType;
using tg::Tensor;
using namespace tg::optim;

// Ten SGD steps of lr * grad = 6e-4 on a bfloat16 weight of 1: each one rounds back to 1 without master weights
// (the spacing below 1 is 2^-8); with them the float32 master moves to 0.994 and the weight is the master rounded.
TEST(OptimMasterWeights, BFloat16StepsStallWithoutAndMoveWith) {
  for (bool master : {false, true}) {
    const Tensor w = tg::ones({4}, DType::BFloat16).requires_grad_(true);
    SGD opt({w}, SGDOptions{.lr = 6e-4, .momentum = 0.5, .master_weights = master});
    EXPECT_EQ(opt.master_weights(), master);
    for (int i = 0; i < 10; ++i) {
      w.set_grad(tg::ones({4}, DType::BFloat16));
      opt.step();
    }
    EXPECT_EQ(w.dtype(), DType::BFloat16);
    const float got = w.to(DType::Float32).to_vector<float>()[0];
    const tg::StateDict state = opt.state_dict();
    if (!master) {
      EXPECT_EQ(got, 1.0f) << "a 6e-4 step on a bfloat16 1.0 rounds back to 1.0";
      EXPECT_EQ(state.count("state.0.master"), 0u);
      EXPECT_EQ(state.at("state.0.momentum_buffer").dtype(), DType::BFloat16);
      continue;
    }
    const Tensor m = state.at("state.0.master");
    ASSERT_EQ(m.dtype(), DType::Float32);
    EXPECT_EQ(state.at("state.0.momentum_buffer").dtype(), DType::Float32);
    const float mv = m.to_vector<float>()[0];
    // Momentum 0.5: buf_t = 1 + 0.5 buf_{t-1}; the ten steps sum to 6e-4 * sum_t (2 - 2^(1-t)).
    double moved = 0;
    for (int t = 1; t <= 10; ++t) moved += 2.0 - std::ldexp(1.0, 1 - t);
    EXPECT_NEAR(mv, 1.0 - 6e-4 * moved, 1e-5);
    EXPECT_EQ(got, static_cast<float>(tg::bfloat16(mv)));
    EXPECT_LT(got, 1.0f);
  }
}

// The master copy is checkpointed: 3 steps, save, load into a fresh optimizer, 2 steps = 5 steps, bit for bit.
TEST(OptimMasterWeights, CheckpointResumesExactly) {
  tg::Generator gen(5);
  std::vector<Tensor> grads;
  for (int i = 0; i < 5; ++i) grads.push_back(tg::randn({6}, DType::Float16, gen));
  auto run = [&](int first, int last, const tg::StateDict* resume_from, Tensor& w, tg::StateDict* save) {
    AdamW opt({w}, AdamWOptions{.lr = 1e-3, .master_weights = true});
    if (resume_from != nullptr) opt.load_state_dict(*resume_from);
    for (int i = first; i < last; ++i) {
      w.set_grad(grads[static_cast<size_t>(i)]);
      opt.step();
    }
    if (save != nullptr) *save = opt.state_dict();
  };
  Tensor straight = tg::full({6}, 0.5, DType::Float16).requires_grad_(true);
  run(0, 5, nullptr, straight, nullptr);
  Tensor resumed = tg::full({6}, 0.5, DType::Float16).requires_grad_(true);
  tg::StateDict saved;
  run(0, 3, nullptr, resumed, &saved);
  EXPECT_EQ(saved.at("state.0.master").dtype(), DType::Float32);
  EXPECT_EQ(saved.at("state.0.exp_avg").dtype(), DType::Float32);
  run(3, 5, &saved, resumed, nullptr);
  const auto a = straight.to_vector<tg::float16>(), b = resumed.to_vector<tg::float16>();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].bits, b[i].bits) << i;
  // A checkpoint without the master copy is refused by an optimizer that keeps one.
  tg::StateDict no_master = saved;
  no_master.erase("state.0.master");
  Tensor w = tg::full({6}, 0.5, DType::Float16).requires_grad_(true);
  EXPECT_TG_ERROR(run(0, 1, &no_master, w, nullptr), "missing key 'state.0.master'");
}

}  // namespace
}  // namespace tgtest::optim
