// Checkpoints = weights file + optimizer-state file with matching steps.
#include "partita/optim/checkpoint.hpp"

#include <cctype>
#include <cstdio>
#include <fstream>
#include <set>

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

namespace {

constexpr const char* kOptimizersKey = "checkpoint.optimizers";

void check_name(const std::string& name, const char* who) {
  for (char ch : name)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-'))
      throw InvalidArgument(std::string(who) + ": optimizer name '" + name +
                            "' may only hold letters, digits, '_' and '-'");
}

std::string names_of(const std::vector<NamedOptimizer>& optimizers, const char* who) {
  std::string s;
  for (size_t i = 0; i < optimizers.size(); ++i) {
    check_name(optimizers[i].name, who);
    if (!optimizers[i].optimizer || !optimizers[i].params)
      throw InvalidArgument(std::string(who) + ": optimizer '" + optimizers[i].name + "' or its parameters is null");
    for (size_t j = 0; j < i; ++j)
      if (optimizers[j].name == optimizers[i].name)
        throw InvalidArgument(std::string(who) + ": two optimizers are named '" + optimizers[i].name + "'");
    s += (i ? "," : "") + optimizers[i].name;
  }
  return s;
}

std::vector<std::string> split_names(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : s + ",")
    if (ch == ',') out.push_back(cur), cur.clear();
    else cur += ch;
  return out;
}

}  // namespace

void save_safetensors_sets(const std::string& path, const std::vector<const nn::ParameterSet*>& sets,
                           const Metadata& metadata) {
  if (sets.size() == 1) return save_safetensors(path, *sets[0], metadata);
  std::set<std::string> names;
  std::vector<std::vector<float>> scratch;
  std::vector<TensorRef> refs;
  for (const nn::ParameterSet* ps : sets) {
    if (!ps->allocated())
      throw InvalidArgument("save_safetensors_sets: '" + path + "': a ParameterSet is not allocated");
    for (const auto& p : ps->params()) {
      if (!names.insert(p.name).second)
        throw InvalidArgument("save_safetensors_sets: '" + path + "': two parameters are named '" + p.name + "'");
      scratch.emplace_back(static_cast<size_t>(p.value.size()));
      to_torch_layout(p, p.value.data(), scratch.back().data());
      refs.push_back(TensorRef{p.name, DType::F32, torch_shape(p), nullptr});
    }
  }
  for (size_t i = 0; i < refs.size(); ++i) refs[i].data = scratch[i].data();
  write_safetensors(path, refs, metadata);
}

LoadReport load_safetensors_sets(const std::string& path, const std::vector<nn::ParameterSet*>& sets) {
  if (sets.size() == 1) return load_safetensors(path, *sets[0], /*strict=*/true);
  const std::string where = "load_safetensors_sets: '" + path + "'";
  SafetensorsReader reader(path);
  std::set<std::string> names;
  for (nn::ParameterSet* ps : sets)
    for (const auto& p : ps->params()) {
      names.insert(p.name);
      const TensorInfo* t = reader.find(p.name);
      if (!t) throw WeightsError(where + ": strict load: missing tensor '" + p.name + "'");
      if (t->dtype != DType::F32 || t->shape != torch_shape(p))
        throw WeightsError(where + ": tensor '" + p.name + "': " + dtype_name(t->dtype) + " " +
                           shape_str(t->shape) + " in the file, the model expects F32 " +
                           shape_str(torch_shape(p)));
    }
  for (const auto& t : reader.tensors()) {
    const bool counter = t.name.size() >= 20 && t.name.compare(t.name.size() - 20, 20, ".num_batches_tracked") == 0;
    if (!names.count(t.name) && !counter)
      throw WeightsError(where + ": strict load: unexpected tensor '" + t.name + "'");
  }
  LoadReport all;
  all.metadata = reader.metadata();
  for (nn::ParameterSet* ps : sets) {
    LoadReport r = load_safetensors(path, *ps, /*strict=*/false);
    all.loaded.insert(all.loaded.end(), r.loaded.begin(), r.loaded.end());
  }
  return all;
}

