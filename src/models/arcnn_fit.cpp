// ARCNN::fit: epochs of shuffled training pairs, Adam, validation, checkpoints.
//
// Checkpoints (when FitOptions::checkpoint_dir is set), written after every
// epoch, each file atomically (temporary file + rename):
//   optim-epoch<k>.safetensors  Adam moments and step count after epoch k
//   last.safetensors            weights after epoch k; metadata: epoch, best
//                               validation loss and epoch, history (JSON)
//   best.safetensors            weights of the best validation loss so far
// The optimizer file of epoch k is written before last.safetensors names epoch
// k, so whichever moment a run is killed, last.safetensors points to a complete
// pair; the previous epoch's optimizer file is removed afterwards. Training pairs
// and dropout masks depend only on (seed, epoch), so a resumed run continues
// exactly as the uninterrupted one would have.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sys/stat.h>

#include "models/arcnn_impl.hpp"
#include "partita/core/error.hpp"
#include "partita/optim/adam.hpp"
#include "partita/optim/json.hpp"
#include "partita/optim/safetensors.hpp"

namespace partita::models {

static bool file_exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

static std::string history_json(const std::vector<EpochInfo>& h) {
  json::Value a = json::Value::array();
  for (const auto& e : h) {
    json::Value o = json::Value::object();
    o.set("epoch", e.epoch);
    o.set("train_loss", e.train_loss);
    o.set("valid_loss", std::isfinite(e.valid_loss) ? json::Value(e.valid_loss) : json::Value());
    o.set("seconds", e.seconds);
    a.push_back(std::move(o));
  }
  return a.dump();
}

static std::vector<EpochInfo> parse_history(const std::string& s) {
  std::vector<EpochInfo> out;
  json::Value a = json::parse(s, "ARCNN::fit: checkpoint history");
  for (const auto& o : a.as_array()) {
    EpochInfo e;
    e.epoch = static_cast<int>(o.find("epoch")->as_int());
    e.train_loss = o.find("train_loss")->as_double();
    const json::Value* v = o.find("valid_loss");
    e.valid_loss = v && !v->is_null() ? v->as_double() : std::nan("");
    e.seconds = o.find("seconds")->as_double();
    out.push_back(e);
  }
  return out;
}

FitResult ARCNN::fit(const data::WindowSet& train, const data::WindowSet& valid,
                     const FitOptions& o, const FitCallbacks& cb) {
  const char* who = "ARCNN::fit";
  if (o.epochs < 0) throw InvalidArgument(std::string(who) + ": epochs must be >= 0");
  if (o.batch_size < 1) throw InvalidArgument(std::string(who) + ": batch_size must be >= 1");
  if (!(o.lr > 0.0)) throw InvalidArgument(std::string(who) + ": lr must be > 0");
  if (o.max_steps_per_epoch < 0 || o.max_valid_batches < 0)
    throw InvalidArgument(std::string(who) + ": step limits must be >= 0");
  if (train.count() == 0) throw InvalidArgument(std::string(who) + ": no training windows");
  if (train.steps() % (std::int64_t{1} << impl_->config.levels) != 0)
    throw InvalidArgument(std::string(who) + ": window length must be a multiple of 2^levels");
  if (!o.checkpoint_dir.empty()) {
    ::mkdir(o.checkpoint_dir.c_str(), 0755);
    struct stat st;
    if (::stat(o.checkpoint_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      throw IoError(std::string(who) + ": cannot create checkpoint folder " + o.checkpoint_dir);
  }
  const std::string dir = o.checkpoint_dir;
  const std::string last_path = dir + "/last.safetensors", best_path = dir + "/best.safetensors";
  auto optim_path = [&](int e) { return dir + "/optim-epoch" + std::to_string(e) + ".safetensors"; };

  data::PairBatcher tb(train, o.pairs, o.seed, true);
  std::unique_ptr<data::PairBatcher> vb;
  if (valid.count() > 0) vb = std::make_unique<data::PairBatcher>(valid, o.pairs, o.seed ^ 0x5eedULL, false);
  optim::AdamOptions ao;
  ao.lr = o.lr;
  optim::Adam adam(impl_->params, ao);

  FitResult res;
  res.best_valid_loss = std::numeric_limits<double>::infinity();
  int start = 0;
  if (o.resume && !dir.empty() && file_exists(last_path)) {
    load_weights(last_path);
    optim::SafetensorsReader r(last_path);
    const auto& md = r.metadata();
    auto get = [&](const char* k) {
      auto it = md.find(k);
      if (it == md.end())
        throw WeightsError(std::string(who) + ": " + last_path + " lacks \"" + k + "\" metadata");
      return it->second;
    };
    const int done = std::stoi(get("epoch"));
    adam.load_state(optim_path(done));
    adam.set_lr(o.lr);
    res.history = parse_history(get("history"));
    res.best_valid_loss = std::stod(get("best_valid_loss"));
    res.best_epoch = std::stoi(get("best_epoch"));
    if (!std::isfinite(res.best_valid_loss)) res.best_valid_loss = std::numeric_limits<double>::infinity();
    start = done + 1;
  }

  Tensor x, y;
  const bool was_training = impl_->training;
  std::int64_t global = adam.step_count();
  for (int epoch = start; epoch < o.epochs && !res.stopped; ++epoch) {
    auto t0 = std::chrono::steady_clock::now();
    impl_->reseed_dropout(o.seed * 1000003ULL + static_cast<std::uint64_t>(epoch));
    impl_->set_training(true);
    tb.start_epoch(epoch);
    std::int64_t nb = tb.batches_per_epoch(o.batch_size);
    if (o.max_steps_per_epoch > 0) nb = std::min(nb, o.max_steps_per_epoch);
    double sum = 0.0;
    std::int64_t done_steps = 0;
    for (std::int64_t b = 0; b < nb; ++b) {
      tb.batch(b, o.batch_size, x, y);
      impl_->params.zero_grad();
      const float loss = loss_and_backward(x, y);
      if (!std::isfinite(loss))
        throw Error(std::string(who) + ": the loss became " + std::to_string(loss) + " at epoch " +
                    std::to_string(epoch) + " step " + std::to_string(b) + " (lower the lr)");
      adam.step();
      ++global;
      sum += loss;
      ++done_steps;
      if (cb.on_step && !cb.on_step(StepInfo{epoch, b, nb, global, loss})) {
        res.stopped = true;
        break;
      }
    }
    if (res.stopped) break;  // a partial epoch is not checkpointed
    EpochInfo info;
    info.epoch = epoch;
    info.train_loss = done_steps ? sum / static_cast<double>(done_steps) : std::nan("");
    info.valid_loss = std::nan("");
    if (o.bn_recalibration_batches > 0) {
      const std::int64_t k = std::min(o.bn_recalibration_batches, tb.batches_per_epoch(o.batch_size));
      impl_->recalibrate_batchnorm(k, [&](std::int64_t b, Tensor& xb) { tb.batch(b, o.batch_size, xb, y); });
    }
    if (vb) {
      impl_->set_training(false);
      std::int64_t vnb = vb->batches_per_epoch(o.batch_size);
      if (o.max_valid_batches > 0) vnb = std::min(vnb, o.max_valid_batches);
      double vs = 0.0;
      std::int64_t count = 0;
      for (std::int64_t b = 0; b < vnb; ++b) {
        const std::int64_t n = vb->batch(b, o.batch_size, x, y);
        vs += static_cast<double>(impl_->loss.forward(impl_->forward(x), y)) * static_cast<double>(n);
        count += n;
      }
      info.valid_loss = vs / static_cast<double>(count);
      impl_->set_training(true);
    }
    const double score = vb ? info.valid_loss : info.train_loss;
    if (score < res.best_valid_loss) {
      res.best_valid_loss = score;
      res.best_epoch = epoch;
      info.best = true;
    }
    info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    res.history.push_back(info);
    if (!dir.empty()) {
      char best_buf[64];
      std::snprintf(best_buf, sizeof best_buf, "%.9g", res.best_valid_loss);
      std::vector<std::pair<std::string, std::string>> md = {
          {"epoch", std::to_string(epoch)},
          {"best_valid_loss", best_buf},
          {"best_epoch", std::to_string(res.best_epoch)},
          {"history", history_json(res.history)},
          {"seed", std::to_string(o.seed)}};
      adam.save_state(optim_path(epoch));
      if (info.best) save(best_path, md);
      save(last_path, md);
      if (epoch > 0) std::remove(optim_path(epoch - 1).c_str());
    }
    if (cb.on_epoch) cb.on_epoch(info);
  }
  impl_->set_training(was_training);
  if (!std::isfinite(res.best_valid_loss)) res.best_valid_loss = std::nan("");
  return res;
}

}  // namespace partita::models
