// LR schedules against their closed forms, composition, and the Scheduler's exact resume.
#include <cmath>
#include <numbers>

#include <gtest/gtest.h>

#include <tensorgrad/tensorgrad.h>

#include "support/expect_error.h"

namespace {

using tg::Tensor;
using namespace tg::optim;

TEST(OptimSchedule, Constant) {
  const ConstantLR s(0.3);
  EXPECT_EQ(s.lr_at(0), 0.3);
  EXPECT_EQ(s.lr_at(1000000), 0.3);
  EXPECT_EQ(s(7), 0.3);
}

TEST(OptimSchedule, StepLR) {
  const StepLR s(0.1, 3, 0.5);
  for (int64_t t : {0, 1, 2}) EXPECT_DOUBLE_EQ(s.lr_at(t), 0.1) << t;
  for (int64_t t : {3, 4, 5}) EXPECT_DOUBLE_EQ(s.lr_at(t), 0.05) << t;
  EXPECT_DOUBLE_EQ(s.lr_at(6), 0.025);
  EXPECT_DOUBLE_EQ(s.lr_at(11), 0.0125);
  EXPECT_DOUBLE_EQ(StepLR(1.0, 30).lr_at(65), 0.01);  // default gamma 0.1, two decays
}

TEST(OptimSchedule, CosineAnnealing) {
  const CosineAnnealing s(1.0, 10, 0.1);
  EXPECT_DOUBLE_EQ(s.lr_at(0), 1.0);
  EXPECT_DOUBLE_EQ(s.lr_at(5), 0.55);  // halfway: the mean of base and eta_min
  EXPECT_DOUBLE_EQ(s.lr_at(10), 0.1);
  // cos(pi / 5) = (1 + sqrt 5) / 4
  EXPECT_DOUBLE_EQ(s.lr_at(2), 0.1 + 0.9 * (1.0 + (1.0 + std::sqrt(5.0)) / 4.0) / 2.0);
  // cos(pi / 2 + pi / 5) symmetric: lr(t) + lr(T - t) = base + eta_min
  for (int64_t t = 0; t <= 10; ++t) EXPECT_NEAR(s.lr_at(t) + s.lr_at(10 - t), 1.1, 1e-15) << t;
  // Held at eta_min after T_max.
  EXPECT_DOUBLE_EQ(s.lr_at(11), 0.1);
  EXPECT_DOUBLE_EQ(s.lr_at(1000), 0.1);
  // Monotone non-increasing.
  for (int64_t t = 0; t < 12; ++t) EXPECT_LE(s.lr_at(t + 1), s.lr_at(t)) << t;
}

TEST(OptimSchedule, LinearWarmupThenCosine) {
  const LinearWarmup s(4, CosineAnnealing(1.0, 8));
  EXPECT_DOUBLE_EQ(s.lr_at(0), 0.0);
  EXPECT_DOUBLE_EQ(s.lr_at(1), 0.25);
  EXPECT_DOUBLE_EQ(s.lr_at(2), 0.5);
  EXPECT_DOUBLE_EQ(s.lr_at(3), 0.75);
  EXPECT_DOUBLE_EQ(s.lr_at(4), 1.0);                                        // cosine starts at its peak
  EXPECT_DOUBLE_EQ(s.lr_at(6), (1.0 + std::sqrt(0.5)) / 2.0);             // cosine t = 2: cos(pi / 4)
  EXPECT_DOUBLE_EQ(s.lr_at(8), 0.5);                                        // cosine t = 4 of 8
  EXPECT_NEAR(s.lr_at(12), 0.0, 1e-16);
  EXPECT_NEAR(s.lr_at(100), 0.0, 1e-16);
}

TEST(OptimSchedule, LinearWarmupStartFactorAndNesting) {
  const LinearWarmup s(4, std::make_shared<StepLR>(0.2, 10, 0.5), 0.1);
  EXPECT_DOUBLE_EQ(s.lr_at(0), 0.02);
  EXPECT_DOUBLE_EQ(s.lr_at(2), 0.2 * 0.55);
  EXPECT_DOUBLE_EQ(s.lr_at(4), 0.2);
  EXPECT_DOUBLE_EQ(s.lr_at(14), 0.1);  // the StepLR's first decay, 10 steps after the warmup
  const LinearWarmup none(0, ConstantLR(0.7));
  EXPECT_EQ(none.lr_at(0), 0.7);
  EXPECT_EQ(none.lr_at(5), 0.7);
  const LinearWarmup twice(2, LinearWarmup(2, ConstantLR(1.0)));
  EXPECT_EQ(twice.lr_at(0), 0.0);  // warmup of a warmup: after(0) is 0
  EXPECT_EQ(twice.lr_at(3), 0.5);
  EXPECT_EQ(twice.lr_at(4), 1.0);
}

TEST(OptimSchedule, Lambda) {
  const LambdaLR s([](int64_t t) { return 1.0 / static_cast<double>(t + 1); });
  EXPECT_EQ(s.lr_at(0), 1.0);
  EXPECT_EQ(s.lr_at(3), 0.25);
}

TEST(OptimSchedule, SchedulerDrivesTheOptimizer) {
  Tensor p = tg::zeros({1}).requires_grad_();
  SGD opt({p}, 123.0);
  auto schedule = std::make_shared<LinearWarmup>(2, CosineAnnealing(0.1, 4, 0.01));
  Scheduler scheduler(opt, schedule);
  EXPECT_EQ(scheduler.t(), 0);
  EXPECT_EQ(opt.lr(), schedule->lr_at(0));
  for (int64_t t = 1; t <= 9; ++t) {
    scheduler.step();
    EXPECT_EQ(scheduler.t(), t);
    EXPECT_EQ(opt.lr(), schedule->lr_at(t)) << t;
    EXPECT_EQ(scheduler.lr(), opt.lr());
  }
}

TEST(OptimSchedule, SchedulerResumesExactly) {
  auto schedule = std::make_shared<LinearWarmup>(3, StepLR(0.5, 2, 0.3));
  Tensor p = tg::zeros({1}).requires_grad_();
  SGD a({p}, 1.0), b({p}, 1.0), c({p}, 1.0);
  Scheduler straight(a, schedule);
  for (int i = 0; i < 5; ++i) straight.step();
  const tg::StateDict saved = straight.state_dict();
  EXPECT_EQ(saved.at("t").item(), 5.0);
  EXPECT_EQ(saved.at("t").dtype(), tg::DType::Int64);

  Scheduler by_state(b, schedule);
  by_state.load_state_dict(saved);
  Scheduler by_t(c, schedule, 5);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(b.lr(), a.lr());
    EXPECT_EQ(c.lr(), a.lr());
    straight.step(), by_state.step(), by_t.step();
  }
}

