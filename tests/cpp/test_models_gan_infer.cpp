// The GAN's batch-1 engine (src/models/gan_infer.hpp): GAN::generate on one
// window in eval mode runs it, on two or more windows the layers do; both must
// give the same function. Checked on odd channel counts (padding to 16), with
// BatchNorm statistics and affine parameters far from their initial values, and
// that the packed weights follow every change: a weight written through the
// parameter set, a training-mode forward (running statistics), the thread count.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "partita/core/cpu.hpp"
#include "partita/core/gemm.hpp"
#include "partita/core/threads.hpp"
#include "partita/models/gan.hpp"
#include "partita/music/pianoroll.hpp"
#include "nn/infer_conv.hpp"

using namespace partita;
using namespace partita::models;

namespace {

struct Case {
  std::string name;
  GanConfig config;
};

std::vector<Case> cases() {
  GanConfig tiny;
  tiny.filters = 2, tiny.latent_channels = 3, tiny.steps = 16, tiny.pitches = 16;
  GanConfig odd;  // nothing a multiple of 16: every buffer padded
  odd.filters = 6, odd.latent_channels = 20, odd.tracks = 3, odd.steps = 32, odd.pitches = 64;
  odd.part_names = {"a", "b"}, odd.programs = {0, 0};
  GanConfig wide;  // more than 16 generated channels in the stacked head
  wide.filters = 8, wide.latent_channels = 16, wide.tracks = 6, wide.steps = 16, wide.pitches = 32;
  wide.part_names = {"a", "b", "c", "d", "e"}, wide.programs = {0, 0, 0, 0, 0};
  GanConfig chroma = tiny;  // the melody's pitch classes as a second input channel
  chroma.melody_chroma = true;
  return {{"tiny", tiny}, {"odd", odd}, {"wide", wide}, {"chroma", chroma}, {"compact", GanConfig::compact()}};
}

// BatchNorm parameters and running statistics away from 1 / 0, so that a
// wrongly folded map shows.
void perturb_batchnorms(GAN& gan, std::uint64_t seed) {
  Generator g(seed);
  for (auto& p : gan.generator_parameters().params()) {
    const bool var = p.name.find("running_var") != std::string::npos;
    const bool bn = p.name.find(".bn.") != std::string::npos;
    if (!bn) continue;
    for (std::int64_t i = 0; i < p.value.size(); ++i)
      p.value[i] = var ? static_cast<float>(0.2 + 2.0 * g.uniform()) : static_cast<float>(g.uniform() - 0.5) * 2.0f;
  }
}

Tensor melody(const GanConfig& c, std::int64_t n, std::uint64_t seed) {
  Generator g(seed);
  Tensor m({n, c.steps, c.pitches, 1});
  m.fill(-1.0f);
  for (std::int64_t w = 0; w < n; ++w)
    for (std::int64_t s = 0; s < c.steps; ++s)
      m[(w * c.steps + s) * c.pitches + static_cast<std::int64_t>(g.next_u64() % static_cast<std::uint64_t>(c.pitches))] = 1.0f;
  return m;
}

// Window i of a batch, as a batch of one.
Tensor window(const Tensor& t, std::int64_t i) {
  Tensor r({1, t.dim(1), t.dim(2), t.dim(3)});
  std::copy_n(t.data() + i * r.size(), r.size(), r.data());
  return r;
}

// The engine's window against the layers' (set_packed_inference(false)).
double engine_vs_layers(GAN& gan, const Tensor& m, const Tensor& z, Tensor* engine_out = nullptr) {
  const Tensor one = gan.generate(m, z);
  EXPECT_TRUE(gan.engine_used());
  gan.set_packed_inference(false);
  const Tensor two = gan.generate(m, z);
  EXPECT_FALSE(gan.engine_used());
  gan.set_packed_inference(true);
  double worst = 0.0;
  for (std::int64_t i = 0; i < one.size(); ++i) worst = std::max(worst, static_cast<double>(std::fabs(one[i] - two[i])));
  if (engine_out) *engine_out = one;
  return worst;
}

}  // namespace

