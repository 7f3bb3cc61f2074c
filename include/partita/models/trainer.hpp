// The training loop every partita model uses: epochs or a step budget,
// validation, callbacks, history, checkpoints with exact resume.
//
// A model plugs in through TrainTask, which owns everything model-specific: how
// one training step goes (one optimizer step for the AR-CNN; several critic
// steps and a generator step for a GAN; a segment with the memory carried over
// for a Transformer-XL), which optimizers exist, how validation is computed,
// and which extra state a checkpoint needs. run_training() owns the rest:
//
//   for each epoch e (from 0, or after the checkpoint's epoch when resuming):
//     task.set_training(true); n = task.begin_epoch(e) (capped by max_steps_per_epoch)
//     for step b in 0..n-1: losses = task.train_step(e, b, rng(seed, global step))
//                           -> callbacks.on_step (false: stop now, epoch not recorded)
//                           -> stop after this step once max_steps is reached
//     task.end_epoch(e); if task.has_validation(): eval mode, task.validate()
//     best = lowest validation loss (training loss without validation)
//     checkpoints: <dir>/last.safetensors (+ optimizer states), <dir>/best.safetensors
//     callbacks.on_epoch(info); callbacks.should_stop(info) ends the run
//
// Randomness: train_step gets a Generator seeded from (seed, global step) alone,
// so the loop itself carries no RNG state between steps; a task that keeps its
// own random streams (dropout masks, shuffling) must derive them from
// (seed, epoch) in begin_epoch, or save them with save_state. A resumed run then
// repeats the uninterrupted one exactly (checkpoints are written at epoch ends).
//
// Checkpoint files (when FitOptions::checkpoint_dir is set), each atomic:
//   last.safetensors   a model file (model_file.hpp) of task.parameter_sets() with
//                      metadata "checkpoint.step" (global step), "checkpoint.optimizers",
//                      "epoch" (last complete epoch), "seed", "best_valid_loss",
//                      "best_epoch", "history" (JSON list of epochs) and the
//                      task's save_state() keys;
//   last.optim[-<name>].step<k>.safetensors  each optimizer's state at step k
//                      (optim/checkpoint.hpp; written before last.safetensors);
//   best.safetensors   a model file of the best epoch's weights (same metadata
//                      less the checkpoint.* keys): loadable as the model.
// Checkpoint folders of the earlier single-optimizer layout (last.safetensors
// without "checkpoint.optimizers", beside optim-epoch<k>.safetensors) resume too.
// The training mode the caller had is restored on every exit, exceptions included.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "partita/core/random.hpp"
#include "partita/nn/parameters.hpp"
#include "partita/optim/checkpoint.hpp"
#include "partita/optim/safetensors.hpp"

namespace partita::models {

/// Named loss values of one step, in a fixed order: {"loss", l} for a one-loss
/// model; a GAN reports e.g. {"critic", c}, {"generator", g}. The first is the
/// main loss (averaged into EpochInfo::train_loss and StepInfo::loss).
using Losses = std::vector<std::pair<std::string, double>>;

/// Options of the loop (a model's options derive from this, e.g. ArcnnFitOptions).
struct FitOptions {
  int epochs = 10;
  std::int64_t max_steps = 0;            // total step budget (0: none); the epoch it ends in is recorded
  std::int64_t max_steps_per_epoch = 0;  // 0: the whole epoch (small values for demos)
  std::uint64_t seed = 0;                // the step RNG; tasks derive their streams from it
  std::string checkpoint_dir;            // "": no checkpoints. Else last/best files there
  bool resume = false;                   // continue from checkpoint_dir/last.safetensors if present
};

struct StepInfo {
  int epoch = 0;                   // 0-based
  std::int64_t step = 0;           // within the epoch, 0-based
  std::int64_t steps_in_epoch = 0;
  std::int64_t global_step = 0;    // steps so far (after this one)
  double loss = 0.0;               // losses[0].second
  Losses losses;
  /// The value named `name`; InvalidArgument if the step has none.
  double value(const std::string& name) const;
};

struct EpochInfo {
  int epoch = 0;
  std::int64_t steps = 0;    // steps run in this epoch
  double train_loss = 0.0;   // mean of the main loss over the epoch's steps
  Losses train_losses;       // mean of every named loss
  double valid_loss = 0.0;   // task.validate() in eval mode; NaN without validation
  bool best = false;         // new best (validation, else training) loss: best.safetensors
  double seconds = 0.0;
};

struct FitResult {
  std::vector<EpochInfo> history;  // every epoch, including resumed ones
  double best_valid_loss = 0.0;    // NaN when no epoch completed
  int best_epoch = -1;
  std::int64_t global_step = 0;
  bool stopped = false;            // a callback asked to stop
};

struct FitCallbacks {
  /// After every step; return false to stop after this step (the epoch is not recorded).
  std::function<bool(const StepInfo&)> on_step;
  /// After every epoch (after validation and checkpoints).
  std::function<void(const EpochInfo&)> on_epoch;
  /// After on_epoch; return true to end the run there (early stopping).
  std::function<bool(const EpochInfo&)> should_stop;
};

/// What a model supplies to run_training().
class TrainTask {
 public:
  virtual ~TrainTask() = default;