TEST(OptimSchedule, Errors) {
  EXPECT_TG_ERROR(StepLR(0.1, 0), "tg::optim::StepLR", "step_size", "0");
  EXPECT_TG_ERROR(StepLR(-0.1, 3), "tg::optim::StepLR", "base_lr", "-0.1");
  EXPECT_TG_ERROR(CosineAnnealing(0.1, 0), "tg::optim::CosineAnnealing", "T_max");
  EXPECT_TG_ERROR(CosineAnnealing(0.1, 10, -1.0), "tg::optim::CosineAnnealing", "eta_min", "-1");
  EXPECT_TG_ERROR(LinearWarmup(-1, ConstantLR(1.0)), "tg::optim::LinearWarmup", "warmup_steps", "-1");
  EXPECT_TG_ERROR(LinearWarmup(2, ConstantLR(1.0), 1.5), "tg::optim::LinearWarmup", "start_factor", "1.5");
  EXPECT_TG_ERROR(LinearWarmup(2, std::shared_ptr<const LRSchedule>()), "tg::optim::LinearWarmup", "null");
  EXPECT_TG_ERROR(ConstantLR(0.1).lr_at(-1), "tg::optim::ConstantLR", "-1", "negative");
  EXPECT_TG_ERROR(CosineAnnealing(0.1, 5).lr_at(-3), "tg::optim::CosineAnnealing", "-3");

  Tensor p = tg::zeros({1}).requires_grad_();
  SGD opt({p}, 0.1);
  EXPECT_TG_ERROR(Scheduler(opt, LambdaLR([](int64_t) { return -1.0; })), "tg::optim::SGD", "learning rate");
  EXPECT_EQ(opt.lr(), 0.1);
  Scheduler s(opt, ConstantLR(0.2));
  EXPECT_TG_ERROR(s.load_state_dict({}), "tg::optim::Scheduler::load_state_dict", "missing key 't'");
  EXPECT_TG_ERROR(s.load_state_dict({{"t", tg::scalar_tensor(-2.0, tg::DType::Int64)}}), "non-negative integer");
  EXPECT_TG_ERROR(s.load_state_dict({{"t", tg::scalar_tensor(1.0, tg::DType::Int64)}, {"u", tg::zeros({1})}}),
                  "unexpected key 'u'");
  EXPECT_EQ(s.t(), 0);
}

}  // namespace
