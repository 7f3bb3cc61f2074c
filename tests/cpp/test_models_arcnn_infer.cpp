// The editor's inference engine (src/models/arcnn_infer.hpp) against the
// training network's eval-mode forward, incremental against full passes, the
// direct-convolution kernel against its plain loop, and the thread team.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "models/arcnn_impl.hpp"
#include "models/arcnn_infer.hpp"
#include "nn/infer_conv.hpp"
#include "core/thread_team.hpp"
#include "partita/core/random.hpp"
#include "partita/models/arcnn.hpp"
#include "partita/models/arcnn_sampler.hpp"

using namespace partita;
using namespace partita::models;

namespace {

// Random BatchNorm statistics and affine parameters (the freshly initialised
// ones are the identity, which would hide a wrong fold).
void randomize_batchnorms(ArcnnImpl& impl, std::uint64_t seed) {
  Generator g(seed);
  for (nn::Parameter& p : impl.params.params()) {
    const std::string& n = p.name;
    if (n.find(".bn.") == std::string::npos && n.find(".bias") == std::string::npos) continue;
    Tensor& v = p.value;
    for (std::int64_t i = 0; i < v.size(); ++i) {
      if (n.find("running_var") != std::string::npos) v[i] = 0.2f + 2.0f * static_cast<float>(g.uniform());
      else if (n.find("bn.weight") != std::string::npos) v[i] = static_cast<float>(g.uniform() * 2.0 - 0.5);
      else v[i] = static_cast<float>(g.uniform() - 0.5);
    }
  }
}

Tensor random_roll(std::int64_t h, std::int64_t w, double density, std::uint64_t seed) {
  Tensor x({1, h, w, 1});
  Generator g(seed);
  for (std::int64_t i = 0; i < x.size(); ++i) x[i] = g.uniform() < density ? 1.0f : 0.0f;
  return x;
}

float max_abs(const Tensor& t) {
  float m = 0.0f;
  for (std::int64_t i = 0; i < t.size(); ++i) m = std::max(m, std::fabs(t[i]));
  return m;
}

struct Case {
  int levels, filters, bottleneck;
  std::int64_t h, w;
};

}  // namespace

TEST(ArcnnInference, MatchesTheTrainingNetworkInEvalMode) {
  // Channel counts that are and are not multiples of 16, several depths, non-square rolls.
  for (const Case& c : {Case{4, 16, 0, 128, 128}, Case{2, 4, 0, 32, 64}, Case{3, 8, 24, 64, 32},
                        Case{1, 5, 7, 16, 16}, Case{2, 32, 0, 8, 8}}) {
    ArcnnConfig cfg = ArcnnConfig::compact();
    cfg.levels = c.levels, cfg.base_filters = c.filters, cfg.bottleneck_filters = c.bottleneck;
    ArcnnImpl impl(cfg, 11);
    randomize_batchnorms(impl, 5);
    impl.set_training(false);
    for (int threads : {1, 2}) {
      ArcnnInference engine(impl, c.h, c.w, threads);
      for (double density : {0.03, 0.3}) {
        const Tensor x = random_roll(c.h, c.w, density, 7);
        const Tensor& ref = impl.forward(x);
        const float* got = engine.logits(x.data());
        const float scale = std::max(1.0f, max_abs(ref));
        for (std::int64_t i = 0; i < ref.size(); ++i)
          ASSERT_NEAR(got[i], ref[i], 2e-4f * scale)
              << "levels " << c.levels << " filters " << c.filters << " cell " << i << " threads " << threads;
      }
    }
  }
}

