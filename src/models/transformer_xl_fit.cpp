// TransformerXL::fit: the memory-carrying training step as a TrainTask of the
// shared loop (trainer.hpp).
//
// One step: the batcher's next segment per row (data::SegmentBatcher); rows that
// start a piece have their memory cleared; loss and gradients with the memory
// carried; clip to clip_norm; Adam at the inverse-sqrt schedule's rate for its
// step count. An epoch lays the pieces out in an order drawn from (seed, epoch),
// reseeds dropout from (seed, epoch) and starts with an empty memory, so the
// state a resumed run needs is the weights and Adam's (checkpoints are written at
// epoch ends): it repeats the uninterrupted run bit for bit.
// Validation: NLL per target token over the validation pieces in order, in eval
// mode, with a memory of its own.
#include <algorithm>
#include <cmath>
#include <memory>

#include "models/transformer_xl_impl.hpp"
#include "partita/core/error.hpp"
#include "partita/optim/adam.hpp"
#include "partita/optim/schedule.hpp"

namespace partita::models {

namespace {

std::uint64_t epoch_seed(std::uint64_t seed, int epoch, std::uint64_t stream) {
  return (seed * 1000003ULL + static_cast<std::uint64_t>(epoch)) ^ (stream * 0x9e3779b97f4a7c15ULL);
}

// InvalidArgument naming the piece of `streams` (`what`: "training piece", ...)
// that holds an id outside 0..vocab-1, before any step runs.
void check_token_ids(const data::TokenStreams& streams, std::int32_t vocab, const char* who, const char* what) {
  for (std::size_t p = 0; p < streams.pieces.size(); ++p)
    for (std::int32_t id : streams.pieces[p])
      if (id < 0 || id >= vocab)
        throw InvalidArgument(std::string(who) + ": " + what + " " + std::to_string(p) + " holds token " +
                              std::to_string(id) + " outside 0.." + std::to_string(vocab - 1));
}

class TransformerXLTask final : public TrainTask {
 public:
  TransformerXLTask(TransformerXL& model, TransformerXLImpl& impl, const data::TokenStreams& train,
                    const data::TokenStreams& valid, const TransformerXLFitOptions& o)
      : model_(model), m_(impl), o_(o), tb_(train, o.batch_size, impl.config.segment, kTxlPad),
        adam_(impl.params, optim::AdamOptions{o.lr, o.beta1, o.beta2}), schedule_(o.lr, o.warmup_steps, o.lr_floor) {
    if (valid.total_targets() > 0) valid_ = &valid;
  }

  std::string kind() const override { return "transformer_xl"; }
  std::string config_json() const override { return m_.config.to_json(); }
  std::vector<nn::ParameterSet*> parameter_sets() override { return {&m_.params}; }
  std::vector<optim::NamedOptimizer> optimizers() override { return {{"", &adam_, &m_.params}}; }
  void set_training(bool t) override { m_.set_training(t); }
  bool training() const override { return m_.training; }

  std::int64_t begin_epoch(int epoch) override {
    tb_.shuffle(epoch_seed(o_.seed, epoch, 1));
    m_.reseed_dropout(epoch_seed(o_.seed, epoch, 2));
    memory_.clear();
    return tb_.steps();
  }

  Losses train_step(int epoch, std::int64_t step, Generator& /*rng: order and dropout come from (seed, epoch)*/) override {
    tb_.batch(step, batch_);
    for (std::size_t b = 0; b < batch_.new_piece.size(); ++b)
      if (batch_.new_piece[b] && memory_.batch() > 0) memory_.clear_row(static_cast<std::int64_t>(b));
    const float loss = model_.loss_and_backward(batch_.inputs, batch_.targets, memory_);
    if (!std::isfinite(loss))  // before the update: the weights stay as they were
      throw Error("TransformerXL::fit: the loss became " + std::to_string(loss) + " at epoch " +
                  std::to_string(epoch) + " step " + std::to_string(step) + " (lower the lr)");
    const double norm = o_.clip_norm > 0.0 ? optim::clip_grad_norm(m_.params, o_.clip_norm) : optim::grad_norm(m_.params);
    const double lr = schedule_.lr(adam_.step_count() + 1);
    adam_.set_lr(lr);
    adam_.step();
    return {{"loss", static_cast<double>(loss)}, {"lr", lr}, {"grad_norm", norm}};
  }

