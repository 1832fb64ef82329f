#pragma once
// Learning-rate schedules as pure functions of the step (or epoch) count t = 0, 1, 2, ...: lr_at(t) depends
// on t alone, so a resumed run only needs t to get exactly the learning rates of an uninterrupted one.
// Each schedule is given its base learning rate; a Scheduler writes lr_at(t) into an optimizer.
//
//   auto schedule = std::make_shared<LinearWarmup>(100, CosineAnnealing(0.1, 900, 1e-4));
//   Scheduler scheduler(optimizer, schedule);        // optimizer.lr() == schedule->lr_at(0)
//   for (...) { ...; optimizer.step(); scheduler.step(); }
#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>

#include <tensorgrad/core/state_dict.h>

namespace tg::optim {

class Optimizer;

class LRSchedule {
 public:
  virtual ~LRSchedule() = default;
  // The learning rate at step t >= 0 (throws tg::Error for t < 0).
  virtual double lr_at(int64_t t) const = 0;
  double operator()(int64_t t) const { return lr_at(t); }
};

// lr_at(t) = lr.
class ConstantLR final : public LRSchedule {
 public:
  explicit ConstantLR(double lr);
  double lr_at(int64_t t) const override;

 private:
  double lr_;
};

// lr_at(t) = base_lr * gamma^floor(t / step_size), as torch.optim.lr_scheduler.StepLR.
class StepLR final : public LRSchedule {
 public:
  StepLR(double base_lr, int64_t step_size, double gamma = 0.1);
  double lr_at(int64_t t) const override;

 private:
  double base_lr_;
  int64_t step_size_;
  double gamma_;
};

// lr_at(t) = eta_min + (base_lr - eta_min) * (1 + cos(pi * min(t, T_max) / T_max)) / 2: the closed form of
// torch's CosineAnnealingLR for t <= T_max, then held at eta_min (torch's would rise again, periodically).
class CosineAnnealing final : public LRSchedule {
 public:
  CosineAnnealing(double base_lr, int64_t T_max, double eta_min = 0.0);
  double lr_at(int64_t t) const override;

 private:
  double base_lr_;
  int64_t t_max_;
  double eta_min_;
};

// Linear warmup, then `after` restarted at 0:
//   t <  warmup_steps: after(0) * (start_factor + (1 - start_factor) * t / warmup_steps)
//   t >= warmup_steps: after(t - warmup_steps)
// With start_factor = 0 (the default) the rate climbs 0, 1/W, 2/W, ... of after(0), as Hugging Face's
// get_*_schedule_with_warmup; warmup_steps = 0 is `after` itself.
class LinearWarmup final : public LRSchedule {
 public:
  LinearWarmup(int64_t warmup_steps, std::shared_ptr<const LRSchedule> after, double start_factor = 0.0);
  template <std::derived_from<LRSchedule> S>
  LinearWarmup(int64_t warmup_steps, S after, double start_factor = 0.0)
      : LinearWarmup(warmup_steps, std::make_shared<const S>(std::move(after)), start_factor) {}
  double lr_at(int64_t t) const override;

 private:
  int64_t warmup_steps_;
  std::shared_ptr<const LRSchedule> after_;
  double start_factor_;
};

// Any pure function of t.
class LambdaLR final : public LRSchedule {
 public:
  explicit LambdaLR(std::function<double(int64_t)> fn);
  double lr_at(int64_t t) const override;

 private:
  std::function<double(int64_t)> fn_;
};

// Applies a schedule to an optimizer: the constructor sets lr_at(t), each step() advances t by one and sets
// lr_at(t). To resume, construct with the saved t (or load_state_dict): nothing else is needed. The
// optimizer must outlive the scheduler.
class Scheduler {
 public:
  Scheduler(Optimizer& optimizer, std::shared_ptr<const LRSchedule> schedule, int64_t t = 0);
  template <std::derived_from<LRSchedule> S>
  Scheduler(Optimizer& optimizer, S schedule, int64_t t = 0)
      : Scheduler(optimizer, std::make_shared<const S>(std::move(schedule)), t) {}

  void step();              // t += 1, then applies lr_at(t)
  void set_t(int64_t t);    // jumps to t and applies lr_at(t)
  int64_t t() const { return t_; }
  double lr() const;        // lr_at(t)
  const LRSchedule& schedule() const { return *schedule_; }

  StateDict state_dict() const;              // {"t": 0-d int64}
  void load_state_dict(const StateDict& state);  // restores t and applies lr_at(t)

 private:
  Optimizer* optimizer_;
  std::shared_ptr<const LRSchedule> schedule_;
  int64_t t_ = 0;
};

}  // namespace tg::optim
