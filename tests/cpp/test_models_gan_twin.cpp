// GAN against its PyTorch twin (tools/torch_twins/gan_twin.py): the committed fixture
// tests/data/gan (tools/torch_twins/make_gan_fixture.py: a 5-filter GAN on 32 x 64
// windows, results in float64 from float32 weights) pins the generator's output in
// eval and training mode, the critic's scores, both parts of the critic loss with
// every critic gradient (double-backprop penalty), the generator loss with every
// generator gradient, and the BatchNorm running statistics after one training-mode
// forward.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <unistd.h>

#include "partita/core/threads.hpp"
#include "partita/models/gan.hpp"
#include "partita/optim/safetensors.hpp"

using namespace partita;
using namespace partita::models;

// One thread: the suite runs many test programs side by side on few cores.
static const int kOneThread = (set_num_threads(1), 1);

static const std::string kFix = std::string(PARTITA_TEST_DATA) + "/gan/";

// make_gan_fixture.py's CONFIG.
static GanConfig twin_config() {
  GanConfig c;
  c.filters = 5;
  c.tracks = 4;
  c.latent_channels = 16;
  c.steps = 32;
  c.pitches = 64;
  return c;
}

// Relative tolerance per element, plus an absolute one scaled to the tensor.
constexpr double kRtol = 1e-4;

static double max_abs(const Tensor& t) {
  double m = 0;
  for (std::int64_t i = 0; i < t.size(); ++i) m = std::max(m, std::abs(double(t[i])));
  return m;
}

static void expect_close(const Tensor& got, const Tensor& want, double atol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double worst = 0;
  std::int64_t at = 0;
  for (std::int64_t i = 0; i < got.size(); ++i) {
    double err = std::abs(double(got[i]) - double(want[i])) - kRtol * std::abs(double(want[i]));
    if (err > worst) worst = err, at = i;
  }
  EXPECT_LE(worst, atol) << what << ": element " << at << " of " << got.size() << " got " << got[at]
                         << " want " << want[at] << " (tensor max |want| " << max_abs(want) << ")";
}

static void expect_near_rel(double got, double want, const std::string& what) {
  EXPECT_NEAR(got, want, kRtol * std::abs(want) + 1e-6) << what;
}

// The twin's weights, by name, into both parameter sets; every tensor of the file used.
static void load_twin_weights(GAN& gan) {
  optim::SafetensorsReader file(kFix + "twin_weights.safetensors");
  std::set<std::string> used;
  for (nn::ParameterSet* ps : {&gan.generator_parameters(), &gan.critic_parameters()}) {
    for (nn::Parameter& p : ps->params()) {
      ASSERT_NE(file.find(p.name), nullptr) << "the twin has no " << p.name;
      Tensor t = file.read_f32(p.name);
      ASSERT_EQ(t.shape(), optim::torch_shape(p)) << p.name;
      optim::from_torch_layout(p, t.data(), p.value.data());
      used.insert(p.name);
    }
  }
  for (const auto& info : file.tensors()) EXPECT_EQ(used.count(info.name), 1u) << "partita has no " << info.name;
}

static GAN twin_gan() {
  GAN gan(twin_config(), 1);
  load_twin_weights(gan);
  return gan;
}

struct Io {
  optim::SafetensorsReader file{kFix + "twin_io.safetensors"};
  Tensor real = file.read_f32("real");
  Tensor z = file.read_f32("z");
  Tensor melody = melody_of(real);
  std::vector<float> e() {
    Tensor t = file.read_f32("e");
    return std::vector<float>(t.data(), t.data() + t.size());
  }
  Tensor get(const std::string& name) { return file.read_f32(name); }

  // Track 0 of each window: (n, steps, pitches, 1).
  static Tensor melody_of(const Tensor& x) {
    const std::int64_t cells = x.dim(0) * x.dim(1) * x.dim(2), tracks = x.dim(3);
    Tensor c({x.dim(0), x.dim(1), x.dim(2), 1});
    for (std::int64_t i = 0; i < cells; ++i) c[i] = x[i * tracks];
    return c;
  }
};

