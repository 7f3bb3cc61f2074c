// ARCNN: logits, loss, gradients and BatchNorm statistics against the PyTorch twin
// (committed fixture), config and weights I/O, fit (loss goes down, checkpoints,
// exact resume), editing Scores of any length, and errors.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "partita/core/error.hpp"
#include "partita/core/threads.hpp"
#include "partita/models/arcnn.hpp"
#include "partita/optim/safetensors.hpp"

using namespace partita;
using namespace partita::models;
namespace fs = std::filesystem;

// One thread: the suite runs many test programs side by side on few cores.
static const int kOneThread = (set_num_threads(1), 1);

static const std::string kFix = std::string(PARTITA_TEST_DATA) + "/arcnn/";

static fs::path temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("partita_arcnn_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

static void expect_close(const Tensor& got, const Tensor& want, double rtol, double atol,
                         const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double worst = 0;
  std::int64_t at = 0;
  for (std::int64_t i = 0; i < got.size(); ++i) {
    double err = std::abs(double(got[i]) - double(want[i])) - rtol * std::abs(double(want[i]));
    if (err > worst) worst = err, at = i;
  }
  EXPECT_LE(worst, atol) << what << ": element " << at << " got " << got[at] << " want " << want[at];
}

// The fixtures (tools/torch_twins/arcnn_twin.py fixture): "twin" has 4 filters, so
// its convolutions take the im2col paths (but the bottleneck's second, 16 -> 16);
// "twin16" has 16, so all but the first 3x3 convolution, and the decoders' fused
// upsample-concat-convolutions, take the Winograd paths.
static void expect_eval_matches(const std::string& fixture, int filters) {
  SCOPED_TRACE(fixture);
  ARCNN m = ARCNN::load(kFix + fixture + "_weights.safetensors");
  EXPECT_EQ(m.config().levels, 2);
  EXPECT_EQ(m.config().base_filters, filters);
  optim::SafetensorsReader io(kFix + fixture + "_io.safetensors");
  Tensor x = io.read_f32("input"), label = io.read_f32("label");
  m.set_training(false);
  expect_close(m.forward(x), io.read_f32("logits_eval"), 1e-4, 1e-4, "eval logits");
  EXPECT_NEAR(m.evaluate_loss(x, label), io.read_f32("loss_eval")[0], 1e-4);
}

static void expect_training_matches(const std::string& fixture) {
  SCOPED_TRACE(fixture);
  ARCNN m = ARCNN::load(kFix + fixture + "_weights.safetensors");
  optim::SafetensorsReader io(kFix + fixture + "_io.safetensors");
  Tensor x = io.read_f32("input"), label = io.read_f32("label");
  m.set_training(true);
  m.parameters().zero_grad();
  float loss = m.loss_and_backward(x, label);
  EXPECT_NEAR(loss, io.read_f32("loss_train")[0], 1e-4);
  int checked = 0;
  for (auto& p : m.parameters().params()) {
    if (p.trainable) {
      Tensor want_t = io.read_f32("grad." + p.name);
      Tensor want(p.shape);
      optim::from_torch_layout(p, want_t.data(), want.data());
      double scale = 0;
      for (std::int64_t i = 0; i < want.size(); ++i) scale = std::max(scale, std::abs(double(want[i])));
      expect_close(p.grad, want, 1e-3, 1e-4 * scale + 1e-6, "grad " + p.name);
    } else {
      expect_close(p.value, io.read_f32("after_train." + p.name), 1e-4, 1e-5, "buffer " + p.name);
    }
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(m.parameters().params().size()));
  EXPECT_GT(checked, 20);
}

TEST(ArcnnTwin, EvalLogitsAndLossMatchPyTorch) { expect_eval_matches("twin", 4); }
TEST(ArcnnTwin, TrainingGradientsAndRunningStatsMatchPyTorch) { expect_training_matches("twin"); }
TEST(ArcnnTwin, WinogradPathsMatchPyTorch) {
  expect_eval_matches("twin16", 16);
  expect_training_matches("twin16");
}

TEST(Arcnn, ConfigJsonRoundTripAndValidation) {
  ArcnnConfig c = ArcnnConfig::compact();
  ArcnnConfig d = ArcnnConfig::from_json(c.to_json(), "t");
  EXPECT_TRUE(c == d);
  EXPECT_EQ(ArcnnConfig::reference().bottleneck(), 1024);
  EXPECT_THROW(ArcnnConfig::from_json("{\"levels\": 2}", "t"), WeightsError);
  EXPECT_THROW(ArcnnConfig::from_json("not json", "t"), WeightsError);
  ArcnnConfig bad;
  bad.levels = 0;
  EXPECT_THROW(ARCNN(bad, 0), InvalidArgument);
  bad = ArcnnConfig{};
  bad.dropout = 1.0f;
  EXPECT_THROW(ARCNN(bad, 0), InvalidArgument);
  ARCNN ref(ArcnnConfig::reference(), 0);
  EXPECT_EQ(ref.parameter_count(), 31450049);  // the twin's count; the DeepComposer sample: about 31.5M
}

TEST(Arcnn, SaveLoadRoundTripAndMismatch) {
  auto dir = temp_dir("io");
  ArcnnConfig c{2, 4, 0, 0.5f};
  ARCNN a(c, 7);
  a.save((dir / "a.safetensors").string(), {{"note", "hello"}});
  ARCNN b = ARCNN::load((dir / "a.safetensors").string());
  ASSERT_EQ(a.parameters().size(), b.parameters().size());
  for (std::int64_t i = 0; i < a.parameters().size(); ++i)
    ASSERT_EQ(a.parameters().values()[i], b.parameters().values()[i]);
  ARCNN other(ArcnnConfig{2, 8, 0, 0.5f}, 0);
  EXPECT_THROW(other.load_weights((dir / "a.safetensors").string()), WeightsError);
  EXPECT_THROW(ARCNN::load((dir / "missing.safetensors").string()), Error);
  Tensor bad({1, 30, 128, 1});
  EXPECT_THROW(a.forward(bad), ShapeError);
  fs::remove_all(dir);
}

TEST(Arcnn, LoadRefusesAConfigLargerThanTheFileBeforeAllocating) {
  // A corrupt or hostile file: a valid but enormous config (7 levels of 1024
  // filters: tens of billions of values) over one small tensor. ARCNN::load must
  // say so at once instead of trying to allocate the network.
  auto dir = temp_dir("huge");
  const std::string path = (dir / "huge.safetensors").string();
  const float one[4] = {1, 2, 3, 4};
  optim::write_safetensors(path, {{"enc.0.conv1.bias", optim::DType::F32, {4}, one}},
                           {{"model", "arcnn"},
                            {"config", "{\"levels\":7,\"base_filters\":1024,\"bottleneck_filters\":8192,"
                                       "\"dropout\":0.5,\"bn_momentum\":0.9}"}});
  const auto t0 = std::chrono::steady_clock::now();
  try {
    ARCNN::load(path);
    ADD_FAILURE() << "loaded";
  } catch (const WeightsError& e) {
    EXPECT_NE(std::string(e.what()).find("holds 4 values"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5.0);
  fs::remove_all(dir);
}

// A small repeating "melody" dataset: 16-step windows.
static data::WindowSet toy_windows(int n, std::uint64_t seed) {
  data::WindowSet w(16);
  Generator g(seed);
  for (int k = 0; k < n; ++k) {
    std::vector<std::uint8_t> cells(16 * 128, 0);
    int root = 55 + static_cast<int>(g.below(10));
    for (int t = 0; t < 16; ++t) {
      static const int scale[4] = {0, 4, 7, 12};
      cells[t * 128 + root + scale[(t / 4) % 4]] = 1;
      cells[t * 128 + root - 12] = 1;
    }
    w.push(cells.data());
  }
  return w;
}

TEST(Arcnn, FitLowersLossWritesCheckpointsAndResumesExactly) {
  auto dir = temp_dir("fit");
  auto train = toy_windows(12, 1), valid = toy_windows(4, 2);
  ArcnnConfig c{2, 4, 0, 0.25f};
  ArcnnFitOptions o;
  o.epochs = 4;
  o.batch_size = 8;
  o.lr = 3e-3;
  o.seed = 3;
  o.pairs.variants = 2;

  ARCNN full(c, 11);
  int steps = 0;
  FitCallbacks cb;
  cb.on_step = [&](const StepInfo& s) {
    EXPECT_EQ(s.steps_in_epoch, 3);
    ++steps;
    return true;
  };
  FitResult r = full.fit(train, valid, o, cb);
  EXPECT_EQ(steps, 12);
  ASSERT_EQ(r.history.size(), 4u);
  EXPECT_LT(r.history.back().train_loss, r.history.front().train_loss);
  EXPECT_TRUE(std::isfinite(r.best_valid_loss));

  // Same run with checkpoints, stopped after 2 epochs, then resumed.
  o.checkpoint_dir = (dir / "ck").string();
  ARCNN part(c, 11);
  ArcnnFitOptions o2 = o;
  o2.epochs = 2;
  part.fit(train, valid, o2);
  EXPECT_TRUE(fs::exists(dir / "ck" / "last.safetensors"));
  EXPECT_TRUE(fs::exists(dir / "ck" / "best.safetensors"));
  EXPECT_TRUE(fs::exists(dir / "ck" / "last.optim.step6.safetensors"));   // 2 epochs x 3 steps
  EXPECT_FALSE(fs::exists(dir / "ck" / "last.optim.step3.safetensors"));  // the previous epoch's, removed
  ARCNN resumed(c, 99);  // different init: everything must come from the checkpoint
  o.resume = true;
  FitResult r2 = resumed.fit(train, valid, o);
  ASSERT_EQ(r2.history.size(), 4u);
  for (int e = 0; e < 4; ++e) {
    EXPECT_NEAR(r2.history[e].train_loss, r.history[e].train_loss, 1e-5) << e;
    EXPECT_NEAR(r2.history[e].valid_loss, r.history[e].valid_loss, 1e-5) << e;
  }
  for (std::int64_t i = 0; i < full.parameters().size(); ++i)
    ASSERT_NEAR(full.parameters().values()[i], resumed.parameters().values()[i], 1e-5);
  // A folder in the layout written before the shared loop (optim-epoch<k> files,
  // no checkpoint.* keys) resumes to the same weights.
  {
    const fs::path legacy = dir / "legacy";
    ARCNN old(c, 11);
    ArcnnFitOptions ol = o2;
    ol.checkpoint_dir = (dir / "tmp").string();
    ol.resume = false;
    old.fit(train, valid, ol);
    fs::create_directories(legacy);
    optim::SafetensorsReader r((dir / "tmp" / "last.safetensors").string());
    std::vector<std::pair<std::string, std::string>> md;
    for (const auto& kv : r.metadata())
      if (kv.first.rfind("checkpoint.", 0) != 0 && kv.first != "model.version") md.push_back(kv);
    old.save((legacy / "last.safetensors").string(), md);
    fs::copy_file(dir / "tmp" / "last.optim.step6.safetensors", legacy / "optim-epoch1.safetensors");
    ARCNN back(c, 5);
    ArcnnFitOptions ob = o;
    ob.checkpoint_dir = legacy.string();
    FitResult rb = back.fit(train, valid, ob);
    ASSERT_EQ(rb.history.size(), 4u);
    EXPECT_EQ(rb.global_step, 12);
    for (std::int64_t i = 0; i < full.parameters().size(); ++i)
      ASSERT_EQ(resumed.parameters().values()[i], back.parameters().values()[i]);
  }
  // No temporary files left behind.
  for (auto& f : fs::directory_iterator(dir / "ck"))
    EXPECT_EQ(f.path().string().find(".tmp"), std::string::npos) << f.path();
  // Callback can stop early.
  ARCNN s(c, 1);
  FitCallbacks stop;
  stop.on_step = [](const StepInfo& st) { return st.global_step < 2; };
  ArcnnFitOptions o3 = o;
  o3.checkpoint_dir.clear();
  o3.resume = false;
  EXPECT_TRUE(s.fit(train, valid, o3, stop).stopped);
  o3.batch_size = 0;
  EXPECT_THROW(s.fit(train, valid, o3), InvalidArgument);
  fs::remove_all(dir);
}

static Score melody(std::int64_t quarters) {
  Score s;
  s.ticks_per_quarter = 480;
  s.tempos = {TempoChange{0, 100.0}};
  s.time_signatures = {TimeSignature{0, 3, 4}};
  Track t;
  t.name = "melody";
  t.program = 40;
  for (std::int64_t q = 0; q < quarters; ++q)
    t.notes.push_back(Note{60 + static_cast<int>(q % 8), 80, q * 480, q * 480 + 400});
  s.tracks.push_back(t);
  return s;
}

TEST(Arcnn, EditKeepsTimingProgramAndLengthAndIsSeeded) {
  ARCNN m(ArcnnConfig{2, 4, 0, 0.5f}, 5);
  EditControls c;
  c.iterations = 30;
  c.seed = 4;
  Score in = melody(20);  // 80 steps: one padded window
  std::vector<EditStats> st;
  Score out = m.edit(in, c, -1, &st);
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].iterations_run, 30);
  EXPECT_EQ(out.ticks_per_quarter, 480);
  ASSERT_EQ(out.tempos.size(), 1u);
  EXPECT_EQ(out.tempos[0].qpm, 100.0);
  EXPECT_EQ(out.time_signatures[0].numerator, 3);
  ASSERT_EQ(out.tracks.size(), 1u);
  EXPECT_EQ(out.tracks[0].program, 40);
  EXPECT_EQ(out.tracks[0].name, "melody");
  EXPECT_LE(out.end_tick(), 20 * 480);
  bool changed = out.tracks[0].notes.size() != in.tracks[0].notes.size();
  for (const Note& n : out.tracks[0].notes) {
    EXPECT_EQ(n.velocity, 100);
    EXPECT_EQ(n.start % 120, 0);
    changed |= n.end % 480 != 0 && n.end % 480 != 480 - 80;  // not one of ours
  }
  EXPECT_TRUE(changed);
  Score again = m.edit(in, c);
  EXPECT_EQ(again.tracks[0].notes, out.tracks[0].notes);
  // Longer than 8 bars: window by window, nothing cut.
  Score long_in = melody(80);  // 320 steps: 3 windows
  Score long_out = m.edit(long_in, c, 0, &st);
  EXPECT_EQ(st.size(), 3u);
  EXPECT_GT(long_out.end_tick(), 64 * 480);
}

// Any ticks per quarter works: the one quantizer rounds each note to the nearest
// 16th, and the result goes back to the input's ticks. A melody at 95 ticks per
// quarter edits like the same melody at 480 (all notes on the 16th grid).
// The closing pass: the requested iterations stay exactly as many toggles, the
// pass comes on top and leaves no one-step note the edit added; off, it does nothing.
TEST(Arcnn, EditClosingPassResolvesAddedFragments) {
  ARCNN m(ArcnnConfig{2, 4, 0, 0.5f}, 5);
  ToRollOptions to;
  to.resolution = 4;
  to.binarize = true;
  const PianoRoll in = to_pianoroll(melody(32), to).with_length(128);
  EditControls c;
  c.iterations = 80;
  c.seed = 3;
  c.resolve_iterations = 0;
  std::vector<EditStats> st0, st1;
  const PianoRoll plain = m.edit_roll(in, c, &st0);
  c.resolve_iterations = 500;
  const PianoRoll closed = m.edit_roll(in, c, &st1);
  ASSERT_EQ(st0.size(), 1u);
  ASSERT_EQ(st1.size(), 1u);
  EXPECT_EQ(st0[0].iterations_run, 80);
  EXPECT_EQ(st0[0].resolve_run, 0);
  EXPECT_EQ(st1[0].iterations_run, 80);
  const auto left0 = resolve_candidates(plain.data(), in.data(), 128);
  const auto left1 = resolve_candidates(closed.data(), in.data(), 128);
  std::size_t n0 = 0, n1 = 0;
  for (std::size_t i = 0; i < left0.size(); ++i) n0 += left0[i] && plain.data()[i], n1 += left1[i];
  ASSERT_GT(n0, 0u);  // the untrained model leaves fragments
  EXPECT_EQ(n1, 0u);
  EXPECT_GE(static_cast<std::size_t>(st1[0].resolve_run), 1u);
  EXPECT_LE(static_cast<std::size_t>(st1[0].resolve_run), n0);
}

TEST(Arcnn, EditTakesAnyTicksPerQuarter) {
  ARCNN m(ArcnnConfig{2, 4, 0, 0.5f}, 5);
  EditControls c;
  c.iterations = 20;
  c.seed = 3;
  Score a = melody(4);
  Score b = a;
  b.ticks_per_quarter = 95;
  for (Note& n : b.tracks[0].notes) {
    n.start = (n.start * 95 + a.ticks_per_quarter / 2) / a.ticks_per_quarter;
    n.end = (n.end * 95 + a.ticks_per_quarter / 2) / a.ticks_per_quarter;
  }
  const Score ea = m.edit(a, c), eb = m.edit(b, c);
  ASSERT_EQ(eb.ticks_per_quarter, 95);
  ASSERT_EQ(ea.tracks[0].notes.size(), eb.tracks[0].notes.size());
  for (size_t i = 0; i < ea.tracks[0].notes.size(); ++i) {
    const Note& x = ea.tracks[0].notes[i];
    const Note& y = eb.tracks[0].notes[i];
    EXPECT_EQ(x.pitch, y.pitch);
    // Step s lies at tick round(s * tpq / 4) in either file.
    const std::int64_t sx = x.start * 4 / a.ticks_per_quarter;
    EXPECT_EQ(y.start, (sx * 95 * 2 + 4) / 8) << i;
  }
}

TEST(Arcnn, EditRejectsBadInput) {
  ARCNN m(ArcnnConfig{2, 4, 0, 0.5f}, 5);
  EditControls c;
  Score empty;
  EXPECT_THROW(m.edit(empty, c), InvalidArgument);
  Score no_notes;
  no_notes.tracks.push_back(Track{});
  EXPECT_THROW(m.edit(no_notes, c), InvalidArgument);
  EXPECT_THROW(m.edit(no_notes, c, 0), InvalidArgument);
  Score s = melody(4);
  EXPECT_THROW(m.edit(s, c, 3), InvalidArgument);
  s.ticks_per_quarter = 0;
  EXPECT_THROW(m.edit(s, c), InvalidArgument);
  s = melody(4);
  c.creative_risk = -1;
  EXPECT_THROW(m.edit(s, c), InvalidArgument);
  c = EditControls{};
  c.max_remove_pct = 150;
  EXPECT_THROW(m.edit(s, c), InvalidArgument);
  // A stray note far out (a damaged file): refused by its length, at once,
  // instead of a roll of billions of steps. One 16th below the limit is taken.
  c = EditControls{};
  c.iterations = 1;
  s = melody(4);
  const std::int64_t tick16 = s.ticks_per_quarter / 4;
  Note far{62, 80, std::int64_t{1} << 40, (std::int64_t{1} << 40) + tick16};
  s.tracks[0].notes.push_back(far);
  try {
    m.edit(s, c);
    ADD_FAILURE() << "edited";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("at most 65536"), std::string::npos) << e.what();
  }
  s = melody(4);
  s.tracks[0].notes.push_back(Note{62, 80, (ARCNN::kMaxEditSteps - 1) * tick16, ARCNN::kMaxEditSteps * tick16});
  EXPECT_EQ(m.edit(s, c).tracks.size(), 1u);
}

