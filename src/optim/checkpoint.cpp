// Checkpoints = weights file + optimizer-state file with matching steps.
#include "partita/optim/checkpoint.hpp"

#include <fstream>

#include "partita/core/error.hpp"

namespace partita::optim {

namespace {
constexpr const char* kStepKey = "checkpoint.step";
const std::string kExt = ".safetensors";

std::string step_of(const Metadata& md, const std::string& path) {
  auto it = md.find(kStepKey);
  if (it == md.end())
    throw WeightsError("load_checkpoint: '" + path + "' has no \"" + kStepKey + "\" metadata (not a checkpoint?)");
  return it->second;
}
}  // namespace

std::string optimizer_state_path(const std::string& weights_path) {
  if (weights_path.size() > kExt.size() &&
      weights_path.compare(weights_path.size() - kExt.size(), kExt.size(), kExt) == 0)
    return weights_path.substr(0, weights_path.size() - kExt.size()) + ".optim" + kExt;
  return weights_path + ".optim";
}

void save_checkpoint(const std::string& weights_path, const nn::ParameterSet& params, const Adam& optimizer,
                     const Metadata& metadata) {
  const std::string step = std::to_string(optimizer.step_count());
  optimizer.save_state(optimizer_state_path(weights_path), {{kStepKey, step}});
  Metadata md = metadata;
  md[kStepKey] = step;
  save_safetensors(weights_path, params, md);
}

LoadReport load_checkpoint(const std::string& weights_path, nn::ParameterSet& params, Adam& optimizer) {
  const std::string state_path = optimizer_state_path(weights_path);
  if (!std::ifstream(state_path))
    throw WeightsError("load_checkpoint: optimizer state '" + state_path + "' for '" + weights_path +
                       "' is missing");
  const std::string wstep = step_of(SafetensorsReader(weights_path).metadata(), weights_path);
  const std::string sstep = step_of(SafetensorsReader(state_path).metadata(), state_path);
  if (wstep != sstep)
    throw WeightsError("load_checkpoint: '" + weights_path + "' is at step " + wstep + " but '" + state_path +
                       "' is at step " + sstep + " (interrupted save?)");
  // Validate the state against the parameters before touching the weights:
  // load_state is all-or-nothing, and so is the strict weights load.
  Adam probe(params, optimizer.options());
  probe.load_state(state_path);
  LoadReport report = load_safetensors(weights_path, params, /*strict=*/true);
  optimizer.load_state(state_path);
  return report;
}

}  // namespace partita::optim
