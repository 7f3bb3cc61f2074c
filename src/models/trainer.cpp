// run_training: the loop of trainer.hpp (epochs, validation, callbacks, checkpoints, resume).
#include "partita/models/trainer.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sys/stat.h>

#include "partita/core/error.hpp"
#include "partita/models/model_file.hpp"
#include "partita/optim/adam.hpp"
#include "partita/optim/json.hpp"

namespace partita::models {

namespace {

std::string exact(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

json::Value number_or_null(double v) { return std::isfinite(v) ? json::Value(v) : json::Value(); }

std::string history_json(const std::vector<EpochInfo>& h) {
  json::Value a = json::Value::array();
  for (const auto& e : h) {
    json::Value o = json::Value::object();
    o.set("epoch", e.epoch);
    o.set("steps", e.steps);
    o.set("train_loss", number_or_null(e.train_loss));
    json::Value losses = json::Value::array();
    for (const auto& [name, v] : e.train_losses) {
      json::Value pair = json::Value::array();
      pair.push_back(name);
      pair.push_back(number_or_null(v));
      losses.push_back(std::move(pair));
    }
    o.set("train_losses", std::move(losses));
    o.set("valid_loss", number_or_null(e.valid_loss));
    o.set("best", e.best);
    o.set("seconds", e.seconds);
    a.push_back(std::move(o));
  }
  return a.dump();
}

double number_of(const json::Value* v) { return v && !v->is_null() ? v->as_double() : std::nan(""); }

// Also reads the history of checkpoints written before "steps", "train_losses"
// and "best" were recorded.
std::vector<EpochInfo> parse_history(const std::string& s, const std::string& where) {
  std::vector<EpochInfo> out;
  try {
    json::Value a = json::parse(s, where);
    for (const auto& o : a.as_array()) {
      EpochInfo e;
      e.epoch = static_cast<int>(o.find("epoch")->as_int());
      if (const json::Value* st = o.find("steps")) e.steps = st->as_int();
      e.train_loss = number_of(o.find("train_loss"));
      if (const json::Value* l = o.find("train_losses"))
        for (const auto& pair : l->as_array())
          e.train_losses.emplace_back(pair.as_array().at(0).as_string(), number_of(&pair.as_array().at(1)));
      else
        e.train_losses = {{"loss", e.train_loss}};
      e.valid_loss = number_of(o.find("valid_loss"));
      if (const json::Value* b = o.find("best")) e.best = b->as_bool();
      e.seconds = number_of(o.find("seconds"));
      out.push_back(std::move(e));
    }
  } catch (const WeightsError&) {
    throw;
  } catch (const std::exception& e) {
    throw WeightsError(where + ": bad \"history\" metadata: " + e.what());
  }
  return out;
}

std::string get(const optim::Metadata& md, const char* key, const std::string& path, const char* who) {
  auto it = md.find(key);
  if (it == md.end()) throw WeightsError(std::string(who) + ": " + path + " lacks \"" + key + "\" metadata");
  return it->second;
}

bool file_exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

}  // namespace

double StepInfo::value(const std::string& name) const {
  for (const auto& [n, v] : losses)
    if (n == name) return v;
  std::string have;
  for (const auto& l : losses) have += (have.empty() ? "" : ", ") + l.first;
  throw InvalidArgument("StepInfo::value: no loss named '" + name + "' (this step has " + have + ")");
}

Generator step_generator(std::uint64_t seed, std::int64_t global_step) {
  Generator g(seed ^ 0x7261696e5f737465ULL);  // "rain_ste": a stream apart from the tasks' own
  return g.split(static_cast<std::uint64_t>(global_step));
}

FitResult run_training(TrainTask& task, const FitOptions& o, const FitCallbacks& cb, const char* who) {
  const std::string w = who;
  if (o.epochs < 0) throw InvalidArgument(w + ": epochs must be >= 0");
  if (o.max_steps < 0 || o.max_steps_per_epoch < 0) throw InvalidArgument(w + ": step limits must be >= 0");
  const std::string dir = o.checkpoint_dir;
  if (!dir.empty()) {
    ::mkdir(dir.c_str(), 0755);
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      throw IoError(w + ": cannot create checkpoint folder " + dir);
  }
  const std::string last_path = dir + "/last.safetensors", best_path = dir + "/best.safetensors";
  const std::vector<nn::ParameterSet*> sets = task.parameter_sets();
  const std::vector<const nn::ParameterSet*> csets(sets.begin(), sets.end());
  const std::vector<optim::NamedOptimizer> optimizers = task.optimizers();

  TrainingModeGuard mode(task);  // the caller's mode comes back on every exit
  FitResult res;
  res.best_valid_loss = std::numeric_limits<double>::infinity();
  int start = 0;
  if (o.resume && !dir.empty() && file_exists(last_path)) {
    const ModelFileHeader h = read_model_header(last_path, task.kind(), who);
    if (h.config != task.config_json())
      throw WeightsError(w + ": " + last_path + " was saved for config " + h.config + ", this model is " +
                         task.config_json());
    const std::string seed = get(h.metadata, "seed", last_path, who);
    if (seed != std::to_string(o.seed))
      throw WeightsError(w + ": " + last_path + " was trained with seed " + seed + ", this run has seed " +
                         std::to_string(o.seed) + " (resume with the same seed, or start afresh)");
    const int done = std::stoi(get(h.metadata, "epoch", last_path, who));
    const std::string legacy = dir + "/optim-epoch" + std::to_string(done) + ".safetensors";
    optim::Metadata md;
    if (!h.metadata.count("checkpoint.optimizers") && optimizers.size() == 1 && file_exists(legacy)) {
      // The layout partita wrote before this loop: optim-epoch<k>.safetensors beside the weights.
      optim::Adam probe(*optimizers[0].params, optimizers[0].optimizer->options());
      probe.load_state(legacy);
      md = optim::load_safetensors_sets(last_path, sets).metadata;
      optimizers[0].optimizer->load_state(legacy);
      res.global_step = optimizers[0].optimizer->step_count();
    } else {
      md = optim::load_checkpoint(last_path, sets, optimizers).metadata;
      res.global_step = std::stoll(get(md, "checkpoint.step", last_path, who));
    }
    start = done + 1;
    res.history = parse_history(get(md, "history", last_path, who), last_path);
    res.best_valid_loss = std::stod(get(md, "best_valid_loss", last_path, who));
    res.best_epoch = std::stoi(get(md, "best_epoch", last_path, who));
    if (!std::isfinite(res.best_valid_loss)) res.best_valid_loss = std::numeric_limits<double>::infinity();
    task.load_state(md);
  }

  const bool budget = o.max_steps > 0;
  for (int epoch = start; epoch < o.epochs && !res.stopped; ++epoch) {
    if (budget && res.global_step >= o.max_steps) break;
    const auto t0 = std::chrono::steady_clock::now();
    task.set_training(true);
    std::int64_t nb = task.begin_epoch(epoch);
    if (o.max_steps_per_epoch > 0) nb = std::min(nb, o.max_steps_per_epoch);
    Losses sums;
    std::int64_t done = 0;
    for (std::int64_t b = 0; b < nb; ++b) {
      Generator rng = step_generator(o.seed, res.global_step);
      Losses losses = task.train_step(epoch, b, rng);
      if (losses.empty()) throw Error(w + ": the step at epoch " + std::to_string(epoch) + " reported no loss");
      for (const auto& [name, v] : losses)
        if (!std::isfinite(v))
          throw Error(w + ": the loss '" + name + "' became " + std::to_string(v) + " at epoch " +
                      std::to_string(epoch) + " step " + std::to_string(b) + " (lower the lr)");
      ++res.global_step;
      ++done;
      if (sums.empty()) sums = losses;
      else
        for (size_t i = 0; i < sums.size() && i < losses.size(); ++i) sums[i].second += losses[i].second;
      StepInfo info{epoch, b, nb, res.global_step, losses.front().second, std::move(losses)};
      if (cb.on_step && !cb.on_step(info)) {
        res.stopped = true;
        break;
      }
      if (budget && res.global_step >= o.max_steps) break;
    }
    if (res.stopped) break;  // a partial epoch is not recorded or checkpointed
    EpochInfo info;
    info.epoch = epoch;
    info.steps = done;
    for (auto& s : sums) s.second /= static_cast<double>(done);
    info.train_losses = sums;
    info.train_loss = done ? sums.front().second : std::nan("");
    info.valid_loss = std::nan("");
    task.end_epoch(epoch);
    if (task.has_validation()) {
      task.set_training(false);
      info.valid_loss = task.validate();
      task.set_training(true);
    }
    const double score = task.has_validation() ? info.valid_loss : info.train_loss;
    if (score < res.best_valid_loss) {
      res.best_valid_loss = score;
      res.best_epoch = epoch;
      info.best = true;
    }
    info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    res.history.push_back(info);
    if (!dir.empty()) {
      optim::Metadata md = model_metadata(task.kind(), task.config_json(),
                                          {{"epoch", std::to_string(epoch)},
                                           {"best_valid_loss", exact(res.best_valid_loss)},
                                           {"best_epoch", std::to_string(res.best_epoch)},
                                           {"history", history_json(res.history)},
                                           {"seed", std::to_string(o.seed)}});
      if (info.best) optim::save_safetensors_sets(best_path, csets, md);
      task.save_state(md);
      optim::save_checkpoint(last_path, csets, optimizers, res.global_step, md);
    }
    if (cb.on_epoch) cb.on_epoch(info);
    if (cb.should_stop && cb.should_stop(info)) res.stopped = true;
  }
  if (!std::isfinite(res.best_valid_loss)) res.best_valid_loss = std::nan("");
  return res;
}

}  // namespace partita::models
