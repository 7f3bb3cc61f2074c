// Training checkpoints: a model's weights plus its optimizer state, resumable.
//
// A checkpoint is two safetensors files written atomically, one after the other:
//   <stem>.safetensors        the weights (twin layout; loads into PyTorch as is)
//   <stem>.optim.safetensors  the Adam state (moments, step, hyper-parameters)
// Both carry "checkpoint.step" (the optimizer's step count) in their metadata;
// load_checkpoint refuses a pair whose steps differ (a crash between the two
// writes), so training never resumes with moments that belong to other weights.
// The state file is written first: after a crash the weights file on disk is the
// previous complete one and the mismatch is reported rather than silently used.
//
// Checkpoints with any number of named optimizers (a GAN's critic and generator,
// the training loop of models/trainer.hpp) keep each state in a file tagged with
// the step, written before the weights file that names that step:
//   <stem>.safetensors                     weights; "checkpoint.step": k,
//                                          "checkpoint.optimizers": names, comma-separated
//   <stem>.optim[-<name>].step<k>.safetensors   each optimizer's state at step k
// so whenever a run is killed, the weights file on disk names states that are all
// complete; the previous step's state files are removed after the weights file is
// replaced.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "partita/nn/parameters.hpp"
#include "partita/optim/adam.hpp"
#include "partita/optim/safetensors.hpp"

namespace partita::optim {

/// "run/ckpt.safetensors" -> "run/ckpt.optim.safetensors"; any other name gets ".optim" appended.
std::string optimizer_state_path(const std::string& weights_path);

/// Write weights (with `metadata`) and optimizer state for `weights_path`.
void save_checkpoint(const std::string& weights_path, const nn::ParameterSet& params, const Adam& optimizer,
                     const Metadata& metadata = {});

/// Load both files (strict weights load). Returns the weights file's report
/// (its metadata included). WeightsError when the state file is missing or its
/// step differs from the weights file's; nothing is modified then.
LoadReport load_checkpoint(const std::string& weights_path, nn::ParameterSet& params, Adam& optimizer);

/// Several parameter sets in one safetensors file (a GAN's generator and
/// critic): every parameter under its own name, which must be unique across the
/// sets. InvalidArgument on a duplicate name.
void save_safetensors_sets(const std::string& path, const std::vector<const nn::ParameterSet*>& sets,
                           const Metadata& metadata = {});
/// Strict load of such a file: every parameter of every set present with its
/// shape, no other tensor; checked before anything is modified (WeightsError).
LoadReport load_safetensors_sets(const std::string& path, const std::vector<nn::ParameterSet*>& sets);

/// An optimizer of a multi-optimizer checkpoint: name "" (a model's only
/// optimizer) or letters, digits, '_' and '-'; `params` is the set it updates
/// (its state is checked against it before anything is loaded).
struct NamedOptimizer {
  std::string name;
  Adam* optimizer = nullptr;
  nn::ParameterSet* params = nullptr;
};

/// "run/last.safetensors", "critic", 12 -> "run/last.optim-critic.step12.safetensors"
/// (name "": "run/last.optim.step12.safetensors").
std::string optimizer_state_path(const std::string& weights_path, const std::string& name, std::int64_t step);

/// Write every optimizer's state at `step`, then the weights of `sets` with
/// `metadata`, then remove the state files of the step the previous weights
/// file named.
void save_checkpoint(const std::string& weights_path, const std::vector<const nn::ParameterSet*>& sets,
                     const std::vector<NamedOptimizer>& optimizers, std::int64_t step,
                     const Metadata& metadata = {});

/// Load the weights and every optimizer's state, all checked before any is
/// modified (the same optimizer names, states of the weights' step that fit the
/// parameters). Returns the weights file's report (metadata with
/// "checkpoint.step"). WeightsError naming the file and the cause otherwise.
LoadReport load_checkpoint(const std::string& weights_path, const std::vector<nn::ParameterSet*>& sets,
                           const std::vector<NamedOptimizer>& optimizers);

}  // namespace partita::optim
