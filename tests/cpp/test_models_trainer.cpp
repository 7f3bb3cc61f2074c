// The shared training loop (models/trainer.hpp) and the model file format
// (models/model_file.hpp), on a tiny fake two-optimizer task shaped like a GAN
// step: a few "critic" updates, then one "generator" update, each its own
// parameter set and Adam.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <unistd.h>

#include "partita/core/error.hpp"
#include "partita/models/model_file.hpp"
#include "partita/models/trainer.hpp"
#include "partita/optim/adam.hpp"
#include "partita/optim/safetensors.hpp"

namespace fs = std::filesystem;
using namespace partita;
using namespace partita::models;

namespace {

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("partita_trainer_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// Pulls critic weights c (3 values) and generator weights g (2 values) towards
// targets drawn from the step's Generator: critic_steps Adam steps on
// 0.5 |c - t|^2, then one on 0.5 |g - t'|^2. Validation is scripted per epoch
// so the best epoch is known; a carried counter exercises save_state/load_state.
class FakeGanTask : public TrainTask {
 public:
  explicit FakeGanTask(std::uint64_t init_seed, int critic_steps = 5)
      : critic_steps_(critic_steps), critic_opt_(init(critic_, "critic.w", 3, init_seed)),
        gen_opt_(init(gen_, "generator.w", 2, init_seed + 1)) {}

  std::string kind() const override { return "fake_gan"; }
  std::string config_json() const override { return "{\"critic_steps\":" + std::to_string(critic_steps_) + "}"; }
  std::vector<nn::ParameterSet*> parameter_sets() override { return {&critic_, &gen_}; }
  std::vector<optim::NamedOptimizer> optimizers() override {
    return {{"critic", &critic_opt_, &critic_}, {"generator", &gen_opt_, &gen_}};
  }
  void set_training(bool t) override { training_ = t; }
  bool training() const override { return training_; }

  std::int64_t begin_epoch(int) override { return steps_per_epoch; }
  Losses train_step(int epoch, std::int64_t step, Generator& rng) override {
    EXPECT_TRUE(training_);
    if (epoch == throw_at_epoch && step == 1) throw std::runtime_error("boom");
    double closs = 0.0;
    for (int k = 0; k < critic_steps_; ++k) closs = pull(critic_, critic_opt_, rng);
    const double gloss = pull(gen_, gen_opt_, rng);
    ++carried;
    return {{"critic", closs}, {"generator", gloss}};
  }
  bool has_validation() const override { return true; }
  double validate() override {
    EXPECT_FALSE(training_);
    const double scripted[] = {3.0, 1.0, 2.0, 0.5, 0.75, 0.25};
    return scripted[validations++ % 6];
  }
  void save_state(optim::Metadata& md) const override {
    md["fake.carried"] = std::to_string(carried);
    md["fake.validations"] = std::to_string(validations);
  }
  void load_state(const optim::Metadata& md) override {
    carried = std::stoll(md.at("fake.carried"));
    validations = std::stoi(md.at("fake.validations"));
  }

  nn::ParameterSet critic_, gen_;
  std::int64_t steps_per_epoch = 3;
  int throw_at_epoch = -1;
  std::int64_t carried = 0;
  int validations = 0;

 private:
  static nn::ParameterSet& init(nn::ParameterSet& ps, const char* name, std::int64_t n, std::uint64_t seed) {
    ps.add(name, {n}, nn::init_uniform(-1.0f, 1.0f));
    ps.allocate(seed);
    return ps;
  }
  static double pull(nn::ParameterSet& ps, optim::Adam& opt, Generator& rng) {
    double loss = 0.0;
    ps.zero_grad();
    for (std::int64_t i = 0; i < ps.size(); ++i) {
      const double d = ps.values()[i] - rng.uniform(-2.0f, 2.0f);
      loss += 0.5 * d * d;
      ps.grads()[i] = static_cast<float>(d);
    }
    opt.step();
    return loss;
  }

  int critic_steps_;
  bool training_ = false;  // the caller's mode: eval
  optim::Adam critic_opt_, gen_opt_;
};

std::vector<float> weights(FakeGanTask& t) {
  std::vector<float> w;
  for (nn::ParameterSet* ps : t.parameter_sets())
    for (std::int64_t i = 0; i < ps->size(); ++i) w.push_back(ps->values()[i]);
  return w;
}

}  // namespace

TEST(Trainer, ResumeRepeatsTheUninterruptedRunBitForBit) {
  auto dir = temp_dir("resume");
  FitOptions o;
  o.epochs = 4;
  o.seed = 42;
  std::vector<StepInfo> steps;
  FitCallbacks cb;
  cb.on_step = [&](const StepInfo& s) {
    steps.push_back(s);
    return true;
  };
  FakeGanTask full(1);
  FitResult r = run_training(full, o, cb);
  ASSERT_EQ(r.history.size(), 4u);
  ASSERT_EQ(steps.size(), 12u);
  EXPECT_EQ(r.global_step, 12);
  EXPECT_EQ(steps[4].losses.size(), 2u);
  EXPECT_EQ(steps[4].losses[0].first, "critic");
  EXPECT_EQ(steps[4].value("generator"), steps[4].losses[1].second);
  EXPECT_EQ(steps[4].loss, steps[4].losses[0].second);
  EXPECT_THROW(steps[4].value("nope"), InvalidArgument);
  EXPECT_EQ(r.history[1].train_losses.size(), 2u);
  EXPECT_DOUBLE_EQ(r.history[1].train_loss,
                   (steps[3].loss + steps[4].loss + steps[5].loss) / 3.0);

  o.checkpoint_dir = (dir / "ck").string();
  FakeGanTask part(1);
  FitOptions o2 = o;
  o2.epochs = 2;
  run_training(part, o2);
  EXPECT_TRUE(fs::exists(dir / "ck" / "last.optim-critic.step6.safetensors"));
  EXPECT_TRUE(fs::exists(dir / "ck" / "last.optim-generator.step6.safetensors"));
  EXPECT_FALSE(fs::exists(dir / "ck" / "last.optim-critic.step3.safetensors"));

  FakeGanTask resumed(777);  // another init: everything must come from the checkpoint
  o.resume = true;
  std::vector<StepInfo> rsteps;
  FitCallbacks rcb;
  rcb.on_step = [&](const StepInfo& s) {
    rsteps.push_back(s);
    return true;
  };
  FitResult r2 = run_training(resumed, o, rcb);
  ASSERT_EQ(r2.history.size(), 4u);
  ASSERT_EQ(rsteps.size(), 6u);
  for (size_t i = 0; i < rsteps.size(); ++i) {
    EXPECT_EQ(rsteps[i].global_step, steps[i + 6].global_step);
    EXPECT_EQ(rsteps[i].losses, steps[i + 6].losses) << i;  // bit-identical
  }
  for (int e = 0; e < 4; ++e) {
    EXPECT_EQ(r2.history[e].train_loss, r.history[e].train_loss) << e;
    EXPECT_EQ(r2.history[e].train_losses, r.history[e].train_losses) << e;
    EXPECT_EQ(r2.history[e].valid_loss, r.history[e].valid_loss) << e;
    EXPECT_EQ(r2.history[e].best, r.history[e].best) << e;
  }
  EXPECT_EQ(weights(resumed), weights(full));
  EXPECT_EQ(resumed.carried, full.carried);
  EXPECT_EQ(r2.best_epoch, r.best_epoch);
  EXPECT_EQ(r2.best_valid_loss, r.best_valid_loss);

  // A different seed cannot resume silently.
  FakeGanTask other(1);
  FitOptions o3 = o;
  o3.seed = 43;
  EXPECT_THROW(run_training(other, o3), WeightsError);
  fs::remove_all(dir);
}

TEST(Trainer, BestCheckpointHoldsTheBestEpochsWeights) {
  auto dir = temp_dir("best");
  FitOptions o;
  o.epochs = 5;  // scripted validation 3, 1, 2, 0.5, 0.75: best is epoch 3
  o.checkpoint_dir = dir.string();
  FakeGanTask t(5);
  std::vector<std::vector<float>> after;
  FitCallbacks cb;
  cb.on_epoch = [&](const EpochInfo&) { after.push_back(weights(t)); };
  FitResult r = run_training(t, o, cb);
  EXPECT_EQ(r.best_epoch, 3);
  EXPECT_EQ(r.best_valid_loss, 0.5);
  std::vector<bool> best;
  for (const auto& e : r.history) best.push_back(e.best);
  EXPECT_EQ(best, (std::vector<bool>{true, true, false, true, false}));

  FakeGanTask loaded(99);
  ModelFileHeader h = load_model_file((dir / "best.safetensors").string(), loaded.parameter_sets(), "fake_gan", "test");
  EXPECT_EQ(h.kind, "fake_gan");
  EXPECT_EQ(h.version, kModelFileVersion);
  EXPECT_EQ(h.config, t.config_json());
  EXPECT_EQ(h.metadata.at("best_epoch"), "3");
  EXPECT_EQ(weights(loaded), after[3]);
  EXPECT_NE(weights(loaded), after[4]);
  fs::remove_all(dir);
}

TEST(Trainer, ModeIsRestoredOnReturnAndOnException) {
  FitOptions o;
  o.epochs = 2;
  FakeGanTask t(1);
  t.set_training(false);
  run_training(t, o);
  EXPECT_FALSE(t.training());
  t.set_training(true);
  run_training(t, o);
  EXPECT_TRUE(t.training());

  FakeGanTask failing(1);
  failing.throw_at_epoch = 1;
  failing.set_training(false);
  EXPECT_THROW(run_training(failing, o), std::runtime_error);
  EXPECT_FALSE(failing.training());
  // ... also when the exception comes from a callback, in eval-mode validation.
  FakeGanTask cbfail(1);
  FitCallbacks cb;
  cb.on_epoch = [](const EpochInfo&) { throw InvalidArgument("callback"); };
  cbfail.set_training(false);
  EXPECT_THROW(run_training(cbfail, o, cb), InvalidArgument);
  EXPECT_FALSE(cbfail.training());
}

TEST(Trainer, CallbacksAndBudgetsStopTheRun) {
  FitOptions o;
  o.epochs = 10;
  FakeGanTask a(1);
  FitCallbacks stop_step;
  stop_step.on_step = [](const StepInfo& s) { return s.global_step < 5; };
  FitResult r = run_training(a, o, stop_step);
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.global_step, 5);
  EXPECT_EQ(r.history.size(), 1u);  // epoch 1 was cut short: not recorded

