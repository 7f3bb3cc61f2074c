// Adam/AdamW against PyTorch (tests/data/optim/adam.safetensors, written by
// tools/torch_twins/make_optim_fixtures.py), state save/load, clip_grad_norm,
// and the learning-rate schedules.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "partita/core/error.hpp"
#include "partita/optim/adam.hpp"
#include "partita/optim/checkpoint.hpp"
#include "partita/optim/json.hpp"
#include "partita/optim/schedule.hpp"

using namespace partita;
using namespace partita::optim;

namespace {

const std::string kData = PARTITA_TEST_DATA "/optim/";
const Shape kShapes[] = {{3, 5}, {7}, {2, 3, 2, 2}};

std::string tmp_path(const std::string& name) {
  return ::testing::TempDir() + "partita_optim_" + name;
}

void expect_close(const float* got, const Tensor& want, float rtol, float atol, const std::string& what) {
  for (std::int64_t i = 0; i < want.size(); ++i)
    ASSERT_NEAR(got[i], want[i], atol + rtol * std::fabs(want[i])) << what << " element " << i;
}

void make_set(nn::ParameterSet& ps) {
  for (int i = 0; i < 3; ++i) ps.add("p" + std::to_string(i), kShapes[i], nn::init_zeros());
  ps.allocate(0);
}

void run_torch_config(const std::string& config) {
  SafetensorsReader r(kData + "adam.safetensors");
  json::Value cfg = json::parse(r.metadata().at(config));
  AdamOptions o;
  o.lr = cfg.find("lr")->as_double();
  o.beta1 = cfg.find("betas")->as_array()[0].as_double();
  o.beta2 = cfg.find("betas")->as_array()[1].as_double();
  o.eps = cfg.find("eps")->as_double();
  o.weight_decay = cfg.find("weight_decay")->as_double();
  o.decoupled_weight_decay = cfg.find("cls")->as_string() == "AdamW";

  nn::ParameterSet ps;
  make_set(ps);
  for (int i = 0; i < 3; ++i)
    ps.get("p" + std::to_string(i)).value.copy_from(r.read_f32(config + ".p" + std::to_string(i) + ".init"));
  Adam adam(ps, o);
  const int steps = std::stoi(r.metadata().at("steps"));
  ASSERT_EQ(steps, 5);
  for (int s = 1; s <= steps; ++s) {
    for (int i = 0; i < 3; ++i)
      ps.get("p" + std::to_string(i))
          .grad.copy_from(r.read_f32(config + ".p" + std::to_string(i) + ".grad." + std::to_string(s)));
    adam.step();
    for (int i = 0; i < 3; ++i) {
      const std::string n = config + ".p" + std::to_string(i) + ".after." + std::to_string(s);
      expect_close(ps.get("p" + std::to_string(i)).value.data(), r.read_f32(n), 2e-6f, 2e-7f, n);
    }
  }
  EXPECT_EQ(adam.step_count(), steps);
}

}  // namespace

TEST(Adam, MatchesTorchAdam) { run_torch_config("adam"); }
TEST(Adam, MatchesTorchAdamWithL2WeightDecay) { run_torch_config("adam_l2"); }
TEST(Adam, MatchesTorchAdamW) { run_torch_config("adamw"); }

TEST(Adam, FirstStepIsSignTimesLr) {
  // With zero moments, step 1 moves each element by lr * g / (|g| + eps') ~ lr * sign(g).
  nn::ParameterSet ps;
  ps.add("w", {4}, nn::init_zeros());
  ps.allocate(0);
  Tensor& g = ps.get("w").grad;
  g[0] = 3.0f; g[1] = -0.5f; g[2] = 0.0f; g[3] = 1e-3f;
  AdamOptions o;
  o.lr = 0.1;
  Adam adam(ps, o);
  adam.step();
  const Tensor& w = ps.get("w").value;
  EXPECT_NEAR(w[0], -0.1f, 1e-6f);
  EXPECT_NEAR(w[1], 0.1f, 1e-6f);
  EXPECT_EQ(w[2], 0.0f);
  EXPECT_NEAR(w[3], -0.1f, 1e-5f);
}

TEST(Adam, SkipsNonTrainableParameters) {
  nn::ParameterSet ps;
  ps.add("w", {5}, nn::init_ones());
  ps.add("running_mean", {5}, nn::init_ones(), nn::Layout::Same, /*trainable=*/false);
  ps.allocate(0);
  ps.grads().fill(1.0f);
  Adam adam(ps, AdamOptions::adamw(0.1, 0.5));
  adam.step();
  for (int i = 0; i < 5; ++i) {
    EXPECT_LT(ps.get("w").value[i], 1.0f);
    EXPECT_EQ(ps.get("running_mean").value[i], 1.0f);
  }
}