// A parameter set's gradients (or running statistics) against the fixture's,
// converted from the twin's layout. `scale_floor` bounds the absolute tolerance from
// below: BatchNorm cancels the gradient of a bias that feeds it (zero in the twin up
// to float64 rounding, float32 rounding here).
static int expect_grads_match(nn::ParameterSet& ps, Io& io, const std::string& what) {
  double net_scale = 0;
  for (const nn::Parameter& p : ps.params())
    if (p.trainable) net_scale = std::max(net_scale, max_abs(io.get("grad." + p.name)));
  EXPECT_GT(net_scale, 1e-3) << what;
  int checked = 0;
  for (nn::Parameter& p : ps.params()) {
    if (!p.trainable) continue;
    Tensor want_t = io.get("grad." + p.name), want(p.shape);
    optim::from_torch_layout(p, want_t.data(), want.data());
    expect_close(p.grad, want, kRtol * std::max(max_abs(want), 1e-2 * net_scale), what + " grad " + p.name);
    ++checked;
  }
  return checked;
}

static int expect_running_stats(nn::ParameterSet& ps, Io& io, const std::string& prefix, const std::string& what) {
  int checked = 0;
  for (nn::Parameter& p : ps.params()) {
    if (p.trainable) continue;
    expect_close(p.value, io.get(prefix + p.name), 1e-5, what + " " + p.name);
    ++checked;
  }
  return checked;
}

// The running statistics of the file (before any training-mode forward).
static void expect_running_stats_untouched(nn::ParameterSet& ps, const std::string& what) {
  optim::SafetensorsReader file(kFix + "twin_weights.safetensors");
  for (nn::Parameter& p : ps.params())
    if (!p.trainable) expect_close(p.value, file.read_f32(p.name), 0.0, what + " " + p.name);
}

TEST(GanTwin, ParameterNamesAndCountsAreTheTwins) {
  GAN gan = twin_gan();  // every parameter found in the file and every tensor used
  optim::SafetensorsReader file(kFix + "twin_weights.safetensors");
  std::int64_t gen = 0, crit = 0;
  for (const auto& info : file.tensors()) {
    if (info.name.find("running_") != std::string::npos) continue;
    (info.name.rfind("generator.", 0) == 0 ? gen : crit) += info.numel();
  }
  EXPECT_EQ(gan.generator_parameter_count(), gen);
  EXPECT_EQ(gan.critic_parameter_count(), crit);
  // The reference and shipped sizes, as `gan_twin.py count` prints them.
  EXPECT_EQ(GAN(GanConfig::reference(), 0).generator_parameter_count(), 8270852);
  EXPECT_EQ(GAN(GanConfig::reference(), 0).critic_parameter_count(), 2766785);
  EXPECT_EQ(GAN(GanConfig::compact(), 0).generator_parameter_count(), 2071044);
  EXPECT_EQ(GAN(GanConfig::compact(), 0).critic_parameter_count(), 695265);
}

