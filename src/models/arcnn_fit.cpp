// ARCNN::fit: the AR-CNN as a TrainTask of the shared loop (trainer.hpp).
//
// One step is one Adam step on a batch of corrupted/original window pairs
// (data::PairBatcher); an epoch reseeds dropout and reshuffles from
// (seed, epoch) alone, so a run resumed from a checkpoint continues exactly as
// the uninterrupted one. After an epoch's steps BatchNorm's running statistics
// are re-estimated (bn_recalibration_batches); validation is the mean KL loss
// over the validation pairs in eval mode.
#include <cmath>
#include <memory>

#include "models/arcnn_impl.hpp"
#include "partita/core/error.hpp"
#include "partita/optim/adam.hpp"

namespace partita::models {

namespace {

class ArcnnTask final : public TrainTask {
 public:
  ArcnnTask(ArcnnImpl& impl, const data::WindowSet& train, const data::WindowSet& valid,
            const ArcnnFitOptions& o)
      : impl_(impl), o_(o), tb_(train, o.pairs, o.seed, true), adam_(impl.params, adam_options(o.lr)) {
    if (valid.count() > 0)
      vb_ = std::make_unique<data::PairBatcher>(valid, o.pairs, o.seed ^ 0x5eedULL, false);
  }

  std::string kind() const override { return "arcnn"; }
  std::string config_json() const override { return impl_.config.to_json(); }
  std::vector<nn::ParameterSet*> parameter_sets() override { return {&impl_.params}; }
  std::vector<optim::NamedOptimizer> optimizers() override { return {{"", &adam_, &impl_.params}}; }
  void set_training(bool t) override { impl_.set_training(t); }
  bool training() const override { return impl_.training; }

  std::int64_t begin_epoch(int epoch) override {
    adam_.set_lr(o_.lr);  // a resumed state brings its own lr; the options' rules
    impl_.reseed_dropout(o_.seed * 1000003ULL + static_cast<std::uint64_t>(epoch));
    tb_.start_epoch(epoch);
    return tb_.batches_per_epoch(o_.batch_size);
  }

  Losses train_step(int epoch, std::int64_t step, Generator& /*rng: pairs and dropout come from (seed, epoch)*/) override {
    tb_.batch(step, o_.batch_size, x_, y_);
    impl_.params.zero_grad();
    const float loss = impl_.loss.forward(impl_.forward(x_), y_);
    if (!std::isfinite(loss))  // before the update: the weights stay as they were
      throw Error("ARCNN::fit: the loss became " + std::to_string(loss) + " at epoch " + std::to_string(epoch) +
                  " step " + std::to_string(step) + " (lower the lr)");
    impl_.backward(impl_.loss.backward());
    adam_.step();
    return {{"loss", static_cast<double>(loss)}};
  }

  void end_epoch(int /*epoch*/) override {
    if (o_.bn_recalibration_batches <= 0) return;
    const std::int64_t k = std::min(o_.bn_recalibration_batches, tb_.batches_per_epoch(o_.batch_size));
    impl_.recalibrate_batchnorm(k, [&](std::int64_t b, Tensor& xb) { tb_.batch(b, o_.batch_size, xb, y_); });
  }

  bool has_validation() const override { return vb_ != nullptr; }

  double validate() override {
    std::int64_t vnb = vb_->batches_per_epoch(o_.batch_size);
    if (o_.max_valid_batches > 0) vnb = std::min(vnb, o_.max_valid_batches);
    double sum = 0.0;
    std::int64_t count = 0;
    for (std::int64_t b = 0; b < vnb; ++b) {
      const std::int64_t n = vb_->batch(b, o_.batch_size, x_, y_);
      sum += static_cast<double>(impl_.loss.forward(impl_.forward(x_), y_)) * static_cast<double>(n);
      count += n;
    }
    return sum / static_cast<double>(count);
  }

 private:
  static optim::AdamOptions adam_options(double lr) {
    optim::AdamOptions ao;
    ao.lr = lr;
    return ao;
  }

  ArcnnImpl& impl_;
  const ArcnnFitOptions& o_;
  data::PairBatcher tb_;
  std::unique_ptr<data::PairBatcher> vb_;
  optim::Adam adam_;
  Tensor x_, y_;
};

}  // namespace

FitResult ARCNN::fit(const data::WindowSet& train, const data::WindowSet& valid, const ArcnnFitOptions& o,
                     const FitCallbacks& cb) {
  const char* who = "ARCNN::fit";
  if (o.epochs < 0) throw InvalidArgument(std::string(who) + ": epochs must be >= 0");
  if (o.batch_size < 1) throw InvalidArgument(std::string(who) + ": batch_size must be >= 1");
  if (!(o.lr > 0.0)) throw InvalidArgument(std::string(who) + ": lr must be > 0");
  if (o.max_steps < 0 || o.max_steps_per_epoch < 0 || o.max_valid_batches < 0)
    throw InvalidArgument(std::string(who) + ": step limits must be >= 0");
  if (train.count() == 0) throw InvalidArgument(std::string(who) + ": no training windows");
  if (train.steps() % (std::int64_t{1} << impl_->config.levels) != 0)
    throw InvalidArgument(std::string(who) + ": window length must be a multiple of 2^levels");
  ArcnnTask task(*impl_, train, valid, o);
  return run_training(task, o, cb, who);
}

}  // namespace partita::models
