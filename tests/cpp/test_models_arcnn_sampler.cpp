// AR-CNN sampling loop against fake logits functions: distribution, temperature,
// counters and masks, early stop, reproducibility, control validation, and the
// closing pass that resolves the one-step notes an edit added.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <set>

#include "partita/core/error.hpp"
#include "partita/models/arcnn_sampler.hpp"

using namespace partita;
using namespace partita::models;

// A roll's cells as a vector (a PianoRoll copy shares them; this does not).
static std::vector<std::uint8_t> cells_of(const PianoRoll& r) {
  return std::vector<std::uint8_t>(r.data(), r.data() + r.steps() * kPitches);
}

static LogitsFn constant_logits(std::vector<float> values) {
  return [values](const Tensor& roll, Tensor& logits) {
    logits.resize(roll.shape());
    for (std::int64_t i = 0; i < logits.size(); ++i) logits[i] = values[static_cast<size_t>(i)];
  };
}

TEST(ArcnnSampler, FirstPickFollowsTemperedSoftmax) {
  // Two steps x 128 pitches; three cells carry the mass.
  std::vector<float> l(256, -1e4f);
  l[10] = 0.0f, l[20] = std::log(2.0f), l[30] = std::log(4.0f);
  for (double T : {1.0, 2.0}) {
    int counts[3] = {0, 0, 0};
    const int n = 6000;
    for (int s = 0; s < n; ++s) {
      PianoRoll w(2);
      EditControls c;
      c.iterations = 1;
      c.resolve_iterations = 0;
      c.creative_risk = T;
      Generator rng(s);
      sample_edit(w, constant_logits(l), c, rng);
      counts[0] += w.data()[10], counts[1] += w.data()[20], counts[2] += w.data()[30];
    }
    // p ~ (1, 2, 4)^(1/T)
    double z = 1 + std::pow(2.0, 1 / T) + std::pow(4.0, 1 / T);
    EXPECT_NEAR(counts[0] / double(n), 1 / z, 0.02) << "T=" << T;
    EXPECT_NEAR(counts[1] / double(n), std::pow(2.0, 1 / T) / z, 0.02);
    EXPECT_NEAR(counts[2] / double(n), std::pow(4.0, 1 / T) / z, 0.02);
  }
}

TEST(ArcnnSampler, RemovalCapHoldsAndCountersMatchTheRoll) {
  PianoRoll w(128);
  for (std::size_t t = 0; t < 10; ++t) w(t * 4, 60) = 1;  // 10 original notes
  const std::vector<std::uint8_t> original = cells_of(w);
  std::vector<float> l(128 * 128, -30.0f);
  for (int t = 0; t < 10; ++t) l[t * 4 * 128 + 60] = 10.0f;  // the model wants to toggle them
  EditControls c;
  c.max_remove_pct = 50.0;  // max_remove = 5
  c.iterations = 200;
  c.resolve_iterations = 0;
  Generator rng(3);
  auto st = sample_edit(w, constant_logits(l), c, rng);
  EXPECT_EQ(st.iterations_run, 200);
  std::int64_t removed = 0, added = 0;
  for (std::size_t i = 0; i < w.steps() * 128; ++i) {
    removed += original[i] && !w.data()[i];
    added += !original[i] && w.data()[i];
  }
  EXPECT_EQ(removed, st.removed);
  EXPECT_EQ(added, st.added);
  EXPECT_LE(st.removed, 5);
  EXPECT_GE(st.removed, 4);  // toggling between the cap and one below it
}

TEST(ArcnnSampler, AddCapIsStrictGreaterAsReference) {
  PianoRoll w(128);
  w(0, 60) = 1;
  std::vector<float> l(128 * 128, 0.0f);
  l[60] = -1e4f;  // never touch the original note
  EditControls c;
  c.max_remove_pct = 0;
  c.max_add = 3;
  c.iterations = 500;
  c.resolve_iterations = 0;
  c.creative_risk = 0.5;
  Generator rng(1);
  auto st = sample_edit(w, constant_logits(l), c, rng);
  EXPECT_LE(st.added, 4);  // added > max_add blocks new notes: at most max_add + 1
  EXPECT_GE(st.added, 3);
  EXPECT_EQ(w(0, 60), 1);
  EXPECT_EQ(st.removed, 0);
}

