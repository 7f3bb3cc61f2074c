// Learning-rate schedules (formulas in schedule.hpp).
#include "partita/optim/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "partita/core/error.hpp"

namespace partita::optim {

static void check_step(const char* who, std::int64_t step) {
  if (step < 1)
    throw InvalidArgument(std::string(who) + ": step is 1-based, got " + std::to_string(step));
}

ConstantSchedule::ConstantSchedule(double lr) : lr_(lr) {
  if (!(lr >= 0.0)) throw InvalidArgument("ConstantSchedule: lr must be >= 0");
}

double ConstantSchedule::lr(std::int64_t step) const {
  check_step("ConstantSchedule::lr", step);
  return lr_;
}

StepSchedule::StepSchedule(double lr, std::int64_t every, double gamma)
    : lr_(lr), every_(every), gamma_(gamma) {
  if (!(lr >= 0.0)) throw InvalidArgument("StepSchedule: lr must be >= 0");
  if (every < 1) throw InvalidArgument("StepSchedule: `every` must be >= 1");
  if (!(gamma >= 0.0)) throw InvalidArgument("StepSchedule: gamma must be >= 0");
}

double StepSchedule::lr(std::int64_t step) const {
  check_step("StepSchedule::lr", step);
  return lr_ * std::pow(gamma_, static_cast<double>((step - 1) / every_));
}

InverseSqrtSchedule::InverseSqrtSchedule(double peak, std::int64_t warmup, double floor)
    : peak_(peak), warmup_(warmup), floor_(floor) {
  if (!(peak >= 0.0)) throw InvalidArgument("InverseSqrtSchedule: peak lr must be >= 0");
  if (warmup < 1) throw InvalidArgument("InverseSqrtSchedule: warmup must be >= 1");
  if (!(floor >= 0.0)) throw InvalidArgument("InverseSqrtSchedule: floor must be >= 0");
}

double InverseSqrtSchedule::lr(std::int64_t step) const {
  check_step("InverseSqrtSchedule::lr", step);
  const double t = static_cast<double>(step), w = static_cast<double>(warmup_);
  if (step <= warmup_) return peak_ * t / w;
  return std::max(floor_, peak_ * std::sqrt(w / t));
}

}  // namespace partita::optim