TEST(ArcnnInference, IncrementalPassesAreBitIdenticalToFullOnes) {
  ArcnnImpl impl(ArcnnConfig::compact(), 3);
  randomize_batchnorms(impl, 9);
  impl.set_training(false);
  ArcnnInference inc(impl, 128, 128, 2), full(impl, 128, 128, 1);
  full.max_incremental = 0;
  Tensor x = random_roll(128, 128, 0.03, 1);
  Generator g(4);
  for (int step = 0; step < 40; ++step) {
    const float* a = inc.logits(x.data());
    const float* b = full.logits(x.data());
    for (std::int64_t i = 0; i < x.size(); ++i)
      ASSERT_EQ(a[i], b[i]) << "step " << step << " cell " << i;
    // Toggle one cell (corners and edges included), sometimes two far apart.
    const std::int64_t cell = step < 4 ? std::int64_t{(step & 1) * 127 * 128 + (step >> 1) * 127}
                                       : static_cast<std::int64_t>(g.below(128 * 128));
    x[cell] = 1.0f - x[cell];
    if (step % 7 == 6) x[(cell + 8000) % x.size()] = 1.0f - x[(cell + 8000) % x.size()];
  }
  EXPECT_EQ(inc.full_passes(), 1);
  EXPECT_EQ(inc.incremental_passes(), 39);
  EXPECT_EQ(full.incremental_passes(), 0);
}

TEST(ArcnnInference, RejectsRollsTheNetworkCannotTake) {
  ArcnnImpl impl(ArcnnConfig::compact(), 3);
  EXPECT_THROW(ArcnnInference(impl, 120, 128, 1), ShapeError);
  EXPECT_THROW(ArcnnInference(impl, 8, 128, 1), ShapeError);
}

TEST(InferConv, KernelMatchesPlainLoopBitForBit) {
  // A strided, two-segment job with a cached init and one with border-class biases.
  Generator g(2);
  for (int nb : {1, 2, 4}) {
    const std::int64_t h = 5, w = 37, cin = 7, cout = 16 * nb * 2;
    std::vector<float> in(static_cast<size_t>((h + 2) * (w + 2) * 2 * cin)), init(static_cast<size_t>(h * w * cout)),
        b(static_cast<size_t>(16 * cout));
    for (auto* v : {&in, &init, &b})
      for (float& f : *v) f = static_cast<float>(g.uniform() - 0.5);
    std::vector<std::vector<float>> segs(2, std::vector<float>(static_cast<size_t>(3 * cin * cout)));
    for (auto& s : segs)
      for (float& f : s) f = static_cast<float>(g.uniform() - 0.5);
    const std::vector<float> pack = infer::pack_weights(segs, cout, nb);
    for (bool cached : {false, true}) {
      infer::ConvJob j;
      j.nseg = 2;
      for (int s = 0; s < 2; ++s) {
        j.base[s] = in.data() + s * (w + 2) * cin;
        j.row[s] = (w + 2) * cin;
        j.lda[s] = cin;
        j.k[s] = 3 * cin;
      }
      j.height = h, j.width = w, j.cout = cout, j.nb = nb, j.wpack = pack.data();
      j.out_row = w * cout, j.out_ld = cout, j.relu = cached;
      if (cached) j.init_base = init.data(), j.init_row = w * cout, j.init_ld = cout;
      else j.bias_classes = b.data();
      std::vector<float> fast(static_cast<size_t>(h * w * cout), -1.0f), slow = fast;
      j.out = fast.data();
      infer::run_conv(j, 0, h, 0, w, 0, j.blocks());
      j.out = slow.data();
      infer::run_conv_reference(j, 0, h, 0, w, 0, j.blocks());
      for (size_t i = 0; i < fast.size(); ++i) ASSERT_EQ(fast[i], slow[i]) << "nb " << nb << " i " << i;
      // A sub-rectangle writes exactly its pixels, with the same values.
      std::vector<float> part(fast.size(), -7.0f);
      j.out = part.data();
      infer::run_conv(j, 1, 3, 5, 22, 0, j.blocks());
      for (std::int64_t y = 0; y < h; ++y)
        for (std::int64_t x = 0; x < w; ++x)
          for (std::int64_t o = 0; o < cout; ++o) {
            const size_t i = static_cast<size_t>((y * w + x) * cout + o);
            const bool inside = y >= 1 && y < 3 && x >= 5 && x < 22;
            ASSERT_EQ(part[i], inside ? fast[i] : -7.0f);
          }
    }
  }
}