TEST(ArcnnSampler, StopsWhenEverythingIsMasked) {
  PianoRoll w(2);
  std::fill(w.data(), w.data() + 256, 1);  // every cell an original note
  EditControls c;
  c.max_remove_pct = 0;  // no removal allowed, nothing to add: p is all zero
  Generator rng(0);
  auto st = sample_edit(w, constant_logits(std::vector<float>(256, 0.0f)), c, rng);
  EXPECT_TRUE(st.stopped_early);
  EXPECT_EQ(st.iterations_run, 0);
  EXPECT_EQ(w.active_cells(), 256u);
}

TEST(ArcnnSampler, SameSeedSameEditAndLogitsSeeCurrentState) {
  std::vector<float> base(128 * 128);
  Generator g(9);
  for (auto& v : base) v = static_cast<float>(g.normal());
  int calls = 0;
  std::int64_t last_on = -1;
  LogitsFn fn = [&](const Tensor& roll, Tensor& logits) {
    ++calls;
    std::int64_t on = 0;
    for (std::int64_t i = 0; i < roll.size(); ++i) on += roll[i] != 0;
    if (last_on >= 0) {
      EXPECT_EQ(std::llabs(on - last_on), 1);  // one toggle per iteration
    }
    last_on = on;
    logits.resize(roll.shape());
    for (std::int64_t i = 0; i < logits.size(); ++i) logits[i] = base[static_cast<size_t>(i)];
  };
  PianoRoll a(128), b(128);
  a(5, 64) = b(5, 64) = 1;
  EditControls c;
  c.seed = 11;
  c.resolve_iterations = 0;
  Generator ra(5), rb(5), rc(6);
  sample_edit(a, fn, c, ra);
  EXPECT_EQ(calls, 100);
  last_on = -1;
  sample_edit(b, fn, c, rb);
  EXPECT_EQ(cells_of(a), cells_of(b));
  PianoRoll d(128);
  d(5, 64) = 1;
  last_on = -1;
  sample_edit(d, fn, c, rc);
  EXPECT_NE(cells_of(a), cells_of(d));
}

// Velocities count as notes: the window becomes a binary roll in place.
TEST(ArcnnSampler, VelocityCellsAreNotesAndBecomeOnes) {
  PianoRoll w(128);
  w(3, 60) = 90;
  w(7, 64) = 1;
  EditControls c;
  c.iterations = 0;
  c.resolve_iterations = 0;
  Generator rng(0);
  sample_edit(w, constant_logits(std::vector<float>(128 * 128, 0.0f)), c, rng);
  EXPECT_TRUE(w.binary);
  EXPECT_EQ(w(3, 60), 1);
  EXPECT_EQ(w(7, 64), 1);
  EXPECT_EQ(w.active_cells(), 2u);
}

TEST(ArcnnSampler, BadControlsAndLogits) {
  PianoRoll w(128);
  auto fn = constant_logits(std::vector<float>(128 * 128, 0.0f));
  Generator rng(0);
  EditControls c;
  c.max_remove_pct = 101;
  EXPECT_THROW(sample_edit(w, fn, c, rng), InvalidArgument);
  c = EditControls{};
  c.max_add = -1;
  EXPECT_THROW(sample_edit(w, fn, c, rng), InvalidArgument);
  c = EditControls{};
  c.creative_risk = 0;
  EXPECT_THROW(sample_edit(w, fn, c, rng), InvalidArgument);
  c = EditControls{};
  c.iterations = -5;
  EXPECT_THROW(sample_edit(w, fn, c, rng), InvalidArgument);
  c = EditControls{};
  c.resolve_iterations = -1;
  EXPECT_THROW(sample_edit(w, fn, c, rng), InvalidArgument);
  c = EditControls{};
  LogitsFn nan_fn = [](const Tensor& roll, Tensor& logits) {
    logits.resize(roll.shape());
    logits.fill(NAN);
  };
  EXPECT_THROW(sample_edit(w, nan_fn, c, rng), InvalidArgument);
  LogitsFn wrong = [](const Tensor&, Tensor& logits) { logits.resize({1, 4}); };
  EXPECT_THROW(sample_edit(w, wrong, c, rng), ShapeError);
}