  bool has_validation() const override { return valid_ != nullptr; }

  double validate() override {
    return model_.evaluate_nll(*valid_, o_.batch_size, o_.max_valid_batches);
  }

 private:
  TransformerXL& model_;
  TransformerXLImpl& m_;
  const TransformerXLFitOptions& o_;
  data::SegmentBatcher tb_;
  const data::TokenStreams* valid_ = nullptr;
  optim::Adam adam_;
  optim::InverseSqrtSchedule schedule_;
  TransformerXLMemory memory_;
  data::SegmentBatch batch_;
};

}  // namespace

double TransformerXL::evaluate_nll(const data::TokenStreams& streams, std::int64_t batch_size,
                                   std::int64_t max_batches, std::int64_t* counted) {
  if (batch_size < 1 || max_batches < 0)
    throw InvalidArgument("TransformerXL::evaluate_nll: need batch_size >= 1 and max_batches >= 0");
  if (counted) *counted = 0;
  check_token_ids(streams, impl_->config.vocab, "TransformerXL::evaluate_nll", "piece");
  if (streams.total_targets() == 0) return 0.0;
  data::SegmentBatcher batcher(streams, batch_size, impl_->config.segment, kTxlPad);
  std::int64_t steps = batcher.steps();
  if (max_batches > 0) steps = std::min(steps, max_batches);
  TransformerXLMemory memory;
  data::SegmentBatch batch;
  double sum = 0.0;
  std::int64_t count = 0;
  for (std::int64_t s = 0; s < steps; ++s) {
    batcher.batch(s, batch);
    for (std::size_t b = 0; b < batch.new_piece.size(); ++b)
      if (batch.new_piece[b] && memory.batch() > 0) memory.clear_row(static_cast<std::int64_t>(b));
    std::int64_t n = 0;
    const float loss = evaluate_loss(batch.inputs, batch.targets, memory, &n);
    sum += static_cast<double>(loss) * static_cast<double>(n);
    count += n;
  }
  if (counted) *counted = count;
  return count > 0 ? sum / static_cast<double>(count) : 0.0;
}

FitResult TransformerXL::fit(const data::TokenStreams& train, const data::TokenStreams& valid,
                             const TransformerXLFitOptions& o, const FitCallbacks& cb) {
  const char* who = "TransformerXL::fit";
  if (o.epochs < 0) throw InvalidArgument(std::string(who) + ": epochs must be >= 0");
  if (o.batch_size < 1) throw InvalidArgument(std::string(who) + ": batch_size must be >= 1");
  if (!(o.lr > 0.0) || !(o.lr_floor >= 0.0)) throw InvalidArgument(std::string(who) + ": lr must be > 0, lr_floor >= 0");
  if (o.warmup_steps < 1) throw InvalidArgument(std::string(who) + ": warmup_steps must be >= 1");
  if (!(o.beta1 >= 0.0 && o.beta1 < 1.0 && o.beta2 >= 0.0 && o.beta2 < 1.0))
    throw InvalidArgument(std::string(who) + ": beta1 and beta2 must be in [0, 1)");
  if (!(o.clip_norm >= 0.0)) throw InvalidArgument(std::string(who) + ": clip_norm must be >= 0");
  if (o.max_steps < 0 || o.max_steps_per_epoch < 0 || o.max_valid_batches < 0)
    throw InvalidArgument(std::string(who) + ": step limits must be >= 0");
  if (train.total_targets() == 0)
    throw InvalidArgument(std::string(who) + ": no training piece has two or more tokens");
  check_token_ids(train, impl_->config.vocab, who, "training piece");
  check_token_ids(valid, impl_->config.vocab, who, "validation piece");
  TransformerXLTask task(*this, *impl_, train, valid, o);
  return run_training(task, o, cb, who);
}

}  // namespace partita::models