#include "partita/data/jsb_chorales.hpp"

// Quality guard for the shipped model: repairing a corrupted JSB test window (half the
// notes removed, 1.5 % random cells added) must raise the cell F1 clearly; an
// untrained network does not.
static double f1(const PianoRoll& pred, const std::uint8_t* truth) {
  double tp = 0, np = 0, nt = 0;
  for (size_t i = 0; i < pred.steps() * kPitches; ++i) {
    tp += pred.data()[i] && truth[i];
    np += pred.data()[i] != 0;
    nt += truth[i] != 0;
  }
  double p = tp / std::max(1.0, np), r = tp / std::max(1.0, nt);
  return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

static double repair_gain(ARCNN& m, const data::WindowSet& test, std::int64_t index) {
  const std::uint8_t* truth = test.window(index);
  PianoRoll x = test.roll(index);
  std::uint8_t* cells = x.data();
  Generator g(static_cast<std::uint64_t>(index));
  std::vector<std::int64_t> on, off;
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(x.steps() * kPitches); ++i) (cells[i] ? on : off).push_back(i);
  for (size_t k = 0; k < on.size() / 2; ++k) {  // remove half the notes
    size_t j = k + g.below(on.size() - k);
    std::swap(on[k], on[j]);
    cells[on[k]] = 0;
  }
  for (size_t k = 0; k < off.size() * 15 / 1000; ++k) {  // add 1.5 % of the empty cells
    size_t j = k + g.below(off.size() - k);
    std::swap(off[k], off[j]);
    cells[off[k]] = 1;
  }
  EditControls c;
  c.iterations = 100;
  c.creative_risk = 0.5;
  c.seed = 1;
  return f1(m.edit_roll(x, c), truth) - f1(x, truth);
}

TEST(ArcnnShipped, RepairsCorruptedChoraleWindows) {
  std::string path;
  try {
    path = ARCNN::default_weights_path();
  } catch (const IoError&) {
    GTEST_SKIP() << "shipped model not present";
  }
  ARCNN m = ARCNN::load(path);
  EXPECT_EQ(m.config().levels, 4);
  auto test = data::make_windows(data::load_jsb_chorales(data::default_jsb_path()).test);
  double gain = (repair_gain(m, test, 0) + repair_gain(m, test, 100)) / 2;
  EXPECT_GT(gain, 0.04) << "F1 gain " << gain;
  ARCNN untrained(m.config(), 3);
  EXPECT_LT(repair_gain(untrained, test, 0), 0.02);
}