// The twin's file is a model file: GAN::load reads it (both networks, config and
// style), and GAN::save writes back the same tensors under the same names and
// shapes, which the twin's load_state_dict takes.
TEST(GanTwin, ModelFilesRoundTripWithTheTwin) {
  const std::string twin_file = kFix + "twin_weights.safetensors";
  GAN loaded = GAN::load(twin_file);
  EXPECT_TRUE(loaded.has_critic());
  EXPECT_FALSE(loaded.training());
  EXPECT_TRUE(loaded.config().same_architecture(twin_config()));
  GAN by_name = twin_gan();
  for (auto sets : {std::make_pair(&loaded.generator_parameters(), &by_name.generator_parameters()),
                    std::make_pair(&loaded.critic_parameters(), &by_name.critic_parameters())}) {
    ASSERT_EQ(sets.first->size(), sets.second->size());
    for (std::int64_t i = 0; i < sets.first->size(); ++i)
      ASSERT_EQ(sets.first->values()[i], sets.second->values()[i]) << i;
  }
  Io io;
  expect_close(loaded.generate(io.melody, io.z), io.get("generated_eval"), 1e-5, "loaded generate (eval)");

  const std::string ours = (std::filesystem::temp_directory_path() /
                            ("partita_gan_twin_" + std::to_string(::getpid()) + ".safetensors")).string();
  loaded.save(ours);
  optim::SafetensorsReader a(twin_file), b(ours);
  EXPECT_EQ(b.metadata().at("model"), "gan");
  EXPECT_EQ(a.tensors().size(), b.tensors().size());
  for (const auto& info : a.tensors()) {
    const optim::TensorInfo* mine = b.find(info.name);
    ASSERT_NE(mine, nullptr) << info.name;
    EXPECT_EQ(mine->shape, info.shape) << info.name;
    expect_close(b.read_f32(info.name), a.read_f32(info.name), 0.0, "saved " + info.name);
  }
  std::filesystem::remove(ours);
}

TEST(GanTwin, EvalGenerationAndCriticScoresMatchPyTorch) {
  GAN gan = twin_gan();
  Io io;
  gan.set_training(false);
  Tensor g = gan.generate(io.melody, io.z);
  expect_close(g, io.get("generated_eval"), 1e-5, "generate (eval)");
  expect_close(gan.critique(io.real, io.melody), io.get("critic_real"), 1e-5, "critique(real)");
  expect_close(gan.critique(io.get("generated_eval"), io.melody), io.get("critic_fake"), 1e-5, "critique(fake)");
  expect_running_stats_untouched(gan.generator_parameters(), "eval generate");
}

TEST(GanTwin, TrainingGenerationAndRunningStatsMatchPyTorch) {
  GAN gan = twin_gan();
  Io io;
  gan.set_training(true);
  Tensor g = gan.generate(io.melody, io.z);
  expect_close(g, io.get("generated_train"), 1e-5, "generate (train)");
  EXPECT_EQ(expect_running_stats(gan.generator_parameters(), io, "after_train.", "train generate"), 12);
}

TEST(GanTwin, CriticLossPartsAndGradientsMatchPyTorch) {
  for (bool training : {true, false}) {
    SCOPED_TRACE(training ? "GAN in training mode" : "GAN in eval mode");
    GAN gan = twin_gan();
    Io io;
    gan.set_training(training);
    // Stale gradients must be cleared first.
    gan.critic_parameters().grads().fill(1.0f);
    GAN::CriticLoss loss = gan.critic_loss_and_backward(io.real, io.z, io.e());
    expect_near_rel(loss.wasserstein, io.get("critic_wasserstein")[0], "wasserstein");
    expect_near_rel(loss.penalty, io.get("critic_penalty")[0], "penalty");
    EXPECT_EQ(expect_grads_match(gan.critic_parameters(), io, "critic"), 10);
    // The fakes come from the generator in eval mode: its statistics do not move.
    expect_running_stats_untouched(gan.generator_parameters(), "critic step");
    EXPECT_EQ(gan.training(), training);
  }
}

TEST(GanTwin, GeneratorLossAndGradientsMatchPyTorch) {
  GAN gan = twin_gan();
  Io io;
  gan.set_training(true);
  gan.generator_parameters().grads().fill(1.0f);  // stale gradients must be cleared first
  double loss = gan.generator_loss_and_backward(io.real, io.z);
  expect_near_rel(loss, io.get("generator_loss")[0], "generator loss");
  EXPECT_EQ(expect_grads_match(gan.generator_parameters(), io, "generator"), 28);
  // One training-mode forward (batch statistics): the running statistics moved once.
  EXPECT_EQ(expect_running_stats(gan.generator_parameters(), io, "after_train.", "generator step"), 12);
}