TEST(GanInference, OneWindowMatchesTheLayers) {
  for (const Case& k : cases()) {
    SCOPED_TRACE(k.name);
    GAN gan(k.config, 11);
    perturb_batchnorms(gan, 12);
    gan.set_training(false);
    Generator rng(13);
    const Tensor m = melody(k.config, 1, 14);
    const Tensor z = gan.sample_latent(1, rng);
    Tensor out;
    EXPECT_LT(engine_vs_layers(gan, m, z, &out), 2e-5);
    // Not a constant: the output spans both signs.
    float lo = 1.0f, hi = -1.0f;
    for (std::int64_t i = 0; i < out.size(); ++i) lo = std::min(lo, out[i]), hi = std::max(hi, out[i]);
    EXPECT_LT(lo, -0.1f);
    EXPECT_GT(hi, 0.1f);
  }
}

TEST(GanInference, FollowsWeightChanges) {
  GanConfig c = cases()[1].config;
  GAN gan(c, 21);
  perturb_batchnorms(gan, 22);
  gan.set_training(false);
  Generator rng(23);
  const Tensor m = melody(c, 1, 24);
  const Tensor z = gan.sample_latent(1, rng);
  Tensor before;
  ASSERT_LT(engine_vs_layers(gan, m, z, &before), 2e-5);

  // A weight written through the parameter set (get() marks the set changed).
  nn::Parameter& w = gan.generator_parameters().get("generator.dec.1.conv.weight");
  for (std::int64_t i = 0; i < w.value.size(); i += 7) w.value[i] += 0.25f;
  Tensor after;
  EXPECT_LT(engine_vs_layers(gan, m, z, &after), 2e-5);
  double moved = 0.0;
  for (std::int64_t i = 0; i < after.size(); ++i) moved = std::max(moved, static_cast<double>(std::fabs(after[i] - before[i])));
  EXPECT_GT(moved, 1e-3);

  // A reference kept across a generate() and written later: touch() says so.
  gan.generate(m, z);
  for (std::int64_t i = 0; i < w.value.size(); i += 5) w.value[i] -= 0.5f;
  gan.generator_parameters().touch();
  EXPECT_LT(engine_vs_layers(gan, m, z), 2e-5);

  // A training-mode forward moves the running statistics.
  gan.set_training(true);
  gan.generate(melody(c, 4, 25), gan.sample_latent(4, rng));
  gan.set_training(false);
  EXPECT_LT(engine_vs_layers(gan, m, z), 2e-5);

  // The thread count: a repacked engine on one thread gives the same bits.
  const int threads = num_threads();
  const Tensor many = gan.generate(m, z);
  ASSERT_TRUE(gan.engine_used());
  const std::int64_t packs = gan.engine_packs();
  set_num_threads(1);
  const Tensor single = gan.generate(m, z);
  set_num_threads(threads);
  EXPECT_TRUE(gan.engine_used());
  EXPECT_EQ(gan.engine_packs(), packs + (threads == 1 ? 0 : 1));
  for (std::int64_t i = 0; i < many.size(); ++i) ASSERT_EQ(many[i], single[i]) << i;
}

TEST(GanInference, EachWindowOfABatchAsAlone) {
  GanConfig c = cases()[1].config;
  GAN gan(c, 51);
  perturb_batchnorms(gan, 52);
  gan.set_training(false);
  Generator rng(53);
  const Tensor m = melody(c, 3, 54);
  const Tensor z = gan.sample_latent(3, rng);
  const Tensor all = gan.generate(m, z);
  EXPECT_TRUE(gan.engine_used());
  for (std::int64_t w = 0; w < 3; ++w) {
    const Tensor one = gan.generate(window(m, w), window(z, w));
    for (std::int64_t i = 0; i < one.size(); ++i) ASSERT_EQ(one[i], all[w * one.size() + i]) << w << " " << i;
  }
  gan.set_packed_inference(false);
  const Tensor layers = gan.generate(m, z);
  EXPECT_FALSE(gan.engine_used());
  double worst = 0.0;
  for (std::int64_t i = 0; i < all.size(); ++i) worst = std::max(worst, static_cast<double>(std::fabs(all[i] - layers[i])));
  EXPECT_LT(worst, 2e-5);
}