TEST(ArcnnSampler, ResolveCandidatesAreOneStepNotesAndTheirNeighbours) {
  PianoRoll now(8), orig(8);
  now(0, 60) = 1;              // added fragment at the window's start: itself and step 1
  now(4, 62) = 1;              // added fragment: steps 3, 4, 5
  now(2, 64) = now(3, 64) = 1;  // added two-step note: not a candidate
  now(6, 65) = orig(6, 65) = 1;  // the input's own one-step note: steps 5, 6, 7 unless kept
  orig(3, 67) = orig(4, 67) = 1;
  now(4, 67) = 1;              // what is left of a cut input note: a candidate
  auto cells = [&](bool keep) {
    const auto a = resolve_candidates(now.data(), orig.data(), 8, keep);
    std::set<std::pair<int, int>> got;
    for (int t = 0; t < 8; ++t)
      for (int q = 0; q < 128; ++q)
        if (a[static_cast<size_t>(t * 128 + q)]) got.insert({t, q});
    return got;
  };
  const std::set<std::pair<int, int>> kept = {{0, 60}, {1, 60}, {3, 62}, {4, 62}, {5, 62},
                                              {3, 67}, {4, 67}, {5, 67}};
  EXPECT_EQ(cells(true), kept);
  std::set<std::pair<int, int>> all = kept;
  all.insert({{5, 65}, {6, 65}, {7, 65}});
  EXPECT_EQ(cells(false), all);
}

// Random logits that favour adding short notes: the main phase leaves fragments.
static LogitsFn noisy_logits(std::uint64_t seed) {
  auto base = std::make_shared<std::vector<float>>(128 * 128);
  Generator g(seed);
  for (auto& v : *base) v = static_cast<float>(2.0 * g.normal());
  return [base](const Tensor& roll, Tensor& logits) {
    logits.resize(roll.shape());
    for (std::int64_t i = 0; i < logits.size(); ++i) logits[i] = (*base)[static_cast<size_t>(i)];
  };
}

// With keep_input_fragments the pass resolves only the edit's own fragments.
TEST(ArcnnSampler, ClosingPassOnlyTouchesAddedFragmentsAndTheirNeighbours) {
  PianoRoll input(128);
  for (std::size_t t = 0; t < 128; t += 8) input(t, 60) = input(t + 1, 60) = input(t + 2, 60) = 1;
  input(50, 70) = 1;  // the input's own one-step note
  const std::vector<std::uint8_t> original = cells_of(input);
  const LogitsFn fn = noisy_logits(4);
  EditControls c;
  c.iterations = 150;
  c.resolve_iterations = 0;
  c.keep_input_fragments = true;
  PianoRoll main_only(128);
  std::copy(original.begin(), original.end(), main_only.data());
  Generator r0(21);
  const EditStats s0 = sample_edit(main_only, fn, c, r0);
  const auto before = resolve_candidates(main_only.data(), original.data(), 128, true);
  std::size_t fragments_before = 0;
  for (std::size_t i = 0; i < before.size(); ++i) fragments_before += before[i] && main_only.data()[i];
  ASSERT_GT(fragments_before, 5u);  // the fake model does leave fragments

  c.resolve_iterations = 500;
  PianoRoll full(128);
  std::copy(original.begin(), original.end(), full.data());
  Generator r1(21);
  const EditStats s1 = sample_edit(full, fn, c, r1);
  EXPECT_EQ(s1.iterations_run, 150);  // the requested iterations are exactly as many toggles
  EXPECT_EQ(s0.iterations_run, 150);
  EXPECT_EQ(s0.resolve_run, 0);
  // Every cell the pass changed was a candidate after the main phase, each at most once.
  int changed = 0;
  for (std::size_t i = 0; i < before.size(); ++i)
    if (full.data()[i] != main_only.data()[i]) {
      ++changed;
      EXPECT_TRUE(before[i]) << "cell " << i;
    }
  EXPECT_EQ(changed, s1.resolve_run);
  EXPECT_GE(s1.resolve_run, 1);
  EXPECT_LE(static_cast<std::size_t>(s1.resolve_run), fragments_before);
  // No added one-step note is left; the input's own is untouched.
  const auto after = resolve_candidates(full.data(), original.data(), 128, true);
  for (std::size_t i = 0; i < after.size(); ++i) EXPECT_EQ(after[i], 0) << "cell " << i;
  EXPECT_EQ(full(50, 70), main_only(50, 70));
  // The counters follow the roll.
  std::int64_t removed = 0, added = 0;
  for (std::size_t i = 0; i < original.size(); ++i) {
    removed += original[i] && !full.data()[i];
    added += !original[i] && full.data()[i];
  }
  EXPECT_EQ(removed, s1.removed);
  EXPECT_EQ(added, s1.added);
  // Same seed, same edit.
  PianoRoll again(128);
  std::copy(original.begin(), original.end(), again.data());
  Generator r2(21);
  sample_edit(again, fn, c, r2);
  EXPECT_EQ(cells_of(again), cells_of(full));
}

