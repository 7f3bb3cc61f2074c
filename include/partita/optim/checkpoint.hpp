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
#pragma once
#include <string>

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

}  // namespace partita::optim