TEST(GanInference, PacksOnceForTheSameWeights) {
  GanConfig c = cases()[0].config;
  GAN gan(c, 41);
  gan.set_training(false);
  Generator rng(42);
  const Tensor m = melody(c, 1, 43);
  const Tensor z = gan.sample_latent(1, rng);
  EXPECT_EQ(gan.engine_packs(), 0);
  const Tensor a = gan.generate(m, z);
  EXPECT_TRUE(gan.engine_used());
  const Tensor b = gan.generate(m, z);
  EXPECT_EQ(gan.engine_packs(), 1);
  for (std::int64_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << i;
  gan.set_training(true);
  gan.set_training(false);
  gan.generate(m, z);
  EXPECT_EQ(gan.engine_packs(), 1);  // switching modes changes no weight
  gan.generator_parameters().touch();
  gan.generate(m, z);
  EXPECT_EQ(gan.engine_packs(), 2);
  // accompany() runs it on every window, and gives the same parts each time.
  GAN full(GanConfig::compact(), 44);
  full.set_training(false);
  PianoRoll roll(5 * 32 + 7);
  for (std::size_t t = 0; t < roll.steps(); ++t) roll(t, 60 + t / 4 % 5) = 1;
  const MultiTrackRoll first = full.accompany_roll(roll, AccompanyOptions{});
  EXPECT_TRUE(full.engine_used());
  const MultiTrackRoll again = full.accompany_roll(roll, AccompanyOptions{});
  EXPECT_EQ(full.engine_packs(), 1);
  ASSERT_EQ(first.steps(), roll.steps());
  EXPECT_TRUE(std::equal(first.data(), first.data() + 3 * roll.steps() * 128, again.data()));
}

TEST(GanInference, BFloat16ProductsStayCloseToFloat32) {
  if (!nn::infer::bf16_kernel_available() || !cpu_has_avx512_bf16()) GTEST_SKIP() << "no AVX512_BF16 at the SIMD level in use";
  for (const Case& k : cases()) {
    SCOPED_TRACE(k.name);
    GAN gan(k.config, 61);
    perturb_batchnorms(gan, 62);
    gan.set_training(false);
    Generator rng(63);
    const Tensor m = melody(k.config, 2, 64);
    const Tensor z = gan.sample_latent(2, rng);
    const Tensor f32 = gan.generate(m, z);
    const std::int64_t packs = gan.engine_packs();
    Tensor b16;
    {
      MatmulPrecisionScope scope(MatmulPrecision::BFloat16);
      b16 = gan.generate(m, z);
      EXPECT_TRUE(gan.engine_used());
      EXPECT_EQ(gan.engine_packs(), packs + 1);  // packed again in bfloat16
    }
    double worst = 0.0, mean = 0.0;
    std::int64_t flips = 0;
    for (std::int64_t i = 0; i < f32.size(); ++i) {
      const double d = std::fabs(f32[i] - b16[i]);
      worst = std::max(worst, d);
      mean += d;
      flips += (f32[i] > 0.0f) != (b16[i] > 0.0f);
    }
    mean /= static_cast<double>(f32.size());
    EXPECT_GT(worst, 0.0);   // really bfloat16
    EXPECT_LT(mean, 0.01);   // operands rounded to 8 bits, sums in float32
    EXPECT_LT(worst, 0.15);
    EXPECT_LT(static_cast<double>(flips), 0.01 * static_cast<double>(f32.size()));
    gan.generate(m, z);
    EXPECT_EQ(gan.engine_packs(), packs + 2);  // back to float32
  }
}

TEST(GanInference, TrainingModeRunsTheLayers) {
  // In training mode a window is normalised by its own batch statistics: the
  // engine (eval mode only) must not run; the layers' result differs from eval's.
  GanConfig c = cases()[0].config;
  GAN gan(c, 31);
  perturb_batchnorms(gan, 32);
  Generator rng(33);
  const Tensor m = melody(c, 1, 34);
  const Tensor z = gan.sample_latent(1, rng);
  gan.set_training(false);
  const Tensor eval = gan.generate(m, z);
  gan.set_training(true);
  const Tensor train = gan.generate(m, z);
  double diff = 0.0;
  for (std::int64_t i = 0; i < eval.size(); ++i) diff = std::max(diff, static_cast<double>(std::fabs(eval[i] - train[i])));
  EXPECT_GT(diff, 1e-3);
}
