// The GAN (models/gan.hpp): sizes, gradients by finite differences, training on
// the shared loop (resume), model files, and accompaniment rules.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <unistd.h>

#include "partita/core/error.hpp"
#include "models/gan_impl.hpp"  // melody_input
#include "partita/models/gan.hpp"
#include <functional>

#include "partita/nn/gradcheck.hpp"

namespace fs = std::filesystem;
using namespace partita;
using namespace partita::models;

namespace {

// A tiny network: 16 steps x 16 pitches, 2 filters, 3 latent channels.
GanConfig tiny() {
  GanConfig c;
  c.filters = 2;
  c.latent_channels = 3;
  c.steps = 16;
  c.pitches = 16;
  return c;
}

Tensor random_windows(const GanConfig& c, std::int64_t n, std::uint64_t seed) {
  Generator g(seed);
  Tensor x({n, c.steps, c.pitches, c.tracks});
  for (std::int64_t i = 0; i < x.size(); ++i) x[i] = g.uniform() < 0.15 ? 1.0f : -1.0f;
  return x;
}

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("partita_gan_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// Windows of real music-like content for fit(): 4 tracks x 32 steps, melody in track 0.
data::MultiTrackWindows toy_windows(std::int64_t n, std::uint64_t seed) {
  data::MultiTrackWindows w(4, 32);
  Generator g(seed);
  std::vector<std::uint8_t> cells(static_cast<size_t>(w.window_cells()));
  for (std::int64_t i = 0; i < n; ++i) {
    std::fill(cells.begin(), cells.end(), 0);
    for (int t = 0; t < 4; ++t) {
      const int base = 70 - 10 * t + static_cast<int>(g.next_u64() % 5);
      for (int s = 0; s < 32; ++s) cells[static_cast<size_t>((t * 32 + s) * 128 + base + (s / 8) % 3)] = 1;
    }
    w.push(cells.data());
  }
  return w;
}

}  // namespace

TEST(Gan, ReferenceSizes) {
  GAN gan(GanConfig::reference(), 0);
  // The reference: about 8.3M generator and 2.8M critic parameters.
  EXPECT_NEAR(static_cast<double>(gan.generator_parameter_count()), 8.3e6, 0.1e6);
  EXPECT_NEAR(static_cast<double>(gan.critic_parameter_count()), 2.77e6, 0.05e6);
  GAN small(GanConfig::compact(), 0);
  EXPECT_LT(small.generator_parameter_count(), 2.5e6);
}

TEST(Gan, ShapesAndErrors) {
  const GanConfig c = tiny();
  GAN gan(c, 1);
  Generator g(2);
  Tensor x = random_windows(c, 3, 5);
  Tensor mel({3, 16, 16, 1});
  mel.fill(-1.0f);
  Tensor z = gan.sample_latent(3, g);
  EXPECT_EQ(z.shape(), (Shape{3, 1, 1, 3}));
  for (std::int64_t i = 0; i < z.size(); ++i) EXPECT_LE(std::abs(z[i]), 2.0f);
  const Tensor& y = gan.generate(mel, z);
  EXPECT_EQ(y.shape(), (Shape{3, 16, 16, 4}));
  for (std::int64_t i = 0; i < y.size(); ++i) EXPECT_LE(std::abs(y[i]), 1.0f);
  EXPECT_EQ(gan.critique(x, mel).size(), 3);
  Tensor bad({3, 16, 16, 2});
  EXPECT_THROW(gan.generate(bad, z), ShapeError);
  EXPECT_THROW(gan.critique(bad, mel), ShapeError);
  EXPECT_THROW(gan.generate(mel, gan.sample_latent(2, g)), ShapeError);
  EXPECT_THROW(gan.critic_loss_and_backward(x, z, {0.5f}), ShapeError);
  GanConfig wrong = c;
  wrong.steps = 20;
  EXPECT_THROW(GAN(wrong, 0), InvalidArgument);
  wrong = c;
  wrong.programs = {1, 2};
  EXPECT_THROW(GAN(wrong, 0), InvalidArgument);
}

// Share of `count` random trainable elements of `ps` whose analytic gradient
// (what loss_and_backward left in the grads) agrees with a central difference.
// The losses are piecewise smooth: LeakyReLU/ReLU kinks make a few differences
// meaningless (and the penalty's gradient norm jumps where a slope flips), so the
// check asks for most elements; exactness is the PyTorch twin test's job
// (test_models_gan_twin.cpp).
double agreeing_share(nn::ParameterSet& ps, const std::function<double()>& loss, double eps, int count,
                      std::uint64_t seed) {
  loss();
  std::vector<nn::Parameter*> params;
  for (nn::Parameter& p : ps.params())
    if (p.trainable) params.push_back(&p);
  std::vector<Tensor> grads;
  for (nn::Parameter* p : params) grads.emplace_back(Tensor(p->grad));
  Generator g(seed);
  int ok = 0;
  for (int k = 0; k < count; ++k) {
    const size_t pi = static_cast<size_t>(g.next_u64() % params.size());
    nn::Parameter& p = *params[pi];
    const std::int64_t i = static_cast<std::int64_t>(g.next_u64() % static_cast<std::uint64_t>(p.value.size()));
    const float v = p.value[i];
    p.value[i] = v + static_cast<float>(eps);
    const double lp = loss();
    p.value[i] = v - static_cast<float>(eps);
    const double lm = loss();
    p.value[i] = v;
    const double num = (lp - lm) / (2.0 * eps), ana = grads[pi][i];
    if (std::abs(num - ana) <= 2e-4 + 3e-2 * std::max(std::abs(num), std::abs(ana))) ++ok;
  }
  return static_cast<double>(ok) / count;
}

// Generator loss -mean D(G(z|c)|c) (train-mode BatchNorm).
TEST(Gan, GeneratorGradientMatchesFiniteDifferences) {
  const GanConfig c = tiny();
  GAN gan(c, 3);
  gan.set_training(true);
  Generator g(4);
  Tensor x = random_windows(c, 4, 7);
  Tensor z = gan.sample_latent(4, g);
  const double share = agreeing_share(
      gan.generator_parameters(), [&] { return gan.generator_loss_and_backward(x, z); }, 1e-3, 60, 1);
  EXPECT_GE(share, 0.85);
}

// Critic loss: the Wasserstein part plus the exact penalty gradient.
TEST(Gan, CriticGradientMatchesFiniteDifferences) {
  const GanConfig c = tiny();
  GAN gan(c, 5);
  Generator g(6);
  Tensor x = random_windows(c, 3, 8);
  Tensor z = gan.sample_latent(3, g);
  const std::vector<float> e = {0.2f, 0.7f, 0.45f};
  auto loss = [&] {
    auto l = gan.critic_loss_and_backward(x, z, e);
    return l.wasserstein + l.penalty;
  };
  EXPECT_GE(agreeing_share(gan.critic_parameters(), loss, 2e-4, 60, 2), 0.85);
}

// The melody's pitch classes as a second channel (GanConfig::melody_chroma):
// the channel's values, both gradients, and the option travelling in model files.
TEST(Gan, MelodyChromaChannel) {
  GanConfig c = tiny();
  c.melody_chroma = true;
  Tensor m({1, c.steps, c.pitches, 1});
  m.fill(-1.0f);
  m[0 * c.pitches + 2] = 1.0f;   // step 0: pitch 2 (pitch class 2)
  m[1 * c.pitches + 13] = 1.0f;  // step 1: pitch 13 (pitch class 1)
  Tensor in;
  melody_input(m, in);
  ASSERT_EQ(in.shape(), (Shape{1, c.steps, c.pitches, 2}));
  for (std::int64_t p = 0; p < c.pitches; ++p) {
    EXPECT_EQ(in[(0 * c.pitches + p) * 2], m[0 * c.pitches + p]);
    EXPECT_EQ(in[(0 * c.pitches + p) * 2 + 1], p % 12 == 2 ? 1.0f : -1.0f) << p;
    EXPECT_EQ(in[(1 * c.pitches + p) * 2 + 1], p % 12 == 1 ? 1.0f : -1.0f) << p;
    EXPECT_EQ(in[(2 * c.pitches + p) * 2 + 1], -1.0f) << p;  // a rest: no pitch class
  }

  GAN gan(c, 3);
  GAN plain(tiny(), 3);
  EXPECT_GT(gan.generator_parameter_count(), plain.generator_parameter_count());  // a second input channel
  EXPECT_GT(gan.critic_parameter_count(), plain.critic_parameter_count());
  gan.set_training(true);
  Generator g(4);
  Tensor x = random_windows(c, 4, 7);
  Tensor z = gan.sample_latent(4, g);
  EXPECT_GE(agreeing_share(gan.generator_parameters(), [&] { return gan.generator_loss_and_backward(x, z); }, 1e-3,
                           60, 1),
            0.85);
  const std::vector<float> e = {0.2f, 0.7f, 0.45f, 0.9f};
  EXPECT_GE(agreeing_share(
                gan.critic_parameters(),
                [&] {
                  auto l = gan.critic_loss_and_backward(x, z, e);
                  return l.wasserstein + l.penalty;
                },
                2e-4, 60, 2),
            0.85);

  // The channel matters: another pitch class at step 0 changes the generated window.
  gan.set_training(false);
  Tensor m1 = m, z1 = gan.sample_latent(1, g);
  const Tensor a = gan.generate(m1, z1);
  m1[0 * c.pitches + 2] = -1.0f;
  m1[0 * c.pitches + 3] = 1.0f;
  const Tensor b = gan.generate(m1, z1);
  double moved = 0.0;
  for (std::int64_t i = 0; i < a.size(); ++i) moved = std::max(moved, static_cast<double>(std::fabs(a[i] - b[i])));
  EXPECT_GT(moved, 1e-4);

  // Saved and loaded with the option; JSON without it means false.
  const fs::path d = temp_dir("chroma");
  gan.save((d / "g.safetensors").string());
  GAN back = GAN::load((d / "g.safetensors").string());
  EXPECT_TRUE(back.config().melody_chroma);
  EXPECT_FALSE(back.config().same_architecture(tiny()));
  const Tensor again = back.generate(m1, z1);
  for (std::int64_t i = 0; i < b.size(); ++i) ASSERT_EQ(again[i], b[i]) << i;
  EXPECT_FALSE(GanConfig::from_json(tiny().to_json(), "test").melody_chroma);
  EXPECT_EQ(tiny().to_json().find("melody_chroma"), std::string::npos);
  fs::remove_all(d);
}

TEST(Gan, FitResumesExactlyAndSavesBothNetworks) {
  GanConfig c;
  c.filters = 4;
  c.latent_channels = 8;
  const data::MultiTrackWindows train = toy_windows(40, 1), valid = toy_windows(8, 2);
  GanFitOptions o;
  o.batch_size = 4;
  o.critic_steps = 2;
  o.epochs = 2;
  o.max_steps_per_epoch = 2;
  o.seed = 9;
  const fs::path dir = temp_dir("fit");
  o.checkpoint_dir = dir.string();

  GAN full(c, 11);
  int samples = 0;
  GanCallbacks cb;
  o.sample_every = 3;
  o.sample_count = 6;  // more samples than a batch holds
  cb.on_sample = [&](const GanSample& s) {
    ++samples;
    EXPECT_EQ(s.generated.dim(3), 4);
    EXPECT_EQ(s.generated.dim(0), 6);
  };
  const FitResult r_full = full.fit(train, valid, o, cb);
  ASSERT_EQ(r_full.history.size(), 2u);
  EXPECT_EQ(samples, 1);
  EXPECT_TRUE(std::isfinite(r_full.history[1].valid_loss));
  const auto& names = r_full.history[0].train_losses;
  ASSERT_EQ(names.size(), 4u);
  EXPECT_EQ(names[0].first, "critic");
  EXPECT_EQ(names[1].first, "generator");

  // One epoch, then resume for the second: the same weights bit for bit.
  const fs::path dir2 = temp_dir("fit2");
  GanFitOptions o1 = o;
  o1.checkpoint_dir = dir2.string();
  o1.epochs = 1;
  o1.sample_every = 0;
  GAN a(c, 11);
  a.fit(train, valid, o1);
  GAN b(c, 11);
  o1.epochs = 2;
  o1.resume = true;
  const FitResult r_res = b.fit(train, valid, o1);
  ASSERT_EQ(r_res.history.size(), 2u);
  EXPECT_DOUBLE_EQ(r_res.history[1].train_loss, r_full.history[1].train_loss);
  const Tensor& ga = full.generator_parameters().values();
  const Tensor& gb = b.generator_parameters().values();
  ASSERT_EQ(ga.size(), gb.size());
  for (std::int64_t i = 0; i < ga.size(); ++i) ASSERT_EQ(ga[i], gb[i]) << i;

  // Model files: with and without the critic.
  const std::string both = (dir / "both.safetensors").string(), gen = (dir / "gen.safetensors").string();
  full.save(both);
  full.save(gen, {}, /*with_critic=*/false);
  GAN lb = GAN::load(both), lg = GAN::load(gen);
  EXPECT_TRUE(lb.has_critic());
  EXPECT_FALSE(lg.has_critic());
  EXPECT_FALSE(lg.training());
  const Tensor& gl = lg.generator_parameters().values();
  for (std::int64_t i = 0; i < ga.size(); ++i) ASSERT_EQ(ga[i], gl[i]);
  EXPECT_NEAR(lg.config().melody_mean_pitch, full.config().melody_mean_pitch, 1e-12);
  EXPECT_THROW(GAN::load((dir / "missing.safetensors").string()), IoError);
  fs::remove_all(dir);
  fs::remove_all(dir2);
}

namespace {

Score melody_score(int transpose = 0, int bars = 5) {
  Score s;
  s.ticks_per_quarter = 480;
  Track t;
  t.name = "Melody";
  t.program = 73;
  const int line[] = {67, 69, 71, 72, 74, 72, 71, 69};
  for (int q = 0; q < bars * 4; ++q) t.notes.push_back({line[q % 8] + transpose, 90, q * 480, q * 480 + 470});
  s.tracks.push_back(t);
  return s;
}

}  // namespace

TEST(Gan, AccompanyKeepsMelodyAndNamesParts) {
  GAN gan(GanConfig::compact(), 3);
  gan.set_training(false);
  AccompanyReport rep;
  const Score in = melody_score();
  const Score out = gan.accompany(in, {}, &rep);
  ASSERT_EQ(out.tracks.size(), 4u);
  EXPECT_EQ(out.tracks[0].notes, in.tracks[0].notes);
  EXPECT_EQ(out.tracks[0].name, "Melody");
  EXPECT_EQ(out.tracks[1].name, "Alto");
  EXPECT_EQ(out.tracks[3].program, 52);
  EXPECT_EQ(rep.steps, 80);
  EXPECT_EQ(rep.windows, 3);  // 80 steps in windows of 32
  ToRollOptions ro;
  ro.resolution = 4;
  ro.track = 0;
  ro.binarize = true;
  const MultiTrackRoll parts = gan.accompany_roll(to_pianoroll(in, ro), {});
  ASSERT_EQ(parts.num_tracks(), 3u);
  EXPECT_EQ(parts.info[0].name, "Alto");
  EXPECT_EQ(parts.info[2].program, 52);
  // Programs override; same seed, same parts; another seed, other parts.
  AccompanyOptions o;
  o.programs = {0, 24, 32};
  const Score again = gan.accompany(in, o);
  EXPECT_EQ(again.tracks[2].program, 24);
  for (int k = 1; k < 4; ++k) EXPECT_EQ(again.tracks[k].notes, out.tracks[k].notes);
  o.seed = 99;
  const Score other = gan.accompany(in, o);
  bool differs = false;
  for (int k = 1; k < 4; ++k) differs |= other.tracks[k].notes != out.tracks[k].notes;
  EXPECT_TRUE(differs);
}

// A melody two octaves up is moved down into the model's register and its parts
// come back two octaves up: the same parts, transposed.
TEST(Gan, AccompanyMapsRegisterAndBack) {
  GAN gan(GanConfig::compact(), 4);
  gan.set_training(false);
  for (float leap : {0.0f, AccompanyOptions().leap_penalty}) {
    AccompanyOptions o;
    o.leap_penalty = leap;
    AccompanyReport r0, r24;
    const Score a = gan.accompany(melody_score(0), o, &r0);
    const Score b = gan.accompany(melody_score(24), o, &r24);
    EXPECT_EQ(r0.octave_shift - 24, r24.octave_shift);
    size_t kept = 0;
    for (int k = 1; k < 4; ++k) {
      // Parts an octave or two above the top of MIDI's range are dropped in b.
      std::vector<Note> up;
      for (Note n : a.tracks[k].notes)
        if ((n.pitch += 24) <= 127) up.push_back(n);
      kept += up.size();
      std::sort(up.begin(), up.end(), [](const Note& p, const Note& q) {
        return p.start != q.start ? p.start < q.start : p.pitch < q.pitch;
      });
      EXPECT_EQ(up, b.tracks[k].notes) << "leap penalty " << leap;
    }
    EXPECT_GT(kept, 0u) << "leap penalty " << leap;
  }
}

// The model hears the melody's top line: a lower second voice in the melody track
// changes neither the register mapping nor the parts.
TEST(Gan, AccompanyHearsTheTopLine) {
  GAN gan(GanConfig::compact(), 7);
  const Score plain = melody_score();
  Score doubled = plain;
  for (const Note& n : plain.tracks[0].notes) doubled.tracks[0].notes.push_back({n.pitch - 16, 70, n.start, n.end});
  std::sort(doubled.tracks[0].notes.begin(), doubled.tracks[0].notes.end(),
            [](const Note& a, const Note& b) { return a.start != b.start ? a.start < b.start : a.pitch < b.pitch; });
  AccompanyReport ra, rb;
  const Score a = gan.accompany(plain, {}, &ra), b = gan.accompany(doubled, {}, &rb);
  EXPECT_EQ(ra.octave_shift, rb.octave_shift);
  EXPECT_EQ(b.tracks[0].notes, doubled.tracks[0].notes);  // the input track is kept whole
  for (int k = 1; k < 4; ++k) EXPECT_EQ(a.tracks[k].notes, b.tracks[k].notes);
}

// Cells held across a window boundary are one note, not two.
TEST(Gan, AccompanyJoinsNotesAcrossWindows) {
  GAN gan(GanConfig::compact(), 5);
  AccompanyOptions o;
  o.threshold = -0.9999f;  // nearly every cell sounds: every pitch is one long note
  o.monophonic = false;
  const Score out = gan.accompany(melody_score(0, 4), o);
  for (int k = 1; k < 4; ++k) {
    for (const Note& n : out.tracks[k].notes) {
      if (n.end - n.start > 16 * 120) continue;  // a long note crosses the boundary at step 32
      const std::int64_t boundary = 32 * 120;
      EXPECT_FALSE(n.end == boundary || n.start == boundary) << "a note cut at the window boundary";
    }
  }
  o.threshold = 0.0f;
  o.monophonic = true;
  o.min_note_steps = 3;
  const Score trimmed = gan.accompany(melody_score(0, 4), o);
  for (int k = 1; k < 4; ++k)
    for (const Note& n : trimmed.tracks[k].notes) EXPECT_GE(n.end - n.start, 3 * 120);
  // Monophonic parts: no two notes of a part overlap.
  const Score mono = gan.accompany(melody_score(0, 4), {});
  for (int k = 1; k < 4; ++k) {
    std::vector<Note> ns = mono.tracks[k].notes;
    EXPECT_FALSE(ns.empty());
    for (size_t i = 1; i < ns.size(); ++i) EXPECT_LE(ns[i - 1].end, ns[i].start) << "part " << k;
  }
}

TEST(Gan, AccompanyRefusesWhatItCannotHold) {
  GAN gan(GanConfig::compact(), 6);
  Score s = melody_score();
  AccompanyOptions o;
  o.programs = {1, 2};
  EXPECT_THROW(gan.accompany(s, o), InvalidArgument);
  o = {};
  o.track = 3;
  EXPECT_THROW(gan.accompany(s, o), InvalidArgument);
  Score odd = s;
  odd.time_signatures.push_back({0, 3, 32});
  EXPECT_THROW(gan.accompany(odd, {}), InvalidArgument);
  Score empty;
  EXPECT_THROW(gan.accompany(empty, {}), InvalidArgument);
  Score drums = s;
  drums.tracks[0].is_drum = true;
  EXPECT_THROW(gan.accompany(drums, {}), InvalidArgument);
  Score three_four = s;
  three_four.time_signatures.push_back({0, 3, 4});
  EXPECT_NO_THROW(gan.accompany(three_four, {}));
}