TEST(Adam, RejectsBadOptions) {
  nn::ParameterSet ps;
  ps.add("w", {2}, nn::init_zeros());
  EXPECT_THROW(Adam(ps, AdamOptions{}), InvalidArgument);  // not allocated
  ps.allocate(0);
  AdamOptions o;
  o.beta1 = 1.0;
  EXPECT_THROW(Adam(ps, o), InvalidArgument);
  o = AdamOptions{};
  o.lr = -1;
  EXPECT_THROW(Adam(ps, o), InvalidArgument);
  Adam ok(ps);
  EXPECT_THROW(ok.set_lr(std::nan("")), InvalidArgument);
}

TEST(Adam, StateSaveLoadResumesExactly) {
  auto build = [](nn::ParameterSet& ps) {
    ps.add("conv.weight", {3, 3, 2, 4}, nn::init_uniform(-1, 1), nn::Layout::ConvHWIO);
    ps.add("fc.weight", {6, 3}, nn::init_uniform(-1, 1), nn::Layout::LinearIO);
    ps.add("fc.bias", {3}, nn::init_zeros());
    ps.add("bn.running_var", {4}, nn::init_ones(), nn::Layout::Same, false);
    ps.allocate(5);
  };
  auto fake_grads = [](nn::ParameterSet& ps, int step) {
    for (std::int64_t i = 0; i < ps.size(); ++i)
      ps.grads()[i] = std::sin(0.37f * static_cast<float>(i) + static_cast<float>(step));
  };
  nn::ParameterSet a, b;
  build(a);
  build(b);
  AdamOptions o = AdamOptions::adamw(0.01, 0.1);
  o.beta1 = 0.5;
  Adam oa(a, o);
  for (int s = 0; s < 2; ++s) { fake_grads(a, s); oa.step(); }
  const std::string path = tmp_path("adam_state.safetensors");
  oa.save_state(path, {{"note", "test"}});
  const std::string wpath = tmp_path("adam_weights.safetensors");
  save_safetensors(wpath, a);
  for (int s = 2; s < 5; ++s) { fake_grads(a, s); oa.step(); }

  load_safetensors(wpath, b);
  Adam ob(b, AdamOptions{});  // options come back from the file
  ob.load_state(path);
  EXPECT_EQ(ob.step_count(), 2);
  EXPECT_DOUBLE_EQ(ob.lr(), 0.01);
  EXPECT_TRUE(ob.options().decoupled_weight_decay);
  for (int s = 2; s < 5; ++s) { fake_grads(b, s); ob.step(); }
  for (std::int64_t i = 0; i < a.size(); ++i) ASSERT_EQ(a.values()[i], b.values()[i]) << i;

  // A state file for another model is refused and leaves the optimizer as it was.
  nn::ParameterSet c;
  c.add("fc.weight", {6, 3}, nn::init_zeros(), nn::Layout::LinearIO);
  c.allocate(0);
  Adam oc(c);
  EXPECT_THROW(oc.load_state(path), WeightsError);
  EXPECT_EQ(oc.step_count(), 0);
  // A weights file is not a state file.
  EXPECT_THROW(oc.load_state(wpath), WeightsError);
  std::remove(path.c_str());
  std::remove(wpath.c_str());
}

TEST(ClipGradNorm, MatchesTorch) {
  SafetensorsReader r(kData + "clip.safetensors");
  nn::ParameterSet ps;
  make_set(ps);
  for (int i = 0; i < 3; ++i)
    ps.get("p" + std::to_string(i)).grad.copy_from(r.read_f32("p" + std::to_string(i) + ".grad"));
  const double max_norm = std::stod(r.metadata().at("max_norm"));
  const double norm = clip_grad_norm(ps, max_norm);
  EXPECT_NEAR(norm, r.read_f32("norm")[0], 1e-5 * norm);
  for (int i = 0; i < 3; ++i)
    expect_close(ps.get("p" + std::to_string(i)).grad.data(), r.read_f32("p" + std::to_string(i) + ".clipped"),
                 1e-6f, 1e-7f, "clipped p" + std::to_string(i));
  EXPECT_NEAR(grad_norm(ps), max_norm, 1e-5);
}

TEST(ClipGradNorm, LeavesSmallGradientsAndBuffersAlone) {
  nn::ParameterSet ps;
  ps.add("w", {3}, nn::init_zeros());
  ps.add("stat", {2}, nn::init_zeros(), nn::Layout::Same, false);
  ps.allocate(0);
  Tensor& g = ps.get("w").grad;
  g[0] = 0.3f; g[1] = 0.4f; g[2] = 0.0f;
  ps.get("stat").grad.fill(100.0f);  // not trainable: neither counted nor scaled
  EXPECT_NEAR(clip_grad_norm(ps, 1.0), 0.5, 1e-7);
  EXPECT_EQ(g[0], 0.3f);
  EXPECT_EQ(g[1], 0.4f);
  EXPECT_EQ(ps.get("stat").grad[0], 100.0f);
  EXPECT_NEAR(clip_grad_norm(ps, 0.25), 0.5, 1e-7);
  EXPECT_NEAR(g[0], 0.15f, 1e-6f);
  EXPECT_NEAR(g[1], 0.2f, 1e-6f);
  EXPECT_THROW(clip_grad_norm(ps, 0.0), InvalidArgument);
}