// By default the input's own one-step notes are resolved too: none is left in
// the output; with no removal allowed they can only be lengthened.
TEST(ArcnnSampler, ClosingPassResolvesTheInputsOneStepNotesByDefault) {
  PianoRoll input(128);
  for (std::size_t t = 0; t < 128; t += 8) input(t, 48) = 1;  // staccato one-16th notes
  for (std::size_t t = 0; t < 128; t += 16) input(t + 2, 60) = input(t + 3, 60) = input(t + 4, 60) = 1;
  const std::vector<std::uint8_t> original = cells_of(input);
  const LogitsFn fn = noisy_logits(9);
  auto one_step_notes = [](const PianoRoll& r) {
    int n = 0;
    for (std::size_t t = 0; t < 128; ++t)
      for (std::size_t q = 0; q < 128; ++q)
        n += r(t, q) && (t == 0 || !r(t - 1, q)) && (t == 127 || !r(t + 1, q));
    return n;
  };
  for (const double remove_pct : {100.0, 0.0}) {
    EditControls c;
    c.iterations = 40;
    c.max_remove_pct = remove_pct;
    PianoRoll w(128);
    std::copy(original.begin(), original.end(), w.data());
    Generator rng(5);
    const EditStats st = sample_edit(w, fn, c, rng);
    EXPECT_EQ(st.iterations_run, 40);
    EXPECT_EQ(one_step_notes(w), 0) << "max_remove_pct " << remove_pct;
    if (remove_pct == 0.0) {
      EXPECT_EQ(st.removed, 0);
      for (std::size_t t = 0; t < 128; t += 8) EXPECT_TRUE(w(t, 48)) << "step " << t;
    }
    // Kept: the same seed leaves some of the input's one-step notes as they were.
    c.keep_input_fragments = true;
    PianoRoll k(128);
    std::copy(original.begin(), original.end(), k.data());
    Generator rk(5);
    sample_edit(k, fn, c, rk);
    EXPECT_GT(one_step_notes(k), 0) << "max_remove_pct " << remove_pct;
  }
}

TEST(ArcnnSampler, ClosingPassRespectsTheCounters) {
  // No removal allowed and at most two additions (strict ">": three): the
  // closing pass may not cut an input note nor add beyond the cap.
  PianoRoll w(128);
  for (std::size_t t = 0; t < 128; t += 16) w(t, 60) = w(t + 1, 60) = 1;
  const std::vector<std::uint8_t> original = cells_of(w);
  EditControls c;
  c.max_remove_pct = 0;
  c.max_add = 2;
  c.iterations = 60;
  Generator rng(8);
  const EditStats st = sample_edit(w, noisy_logits(5), c, rng);
  EXPECT_EQ(st.iterations_run, 60);
  EXPECT_GE(st.resolve_run, 1);  // the pass ran, under the same masks
  EXPECT_EQ(st.removed, 0);
  EXPECT_LE(st.added, 3);
  for (std::size_t i = 0; i < original.size(); ++i) {
    if (original[i]) {
      EXPECT_EQ(w.data()[i], 1) << "cell " << i;
    }
  }
  std::int64_t added = 0;
  for (std::size_t i = 0; i < original.size(); ++i) added += !original[i] && w.data()[i];
  EXPECT_EQ(added, st.added);
}
