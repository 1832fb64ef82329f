#include <tensorgrad/optim/schedule.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include <tensorgrad/ops/creation.h>
#include <tensorgrad/optim/optimizer.h>

namespace tg::optim {

namespace {

void check_t(int64_t t, const char* who) { TG_CHECK(t >= 0, "tg::optim::", who, "::lr_at: step ", t, " is negative"); }

void check_base(double lr, const char* who, const char* what) {
  TG_CHECK(std::isfinite(lr) && lr >= 0.0, "tg::optim::", who, ": invalid ", what, " ", lr,
           " (must be finite and >= 0)");
}

}  // namespace

ConstantLR::ConstantLR(double lr) : lr_(lr) { check_base(lr, "ConstantLR", "lr"); }

double ConstantLR::lr_at(int64_t t) const {
  check_t(t, "ConstantLR");
  return lr_;
}

StepLR::StepLR(double base_lr, int64_t step_size, double gamma) : base_lr_(base_lr), step_size_(step_size), gamma_(gamma) {
  check_base(base_lr, "StepLR", "base_lr");
  TG_CHECK(step_size > 0, "tg::optim::StepLR: invalid step_size ", step_size, " (must be > 0)");
  TG_CHECK(std::isfinite(gamma) && gamma >= 0.0, "tg::optim::StepLR: invalid gamma ", gamma,
           " (must be finite and >= 0)");
}

double StepLR::lr_at(int64_t t) const {
  check_t(t, "StepLR");
  return base_lr_ * std::pow(gamma_, static_cast<double>(t / step_size_));
}

CosineAnnealing::CosineAnnealing(double base_lr, int64_t T_max, double eta_min)
    : base_lr_(base_lr), t_max_(T_max), eta_min_(eta_min) {
  check_base(base_lr, "CosineAnnealing", "base_lr");
  check_base(eta_min, "CosineAnnealing", "eta_min");
  TG_CHECK(T_max > 0, "tg::optim::CosineAnnealing: invalid T_max ", T_max, " (must be > 0)");
}

double CosineAnnealing::lr_at(int64_t t) const {
  check_t(t, "CosineAnnealing");
  const double progress = static_cast<double>(std::min(t, t_max_)) / static_cast<double>(t_max_);
  return eta_min_ + (base_lr_ - eta_min_) * (1.0 + std::cos(std::numbers::pi * progress)) / 2.0;
}

LinearWarmup::LinearWarmup(int64_t warmup_steps, std::shared_ptr<const LRSchedule> after, double start_factor)
    : warmup_steps_(warmup_steps), after_(std::move(after)), start_factor_(start_factor) {
  TG_CHECK(warmup_steps >= 0, "tg::optim::LinearWarmup: invalid warmup_steps ", warmup_steps, " (must be >= 0)");
  TG_CHECK(after_ != nullptr, "tg::optim::LinearWarmup: the schedule to follow the warmup is null");
  TG_CHECK(start_factor >= 0.0 && start_factor <= 1.0, "tg::optim::LinearWarmup: invalid start_factor ",
           start_factor, " (must be in [0, 1])");
}

double LinearWarmup::lr_at(int64_t t) const {
  check_t(t, "LinearWarmup");
  if (t >= warmup_steps_) return after_->lr_at(t - warmup_steps_);
  const double fraction = static_cast<double>(t) / static_cast<double>(warmup_steps_);
  return after_->lr_at(0) * (start_factor_ + (1.0 - start_factor_) * fraction);
}

LambdaLR::LambdaLR(std::function<double(int64_t)> fn) : fn_(std::move(fn)) {
  TG_CHECK(static_cast<bool>(fn_), "tg::optim::LambdaLR: empty function");
}

double LambdaLR::lr_at(int64_t t) const {
  check_t(t, "LambdaLR");
  return fn_(t);
}

Scheduler::Scheduler(Optimizer& optimizer, std::shared_ptr<const LRSchedule> schedule, int64_t t)
    : optimizer_(&optimizer), schedule_(std::move(schedule)) {
  TG_CHECK(schedule_ != nullptr, "tg::optim::Scheduler: the schedule is null");
  set_t(t);
}

void Scheduler::set_t(int64_t t) {
  TG_CHECK(t >= 0, "tg::optim::Scheduler: step ", t, " is negative");
  optimizer_->set_lr(schedule_->lr_at(t));  // throws (and keeps t) for a schedule value the optimizer rejects
  t_ = t;
}

void Scheduler::step() { set_t(t_ + 1); }

double Scheduler::lr() const { return schedule_->lr_at(t_); }

StateDict Scheduler::state_dict() const { return {{"t", scalar_tensor(static_cast<double>(t_), DType::Int64)}}; }

void Scheduler::load_state_dict(const StateDict& state) {
  const auto it = state.find("t");
  TG_CHECK(it != state.end(), "tg::optim::Scheduler::load_state_dict: missing key 't'");
  for (const auto& [key, value] : state)
    TG_CHECK(key == "t", "tg::optim::Scheduler::load_state_dict: unexpected key '", key, "'");
  TG_CHECK(it->second.defined() && it->second.numel() == 1,
           "tg::optim::Scheduler::load_state_dict: 't' must hold one value");
  const double t = it->second.item();
  TG_CHECK(t >= 0.0 && t == std::floor(t) && t < 9.0e18,
           "tg::optim::Scheduler::load_state_dict: 't' must be a non-negative integer, got ", t);
  set_t(static_cast<int64_t>(t));
}

}  // namespace tg::optim