TEST(Schedule, ConstantAndStep) {
  ConstantSchedule c(0.1);
  EXPECT_EQ(c.lr(1), 0.1);
  EXPECT_EQ(c.lr(100000), 0.1);
  StepSchedule s(1.0, 10, 0.5);
  EXPECT_EQ(s.lr(1), 1.0);
  EXPECT_EQ(s.lr(10), 1.0);
  EXPECT_EQ(s.lr(11), 0.5);
  EXPECT_EQ(s.lr(21), 0.25);
  EXPECT_THROW(s.lr(0), InvalidArgument);
  EXPECT_THROW(StepSchedule(1.0, 0, 0.5), InvalidArgument);
}

TEST(Schedule, InverseSqrtWithWarmupAndFloor) {
  InverseSqrtSchedule s(5e-4, 4000, 2.5e-5);  // Transformer-XL
  EXPECT_NEAR(s.lr(1), 5e-4 / 4000, 1e-15);
  EXPECT_NEAR(s.lr(2000), 2.5e-4, 1e-15);
  EXPECT_NEAR(s.lr(4000), 5e-4, 1e-15);  // peak at the end of warm-up
  EXPECT_NEAR(s.lr(16000), 2.5e-4, 1e-15);  // halves when t quadruples
  EXPECT_NEAR(s.lr(1'600'000), 2.5e-5, 1e-12);
  EXPECT_EQ(s.lr(10'000'000), 2.5e-5);  // floor
  for (std::int64_t t = 1; t < 4000; t += 97) EXPECT_LT(s.lr(t), s.lr(t + 1));
  for (std::int64_t t = 4000; t < 100000; t += 997) EXPECT_GT(s.lr(t), s.lr(t + 1));
  EXPECT_THROW(InverseSqrtSchedule(5e-4, 0, 0), InvalidArgument);
  EXPECT_THROW(s.lr(0), InvalidArgument);
}

TEST(Schedule, DrivesAdam) {
  nn::ParameterSet ps;
  ps.add("w", {1}, nn::init_zeros());
  ps.allocate(0);
  Adam adam(ps);
  InverseSqrtSchedule s(1e-2, 10, 1e-4);
  for (int i = 0; i < 3; ++i) {
    adam.set_lr(s.lr(adam.step_count() + 1));
    ps.grads()[0] = 1.0f;
    adam.step();
  }
  EXPECT_NEAR(adam.lr(), 3e-3, 1e-12);
  // Each step moved w by -lr exactly (constant gradient: m_hat / sqrt(v_hat) = 1).
  EXPECT_NEAR(ps.values()[0], -(1e-3 + 2e-3 + 3e-3), 1e-7);
}

TEST(Checkpoint, SaveLoadResumeAndMismatch) {
  EXPECT_EQ(optimizer_state_path("run/ckpt.safetensors"), "run/ckpt.optim.safetensors");
  EXPECT_EQ(optimizer_state_path("run/ckpt"), "run/ckpt.optim");
  auto build = [](nn::ParameterSet& ps) {
    ps.add("w", {4, 3}, nn::init_uniform(-1, 1), nn::Layout::LinearIO);
    ps.allocate(9);
  };
  nn::ParameterSet a, b;
  build(a);
  build(b);
  Adam oa(a), ob(b);
  for (int s = 0; s < 3; ++s) {
    a.grads().fill(0.1f * static_cast<float>(s + 1));
    oa.step();
  }
  const std::string path = tmp_path("ckpt.safetensors");
  save_checkpoint(path, a, oa, {{"epoch", "7"}});
  LoadReport rep = load_checkpoint(path, b, ob);
  EXPECT_EQ(rep.metadata.at("epoch"), "7");
  EXPECT_EQ(rep.metadata.at("checkpoint.step"), "3");
  EXPECT_EQ(ob.step_count(), 3);
  for (std::int64_t i = 0; i < a.size(); ++i) ASSERT_EQ(a.values()[i], b.values()[i]);
  // Weights from a later step with the old state: refused, nothing modified.
  oa.step();
  save_safetensors(path, a, {{"checkpoint.step", "4"}});
  const float before = b.values()[0];
  EXPECT_THROW(load_checkpoint(path, b, ob), WeightsError);
  EXPECT_EQ(b.values()[0], before);
  std::remove(optimizer_state_path(path).c_str());
  EXPECT_THROW(load_checkpoint(path, b, ob), WeightsError);
  std::remove(path.c_str());
}