  FakeGanTask b(1);
  FitCallbacks early;
  early.should_stop = [](const EpochInfo& e) { return !e.best; };  // stop once validation gets worse
  r = run_training(b, o, early);
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.history.size(), 3u);  // 3, 1, then 2 (worse)

  FakeGanTask c(1);
  FitOptions budget = o;
  budget.max_steps = 7;
  r = run_training(c, budget);
  EXPECT_FALSE(r.stopped);
  EXPECT_EQ(r.global_step, 7);
  ASSERT_EQ(r.history.size(), 3u);
  EXPECT_EQ(r.history.back().steps, 1);

  FakeGanTask d(1);
  FitOptions per = o;
  per.epochs = 2;
  per.max_steps_per_epoch = 2;
  r = run_training(d, per);
  EXPECT_EQ(r.global_step, 4);

  FitOptions bad = o;
  bad.epochs = -1;
  EXPECT_THROW(run_training(d, bad), InvalidArgument);
}

TEST(ModelFile, KindAndVersionAreChecked) {
  auto dir = temp_dir("modelfile");
  nn::ParameterSet ps;
  ps.add("w", {4}, nn::init_uniform(-1.0f, 1.0f));
  ps.allocate(3);
  const std::string path = (dir / "m.safetensors").string();
  save_model_file(path, ps, "arcnn", "{\"levels\":2}", {{"note", "x"}});
  optim::SafetensorsReader r(path);
  EXPECT_EQ(r.metadata().at("model"), "arcnn");
  EXPECT_EQ(r.metadata().at("model.version"), std::to_string(kModelFileVersion));
  EXPECT_EQ(r.metadata().at("config"), "{\"levels\":2}");
  EXPECT_EQ(r.metadata().at("note"), "x");

  auto message = [&](const std::string& file, const std::string& kind) {
    try {
      read_model_header(file, kind, "load_test");
    } catch (const WeightsError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  std::string m = message(path, "gan");
  EXPECT_NE(m.find(path), std::string::npos) << m;
  EXPECT_NE(m.find("\"arcnn\""), std::string::npos) << m;
  EXPECT_NE(m.find("\"gan\""), std::string::npos) << m;

  const std::string newer = (dir / "newer.safetensors").string();
  optim::save_safetensors(newer, ps, {{"model", "arcnn"}, {"model.version", "2"}, {"config", "{}"}});
  m = message(newer, "arcnn");
  EXPECT_NE(m.find(newer), std::string::npos) << m;
  EXPECT_NE(m.find("version 2"), std::string::npos) << m;
  EXPECT_NE(m.find("up to " + std::to_string(kModelFileVersion)), std::string::npos) << m;

  optim::save_safetensors(newer, ps, {{"model", "arcnn"}, {"model.version", "one"}, {"config", "{}"}});
  EXPECT_NE(message(newer, "arcnn").find("\"one\""), std::string::npos);
  optim::save_safetensors(newer, ps, {{"config", "{}"}});
  EXPECT_NE(message(newer, "arcnn").find("not a partita model file"), std::string::npos);
  optim::save_safetensors(newer, ps, {{"model", "arcnn"}});
  EXPECT_NE(message(newer, "arcnn").find("no \"config\""), std::string::npos);

  // Files written before "model.version" existed have the version-1 layout.
  const std::string old = (dir / "old.safetensors").string();
  optim::save_safetensors(old, ps, {{"model", "arcnn"}, {"config", "{}"}});
  EXPECT_EQ(read_model_header(old, "arcnn", "test").version, 1);
  fs::remove_all(dir);
}
