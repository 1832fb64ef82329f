// Optimizer checkpoints: layout, exact resume, and load errors that leave the optimizer unchanged.
#include <gtest/gtest.h>

#include <tensorgrad/tensorgrad.h>

#include "optim/reference.h"
#include "support/expect_error.h"

namespace tgtest::optim {
namespace {

using tg::DType;
using tg::StateDict;
using tg::Tensor;
using namespace tg::optim;

struct Case {
  const char* name;
  MakeOptimizer make;
};

// One configuration per optimizer with every kind of state buffer in use.
std::vector<Case> full_state_cases() {
  return {
      {"SGD", [](std::vector<Tensor> p) {
         return std::make_unique<SGD>(std::move(p), SGDOptions{.lr = 0.1, .momentum = 0.9, .nesterov = true,
                                                               .weight_decay = 0.01});
       }},
      {"Adam", [](std::vector<Tensor> p) {
         return std::make_unique<Adam>(std::move(p), AdamOptions{.lr = 0.05, .beta2 = 0.9, .weight_decay = 0.1,
                                                                 .amsgrad = true});
       }},
      {"AdamW", [](std::vector<Tensor> p) {
         return std::make_unique<AdamW>(std::move(p), AdamWOptions{.lr = 0.05, .weight_decay = 0.2});
       }},
      {"RMSprop", [](std::vector<Tensor> p) {
         return std::make_unique<RMSprop>(std::move(p), RMSpropOptions{.lr = 0.01, .alpha = 0.9, .weight_decay = 0.05,
                                                                       .momentum = 0.5, .centered = true});
       }},
  };
}

// Two parameters (float64 and float32) with quadratic-loss gradients.
struct Training {
  Tensor a = tg::from_vector(kP0).requires_grad_();
  Tensor b = tg::from_vector(Vec{1.0, -2.0, 0.5}).to(DType::Float32).requires_grad_();
  std::unique_ptr<Optimizer> opt;
  explicit Training(const MakeOptimizer& make) : opt(make({a, b})) {}
  void steps(int n) {
    for (int i = 0; i < n; ++i) {
      opt->zero_grad();
      make_grad(a, GradSource::Quadratic, 0);
      tg::sum(b * b * b).backward();
      opt->step();
    }
  }
};

void expect_same_dict(const StateDict& x, const StateDict& y) {
  ASSERT_EQ(x.size(), y.size());
  for (const auto& [key, t] : x) {
    ASSERT_TRUE(y.count(key)) << key;
    const Tensor& u = y.at(key);
    EXPECT_EQ(t.shape(), u.shape()) << key;
    EXPECT_EQ(t.dtype(), u.dtype()) << key;
    EXPECT_EQ(values(t), values(u)) << key;
  }
}

TEST(OptimStateDict, LayoutOfAdamState) {
  Training run(full_state_cases()[1].make);
  run.steps(2);
  const StateDict sd = run.opt->state_dict();
  std::vector<std::string> keys;
  for (const auto& [key, t] : sd) keys.push_back(key);
  const std::vector<std::string> expected{
      "hparams.amsgrad", "hparams.beta1", "hparams.beta2", "hparams.eps", "hparams.lr", "hparams.weight_decay",
      "state.0.exp_avg", "state.0.exp_avg_sq", "state.0.max_exp_avg_sq", "state.0.step",
      "state.1.exp_avg", "state.1.exp_avg_sq", "state.1.max_exp_avg_sq", "state.1.step"};
  EXPECT_EQ(keys, expected);
  EXPECT_EQ(sd.at("hparams.lr").dim(), 0);
  EXPECT_EQ(sd.at("hparams.lr").dtype(), DType::Float64);
  EXPECT_EQ(sd.at("hparams.lr").item(), 0.05);
  EXPECT_EQ(sd.at("hparams.amsgrad").item(), 1.0);
  EXPECT_EQ(sd.at("state.0.step").dim(), 0);
  EXPECT_EQ(sd.at("state.0.step").dtype(), DType::Int64);
  EXPECT_EQ(sd.at("state.0.step").item(), 2.0);
  EXPECT_EQ(sd.at("state.0.exp_avg").shape(), run.a.shape());
  EXPECT_EQ(sd.at("state.1.exp_avg").dtype(), DType::Float32);
}

TEST(OptimStateDict, KeysOfEachOptimizer) {
  const std::vector<std::vector<std::string>> buffers{{"momentum_buffer"},
                                                      {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"},
                                                      {"exp_avg", "exp_avg_sq"},
                                                      {"grad_avg", "momentum_buffer", "square_avg"}};
  const auto cases = full_state_cases();
  for (size_t c = 0; c < cases.size(); ++c) {
    SCOPED_TRACE(cases[c].name);
    Training run(cases[c].make);
    EXPECT_EQ(run.opt->state_dict().size(), run.opt->hyperparameters().size());  // no state before a step
    run.steps(1);
    const StateDict sd = run.opt->state_dict();
    for (const auto& name : buffers[c]) EXPECT_TRUE(sd.count("state.1." + name)) << name;
    EXPECT_EQ(sd.size(), run.opt->hyperparameters().size() + 2 * (buffers[c].size() + 1));
  }
}

TEST(OptimStateDict, TwoStepsSaveLoadOneStepEqualsThreeSteps) {
  for (const auto& c : full_state_cases()) {
    SCOPED_TRACE(c.name);
    Training straight(c.make);
    straight.steps(3);

    Training first(c.make);
    first.steps(2);
    const StateDict saved = first.opt->state_dict();
    // A fresh model with the saved weights and a fresh optimizer built with other settings: the checkpoint
    // brings back the hyperparameters too.
    Training resumed(c.make);
    {
      tg::NoGradGuard no_grad;
      resumed.a.copy_(first.a);
      resumed.b.copy_(first.b);
    }
    resumed.opt->set_lr(123.0);
    resumed.opt->load_state_dict(saved);
    EXPECT_EQ(resumed.opt->lr(), first.opt->lr());
    EXPECT_EQ(resumed.opt->hyperparameters(), first.opt->hyperparameters());
    resumed.steps(1);

    EXPECT_EQ(values(resumed.a), values(straight.a));  // bit for bit
    EXPECT_EQ(values(resumed.b), values(straight.b));
    expect_same_dict(resumed.opt->state_dict(), straight.opt->state_dict());
    EXPECT_EQ(resumed.opt->step_count(0), 3);
  }
}

TEST(OptimStateDict, SavedDictIsASnapshotAndLoadDoesNotAliasIt) {
  Training run(full_state_cases()[1].make);
  run.steps(1);
  const StateDict saved = run.opt->state_dict();
  const Vec exp_avg = values(saved.at("state.0.exp_avg"));
  run.steps(1);
  EXPECT_EQ(values(saved.at("state.0.exp_avg")), exp_avg);  // later steps do not reach a taken dict

  Training other(full_state_cases()[1].make);
  other.opt->load_state_dict(saved);
  other.steps(1);
  EXPECT_EQ(values(saved.at("state.0.exp_avg")), exp_avg);  // nor do the loader's steps
}

TEST(OptimStateDict, LoadCastsBuffersToTheParameterDtype) {
  // State saved from a float64 run, loaded for a float32 copy of the model.
  Tensor p64 = tg::from_vector(kP0).requires_grad_();
  Adam a({p64}, 0.01);
  make_grad(p64, GradSource::Quadratic, 0);
  a.step();
  Tensor p32 = p64.detach().to(DType::Float32).requires_grad_();
  Adam b({p32}, 0.01);
  b.load_state_dict(a.state_dict());
  const StateDict sd = b.state_dict();
  EXPECT_EQ(sd.at("state.0.exp_avg").dtype(), DType::Float32);
  EXPECT_EQ(sd.at("state.0.exp_avg_sq").dtype(), DType::Float32);
  EXPECT_EQ(sd.at("state.0.step").item(), 1.0);
}

TEST(OptimStateDict, LoadingReplacesExistingState) {
  // torch semantics: the loaded dict is the whole state; a parameter absent from it starts afresh.
  Training a(full_state_cases()[0].make);
  const StateDict empty_state = a.opt->state_dict();  // hyperparameters only
  a.steps(2);
  a.opt->load_state_dict(empty_state);
  EXPECT_EQ(a.opt->step_count(0), 0);
  EXPECT_EQ(a.opt->state_dict().size(), empty_state.size());
}

TEST(OptimStateDict, LoadedFlagsChooseTheExpectedBuffers) {
  // An SGD built without momentum loads a checkpoint taken with momentum, buffers included.
  Training with_momentum(full_state_cases()[0].make);
  with_momentum.steps(2);
  Tensor a = tg::from_vector(kP0).requires_grad_();
  Tensor b = tg::from_vector(Vec{1.0, -2.0, 0.5}).to(DType::Float32).requires_grad_();
  SGD plain({a, b}, 0.5);
  plain.load_state_dict(with_momentum.opt->state_dict());
  EXPECT_EQ(plain.options().momentum, 0.9);
  EXPECT_TRUE(plain.options().nesterov);
  expect_same_dict(plain.state_dict(), with_momentum.opt->state_dict());
}

// ---- errors ----

// Loading `bad` throws an error containing `parts`, and the optimizer is as before.
void expect_load_error(Training& run, const StateDict& bad, std::initializer_list<std::string> parts) {
  const StateDict before = run.opt->state_dict();
  const std::string message = error_message([&] { run.opt->load_state_dict(bad); });
  EXPECT_TRUE(contains_all(message, parts));
  EXPECT_TRUE(contains_all(message, {"the optimizer is unchanged"}));
  expect_same_dict(run.opt->state_dict(), before);
}

TEST(OptimStateDict, MissingKeys) {
  Training run(full_state_cases()[1].make);
  run.steps(2);
  StateDict sd = run.opt->state_dict();
  sd.erase("state.0.exp_avg_sq");
  expect_load_error(run, sd, {"tg::optim::Adam::load_state_dict", "missing key 'state.0.exp_avg_sq'"});
  sd = run.opt->state_dict();
  sd.erase("state.1.step");
  expect_load_error(run, sd, {"missing key 'state.1.step'"});
  sd = run.opt->state_dict();
  sd.erase("hparams.beta2");
  expect_load_error(run, sd, {"missing key 'hparams.beta2'"});
}

TEST(OptimStateDict, UnexpectedKeys) {
  Training run(full_state_cases()[1].make);
  run.steps(1);
  const StateDict good = run.opt->state_dict();
  StateDict sd = good;
  sd.emplace("state.0.momentum_buffer", tg::zeros({4}, DType::Float64));
  expect_load_error(run, sd, {"unexpected key 'state.0.momentum_buffer'"});
  sd = good;
  sd.emplace("state.7.exp_avg", tg::zeros({4}, DType::Float64));
  expect_load_error(run, sd, {"unexpected key 'state.7.exp_avg'", "2 parameters"});
  sd = good;
  sd.emplace("hparams.momentum", tg::scalar_tensor(0.9, DType::Float64));
  sd.emplace("weight", tg::zeros({1}));
  sd.emplace("state.x.step", tg::zeros({1}));
  expect_load_error(run, sd, {"3 problems", "unexpected key 'hparams.momentum'", "unexpected key 'weight'",
                              "unexpected key 'state.x.step'"});
}

TEST(OptimStateDict, ShapeMismatchNamesKeyAndBothShapes) {
  Training run(full_state_cases()[3].make);
  run.steps(1);
  StateDict sd = run.opt->state_dict();
  sd["state.0.square_avg"] = tg::zeros({2, 2}, DType::Float64);
  expect_load_error(run, sd, {"tg::optim::RMSprop::load_state_dict", "shape mismatch for 'state.0.square_avg'",
                              "[2, 2]", "[4]"});
}

TEST(OptimStateDict, BadValues) {
  Training run(full_state_cases()[1].make);
  run.steps(1);
  const StateDict good = run.opt->state_dict();
  StateDict sd = good;
  sd["hparams.beta1"] = tg::scalar_tensor(1.5, DType::Float64);
  expect_load_error(run, sd, {"bad hyperparameter", "beta1", "1.5"});
  sd = good;
  sd["hparams.lr"] = tg::zeros({3}, DType::Float64);
  expect_load_error(run, sd, {"'hparams.lr' must hold one value", "[3]"});
  sd = good;
  sd["state.0.step"] = tg::scalar_tensor(0.0, DType::Int64);
  expect_load_error(run, sd, {"'state.0.step' must be a positive integer"});
  sd = good;
  sd["state.0.step"] = tg::scalar_tensor(2.5, DType::Float64);
  expect_load_error(run, sd, {"'state.0.step' must be a positive integer", "2.5"});
  sd = good;
  sd["state.0.exp_avg"] = tg::zeros({4}, DType::Int64);
  expect_load_error(run, sd, {"'state.0.exp_avg' has dtype int64"});
}

TEST(OptimStateDict, AnotherOptimizersCheckpoint) {
  Training adam(full_state_cases()[1].make);
  adam.steps(1);
  Training sgd(full_state_cases()[0].make);
  sgd.steps(1);
  expect_load_error(sgd, adam.opt->state_dict(),
                    {"tg::optim::SGD::load_state_dict", "missing key 'hparams.momentum'",
                     "unexpected key 'hparams.beta1'", "unexpected key 'state.0.exp_avg'"});
}

TEST(OptimStateDict, FailedLoadLeavesStepsUnaffected) {
  Training a(full_state_cases()[2].make), b(full_state_cases()[2].make);
  a.steps(2);
  b.steps(2);
  StateDict bad = a.opt->state_dict();
  bad["hparams.lr"] = tg::scalar_tensor(7.0, DType::Float64);  // valid, but the dict also has a bad entry
  bad["state.1.exp_avg"] = tg::zeros({9});
  EXPECT_THROW(a.opt->load_state_dict(bad), tg::Error);
  EXPECT_EQ(a.opt->lr(), b.opt->lr());
  a.steps(1);
  b.steps(1);
  EXPECT_EQ(values(a.a), values(b.a));
  EXPECT_EQ(values(a.b), values(b.b));
}

}  // namespace
}  // namespace tgtest::optim