std::string optimizer_state_path(const std::string& weights_path, const std::string& name, std::int64_t step) {
  std::string stem = weights_path;
  if (stem.size() > kExt.size() && stem.compare(stem.size() - kExt.size(), kExt.size(), kExt) == 0)
    stem.resize(stem.size() - kExt.size());
  return stem + ".optim" + (name.empty() ? "" : "-" + name) + ".step" + std::to_string(step) + kExt;
}

void save_checkpoint(const std::string& weights_path, const std::vector<const nn::ParameterSet*>& sets,
                     const std::vector<NamedOptimizer>& optimizers, std::int64_t step, const Metadata& metadata) {
  const std::string names = names_of(optimizers, "save_checkpoint");
  // The step the current weights file names: its state files go once it is replaced.
  std::int64_t previous = -1;
  std::vector<std::string> previous_names;
  if (std::ifstream(weights_path)) {
    try {
      const Metadata old = SafetensorsReader(weights_path).metadata();
      auto s = old.find(kStepKey);
      auto n = old.find(kOptimizersKey);
      if (s != old.end() && n != old.end()) {
        previous = std::stoll(s->second);
        previous_names = split_names(n->second);
      }
    } catch (const std::exception&) {
      previous = -1;  // an unreadable old file is simply replaced
    }
  }
  const std::string tag = std::to_string(step);
  for (const NamedOptimizer& o : optimizers)
    o.optimizer->save_state(optimizer_state_path(weights_path, o.name, step), {{kStepKey, tag}});
  Metadata md = metadata;
  md[kStepKey] = tag;
  md[kOptimizersKey] = names;
  save_safetensors_sets(weights_path, sets, md);
  if (previous >= 0 && previous != step)
    for (const std::string& n : previous_names)
      std::remove(optimizer_state_path(weights_path, n, previous).c_str());
}

LoadReport load_checkpoint(const std::string& weights_path, const std::vector<nn::ParameterSet*>& sets,
                           const std::vector<NamedOptimizer>& optimizers) {
  const char* who = "load_checkpoint";
  const std::string names = names_of(optimizers, who);
  const Metadata md = SafetensorsReader(weights_path).metadata();
  const std::string step = step_of(md, weights_path);
  auto n = md.find(kOptimizersKey);
  if (n == md.end())
    throw WeightsError(std::string(who) + ": '" + weights_path + "' has no \"" + kOptimizersKey +
                       "\" metadata (a checkpoint of another layout?)");
  if (n->second != names)
    throw WeightsError(std::string(who) + ": '" + weights_path + "' holds the optimizers [" + n->second +
                       "], the model has [" + names + "]");
  std::int64_t k = 0;
  try {
    k = std::stoll(step);
  } catch (const std::exception&) {
    throw WeightsError(std::string(who) + ": '" + weights_path + "' has a bad \"" + kStepKey + "\": " + step);
  }
  // Check every state file (presence, step, fit) before modifying anything.
  std::vector<std::string> paths;
  for (const NamedOptimizer& o : optimizers) {
    const std::string p = optimizer_state_path(weights_path, o.name, k);
    if (!std::ifstream(p))
      throw WeightsError(std::string(who) + ": optimizer state '" + p + "' for '" + weights_path + "' is missing");
    const std::string s = step_of(SafetensorsReader(p).metadata(), p);
    if (s != step)
      throw WeightsError(std::string(who) + ": '" + weights_path + "' is at step " + step + " but '" + p +
                         "' is at step " + s);
    Adam probe(*o.params, o.optimizer->options());
    probe.load_state(p);
    paths.push_back(p);
  }
  LoadReport report = load_safetensors_sets(weights_path, sets);
  for (size_t i = 0; i < optimizers.size(); ++i) optimizers[i].optimizer->load_state(paths[i]);
  return report;
}

}  // namespace partita::optim
