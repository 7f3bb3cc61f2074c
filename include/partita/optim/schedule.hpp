// Learning-rate schedules: a function from the optimizer step to a learning rate.
//
// `step` is 1-based: the learning rate used for the step-th update, i.e. call
//   opt.set_lr(schedule.lr(opt.step_count() + 1)); opt.step();
//
//   ConstantSchedule(lr):                  lr(t) = lr
//   StepSchedule(lr, every, gamma):        lr(t) = lr * gamma^floor((t - 1) / every)
//                                          (torch.optim.lr_scheduler.StepLR, stepped
//                                           once per update)
//   InverseSqrtSchedule(peak, warmup, floor):
//       lr(t) = peak * t / warmup                          for t <= warmup (linear warm-up)
//       lr(t) = max(floor, peak * sqrt(warmup / t))        for t >  warmup
//     continuous at t = warmup (both give peak); the floor applies only after the
//     warm-up, which starts from peak / warmup. Transformer-XL's setting here:
//     InverseSqrtSchedule(5e-4, 4000, 2.5e-5), which reaches the floor at t = 1.6M.
#pragma once
#include <cstdint>
#include <memory>

namespace partita::optim {

class Schedule {
 public:
  virtual ~Schedule() = default;
  /// Learning rate for the step-th update (step >= 1; InvalidArgument otherwise).
  virtual double lr(std::int64_t step) const = 0;
};

class ConstantSchedule : public Schedule {
 public:
  explicit ConstantSchedule(double lr);
  double lr(std::int64_t step) const override;

 private:
  double lr_;
};

class StepSchedule : public Schedule {
 public:
  /// Multiply by `gamma` every `every` steps. InvalidArgument on every < 1 or lr < 0.
  StepSchedule(double lr, std::int64_t every, double gamma);
  double lr(std::int64_t step) const override;

 private:
  double lr_;
  std::int64_t every_;
  double gamma_;
};

class InverseSqrtSchedule : public Schedule {
 public:
  /// InvalidArgument on peak < 0, warmup < 1 or floor < 0.
  InverseSqrtSchedule(double peak, std::int64_t warmup, double floor);
  double lr(std::int64_t step) const override;

 private:
  double peak_;
  std::int64_t warmup_;
  double floor_;
};

}  // namespace partita::optim