  // The model.
  virtual std::string kind() const = 0;         // model-file kind, e.g. "arcnn"
  virtual std::string config_json() const = 0;  // the model's config (model file "config")
  /// The weights saved in checkpoints and best.safetensors (one set for most
  /// models; a GAN's generator and critic; names unique across the sets).
  virtual std::vector<nn::ParameterSet*> parameter_sets() = 0;
  /// Every optimizer whose state a checkpoint holds (name "" for a single one).
  virtual std::vector<optim::NamedOptimizer> optimizers() = 0;
  virtual void set_training(bool training) = 0;
  virtual bool training() const = 0;

  // The loop.
  /// Prepare epoch `epoch` (shuffle, reseed dropout); returns its number of steps (>= 1).
  virtual std::int64_t begin_epoch(int epoch) = 0;
  /// One training step (optimizer updates included); the returned losses must be finite.
  virtual Losses train_step(int epoch, std::int64_t step, Generator& rng) = 0;
  /// After the epoch's steps, before validation (e.g. BatchNorm recalibration).
  virtual void end_epoch(int /*epoch*/) {}
  virtual bool has_validation() const { return false; }
  /// The validation loss; called in eval mode.
  virtual double validate() { return 0.0; }

  // Exact resume of state beyond weights and optimizers (e.g. carried memory).
  virtual void save_state(optim::Metadata& /*metadata*/) const {}
  virtual void load_state(const optim::Metadata& /*metadata*/) {}
};

/// Restores a task's (or any object's) training mode when it goes out of scope.
class TrainingModeGuard {
 public:
  TrainingModeGuard(std::function<void(bool)> set, bool was) : set_(std::move(set)), was_(was) {}
  explicit TrainingModeGuard(TrainTask& task)
      : TrainingModeGuard([&task](bool t) { task.set_training(t); }, task.training()) {}
  ~TrainingModeGuard() { set_(was_); }
  TrainingModeGuard(const TrainingModeGuard&) = delete;
  TrainingModeGuard& operator=(const TrainingModeGuard&) = delete;

 private:
  std::function<void(bool)> set_;
  bool was_;
};

/// Run the loop (see the top of this file). `who` names the caller in errors.
/// InvalidArgument on bad options; IoError if the checkpoint folder cannot be
/// made; WeightsError if a checkpoint to resume from is inconsistent (a
/// different kind, config, seed or parameter set); Error when a loss is not finite.
FitResult run_training(TrainTask& task, const FitOptions& options, const FitCallbacks& callbacks = {},
                       const char* who = "run_training");

/// The Generator train_step gets at `global_step` (0-based) for `seed`.
Generator step_generator(std::uint64_t seed, std::int64_t global_step);

}  // namespace partita::models