TEST(InferTeam, CoversEveryItemOnceAndPropagatesErrors) {
  for (int size : {1, 2, 3}) {
    for (int spin : {0, 200}) {
      core::Team team(size, spin);
      for (std::int64_t items : {1, 7, 64, 1000}) {
        for (std::int64_t grain : {1, 3, 50}) {
          std::vector<std::atomic<int>> hits(static_cast<size_t>(items));
          for (int rep = 0; rep < 20; ++rep)
            team.run(items, grain, [&](std::int64_t a, std::int64_t b) {
              if (size > 1) {
                ASSERT_LE(b - a, grain);  // one member: a single call
              }
              for (std::int64_t i = a; i < b; ++i) hits[static_cast<size_t>(i)]++;
            });
          for (auto& h : hits) ASSERT_EQ(h.load(), 20) << "size " << size << " items " << items;
        }
      }
      std::atomic<int> after{0};
      EXPECT_THROW(team.run(100, 1, [&](std::int64_t a, std::int64_t b) {
                     for (std::int64_t i = a; i < b; ++i) {
                       if (i == 57) throw std::runtime_error("boom");
                       after++;
                     }
                   }),
                   std::runtime_error);
      if (size > 1) {
        EXPECT_EQ(after.load(), 99);  // the other ranges still ran
      }
      team.run(10, 1, [&](std::int64_t, std::int64_t) {});  // still usable afterwards
    }
  }
  // With two members and long ranges the helper takes part.
  core::Team team(2, 200);
  for (int rep = 0; rep < 50 && team.helper_ranges() == 0; ++rep)
    team.run(64, 1, [](std::int64_t, std::int64_t) { std::this_thread::sleep_for(std::chrono::microseconds(50)); });
  EXPECT_GT(team.helper_ranges(), 0);
}

TEST(ArcnnInference, EditsTheSameAsTheTrainingNetworksForward) {
  // The whole edit (sampler + engine) against the sampler driven by the
  // training network's eval forward: the logits differ only by rounding, so
  // with the same seed the same cells are toggled.
  ARCNN model(ArcnnConfig::compact(), 21);
  PianoRoll roll(128);
  Generator g(8);
  for (std::size_t i = 0; i < 128 * kPitches; ++i) roll.data()[i] = g.uniform() < 0.02 ? 1 : 0;
  EditControls ctl;
  ctl.iterations = 60;
  ctl.seed = 5;
  const PianoRoll fast = model.edit_roll(roll, ctl);

  ArcnnImpl impl(ArcnnConfig::compact(), 21);  // the same weights (same seed)
  impl.set_training(false);
  PianoRoll slow = roll.clone();
  Generator rng = Generator(ctl.seed).split(0);  // edit_roll's stream for window 0
  sample_edit(slow, [&](const Tensor& x, Tensor& logits) {
    logits.resize(x.shape());
    logits.copy_from(impl.forward(x));
  }, ctl, rng);
  const std::size_t n = 128 * kPitches;
  EXPECT_EQ(std::vector<std::uint8_t>(fast.data(), fast.data() + n),
            std::vector<std::uint8_t>(slow.data(), slow.data() + n));
  std::int64_t changed = 0;
  for (size_t i = 0; i < n; ++i) changed += roll.data()[i] != fast.data()[i];
  EXPECT_GT(changed, 20);  // the edit did something
  EXPECT_TRUE(fast.binary);
  EXPECT_EQ(fast.grid.resolution, 4);
  // Only 16th-note rolls: another resolution is refused.
  PianoRoll eighths(64, RollGrid{2});
  EXPECT_THROW(model.edit_roll(eighths, ctl), InvalidArgument);
}
