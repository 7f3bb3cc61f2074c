// Music metrics: hand-made rolls with values worked out by hand for every
// metric (a C major scale, an empty bar, a chord, one-step notes, two tracks a
// fifth apart), the notes-of-a-roll rule with and without onsets, and the
// edge cases (empty roll, one step, bar rules, bad arguments).
#include <gtest/gtest.h>

#include <cmath>

#include "partita/core/error.hpp"
#include "partita/music/metrics.hpp"

using namespace partita;

namespace {

// Sets pitch p on steps [a, b).
void hold(PianoRoll& r, int p, std::size_t a, std::size_t b) {
  for (std::size_t t = a; t < b; ++t) r(t, p) = 1;
}

// C major scale C4..C5, one quarter (4 steps) each, in two bars of 4/4 at
// resolution 4 (32 steps), then an empty bar: 48 steps.
PianoRoll scale_roll() {
  PianoRoll r(48);
  const int pitches[8] = {60, 62, 64, 65, 67, 69, 71, 72};
  for (int i = 0; i < 8; ++i) hold(r, pitches[i], 4 * i, 4 * i + 4);
  return r;
}

}  // namespace

TEST(MusicMetrics, RollNotesRunsAndOnsets) {
  PianoRoll r(8, {}, true);
  hold(r, 60, 0, 6);
  r.onsets()(0, 60) = 1;
  r.onsets()(3, 60) = 1;  // splits the run into 3 + 3
  hold(r, 64, 7, 8);      // ends at the roll's end
  auto n = roll_notes(r);
  ASSERT_EQ(n.size(), 3u);
  EXPECT_EQ(n[0].start, 0);
  EXPECT_EQ(n[0].steps, 3);
  EXPECT_EQ(n[1].start, 3);
  EXPECT_EQ(n[1].steps, 3);
  EXPECT_EQ(n[2].pitch, 64);
  EXPECT_EQ(n[2].steps, 1);
  r.drop_onsets();
  EXPECT_EQ(roll_notes(r).size(), 2u);
}

TEST(MusicMetrics, ScaleRollMuseGan) {
  PianoRoll r = scale_roll();
  EXPECT_DOUBLE_EQ(empty_bar_rate(r), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(used_pitch_classes(r), 4.0);  // C D E F | G A B C
  EXPECT_DOUBLE_EQ(qualified_note_rate(r), 1.0);
  EXPECT_DOUBLE_EQ(qualified_note_rate(r, 5), 0.0);
  InScale c = in_scale_rate(r);
  EXPECT_DOUBLE_EQ(c.rate, 1.0);
  EXPECT_EQ(c.root, 0);
  // In G major F is out: 4 of 32 cells.
  EXPECT_DOUBLE_EQ(in_scale_rate(r, 7).rate, 28.0 / 32.0);
  EXPECT_THROW(in_scale_rate(r, 12), InvalidArgument);
}

TEST(MusicMetrics, ScaleRollMuspy) {
  PianoRoll r = scale_roll();
  // 8 notes over 7 pitch classes (C twice): -(6 * 1/8 log 1/8 + 2/8 log 2/8) = 2.75 bits.
  EXPECT_NEAR(pitch_class_entropy(r), 2.75, 1e-12);
  EXPECT_DOUBLE_EQ(scale_consistency(r), 1.0);
  EXPECT_DOUBLE_EQ(polyphony(r), 1.0);
  EXPECT_DOUBLE_EQ(polyphony_rate(r), 0.0);
  EXPECT_EQ(pitch_range(r), 12);
  EXPECT_DOUBLE_EQ(empty_beat_rate(r), 4.0 / 12.0);
  // Onsets every 4 steps in bars 1 and 2, none in bar 3: bars 1-2 equal, 2-3 differ in 4.
  EXPECT_DOUBLE_EQ(groove_consistency(r), 1.0 - 4.0 / 32.0);
}

TEST(MusicMetrics, ChordAndOneStepNotes) {
  PianoRoll r(8);
  hold(r, 60, 0, 4);
  hold(r, 64, 0, 4);
  hold(r, 67, 0, 4);
  hold(r, 61, 5, 6);  // a one-step C#
  hold(r, 72, 6, 7);  // another one-step note
  EXPECT_DOUBLE_EQ(polyphony(r), 14.0 / 6.0);
  EXPECT_DOUBLE_EQ(polyphony_rate(r), 4.0 / 8.0);
  EXPECT_DOUBLE_EQ(polyphony_rate(r, 0), 6.0 / 8.0);
  EXPECT_DOUBLE_EQ(qualified_note_rate(r), 3.0 / 5.0);
  EXPECT_EQ(pitch_range(r), 12);
  EXPECT_DOUBLE_EQ(used_pitch_classes(r), 4.0);
  EXPECT_DOUBLE_EQ(scale_consistency(r), 4.0 / 5.0);
  FragmentStats f = fragment_stats(r);
  EXPECT_EQ(f.notes, 5);
  EXPECT_EQ(f.one_step, 2);
  EXPECT_DOUBLE_EQ(f.share(), 0.4);
  EXPECT_TRUE(std::isnan(f.added_share()));
}

TEST(MusicMetrics, AddedFragments) {
  PianoRoll orig(8), edited(8);
  hold(orig, 60, 0, 4);
  hold(orig, 62, 4, 8);
  hold(edited, 60, 0, 2);  // same onset, shortened: not added
  hold(edited, 62, 4, 5);  // same onset, now one step: not added
  hold(edited, 64, 2, 3);  // added, one step
  hold(edited, 65, 5, 8);  // added, three steps
  hold(edited, 60, 6, 7);  // added (a new onset of an old pitch), one step
  FragmentStats f = fragment_stats(edited, orig);
  EXPECT_EQ(f.notes, 5);
  EXPECT_EQ(f.one_step, 3);
  EXPECT_EQ(f.added, 3);
  EXPECT_EQ(f.added_one_step, 2);
  EXPECT_DOUBLE_EQ(f.added_share(), 2.0 / 3.0);
}

TEST(MusicMetrics, TonalDistanceFifth) {
  // C against G held for two beats: the centroids of one pitch class each.
  PianoRoll a(8), b(8);
  hold(a, 60, 0, 8);
  hold(b, 67, 0, 8);
  std::array<double, 12> cc{}, cg{};
  cc[0] = 1;
  cg[7] = 1;
  auto zc = tonal_centroid(cc), zg = tonal_centroid(cg);
  // By hand: C -> (0, 1, 0, 1, 0, .5); G -> (.5, .866, 1, 0, .433, -.25).
  const double s3 = std::sqrt(3.0) / 2.0;
  const double ec[6] = {0, 1, 0, 1, 0, 0.5}, eg[6] = {0.5, s3, 1, 0, 0.5 * s3, -0.25};
  double d2 = 0;
  for (int d = 0; d < 6; ++d) {
    EXPECT_NEAR(zc[d], ec[d], 1e-12);
    EXPECT_NEAR(zg[d], eg[d], 1e-12);
    d2 += (ec[d] - eg[d]) * (ec[d] - eg[d]);
  }
  EXPECT_NEAR(tonal_distance(a, b), std::sqrt(d2), 1e-12);
  EXPECT_NEAR(tonal_distance(a, a), 0.0, 1e-12);
  // Frames where one roll is silent are skipped.
  PianoRoll c(8);
  hold(c, 67, 0, 4);
  EXPECT_NEAR(tonal_distance(a, c), std::sqrt(d2), 1e-12);
  EXPECT_TRUE(std::isnan(tonal_distance(a, PianoRoll(8))));
  EXPECT_THROW(tonal_distance(a, PianoRoll(9)), ShapeError);
  MultiTrackRoll m(3, 8);
  for (std::size_t t = 0; t < 8; ++t) {
    m.cells()(0, t, 60) = 1;
    m.cells()(1, t, 67) = 1;
    m.cells()(2, t, 60) = 1;
  }
  auto pairs = tonal_distance(m);
  ASSERT_EQ(pairs.size(), 3u);
  EXPECT_NEAR(pairs[0], std::sqrt(d2), 1e-12);
  EXPECT_NEAR(pairs[1], 0.0, 1e-12);
  EXPECT_NEAR(pairs[2], std::sqrt(d2), 1e-12);
}

TEST(MusicMetrics, PerTrackMuseGan) {
  MultiTrackRoll m(2, 32);
  for (std::size_t t = 0; t < 16; ++t) m.cells()(0, t, 60) = 1;
  auto eb = empty_bar_rate(m);
  ASSERT_EQ(eb.size(), 2u);
  EXPECT_DOUBLE_EQ(eb[0], 0.5);
  EXPECT_DOUBLE_EQ(eb[1], 1.0);
  auto upc = used_pitch_classes(m);
  EXPECT_DOUBLE_EQ(upc[0], 1.0);
  EXPECT_TRUE(std::isnan(upc[1]));
  auto qn = qualified_note_rate(m);
  EXPECT_DOUBLE_EQ(qn[0], 1.0);
  EXPECT_TRUE(std::isnan(qn[1]));
}

TEST(MusicMetrics, EmptyAndOneStepRolls) {
  PianoRoll empty(0);
  EXPECT_TRUE(std::isnan(empty_bar_rate(empty)));
  EXPECT_TRUE(std::isnan(used_pitch_classes(empty)));
  EXPECT_TRUE(std::isnan(qualified_note_rate(empty)));
  EXPECT_TRUE(std::isnan(in_scale_rate(empty).rate));
  EXPECT_TRUE(std::isnan(pitch_class_entropy(empty)));
  EXPECT_TRUE(std::isnan(scale_consistency(empty)));
  EXPECT_TRUE(std::isnan(polyphony(empty)));
  EXPECT_TRUE(std::isnan(polyphony_rate(empty)));
  EXPECT_EQ(pitch_range(empty), 0);
  EXPECT_TRUE(std::isnan(empty_beat_rate(empty)));
  EXPECT_TRUE(std::isnan(groove_consistency(empty)));
  EXPECT_EQ(fragment_stats(empty).notes, 0);

  PianoRoll one(1);
  one(0, 69) = 1;
  EXPECT_DOUBLE_EQ(empty_bar_rate(one), 0.0);  // a partial bar counts
  EXPECT_DOUBLE_EQ(empty_beat_rate(one), 0.0);
  EXPECT_DOUBLE_EQ(pitch_class_entropy(one), 0.0);
  EXPECT_DOUBLE_EQ(fragment_stats(one).share(), 1.0);
  EXPECT_TRUE(std::isnan(groove_consistency(one)));  // one bar
}

TEST(MusicMetrics, BarRules) {
  // 3/4 at resolution 2: 6 steps a bar; 13 steps = 3 bars (last partial).
  RollGrid g;
  g.resolution = 2;
  g.numerator = 3;
  PianoRoll r(13, g);
  hold(r, 60, 12, 13);
  EXPECT_DOUBLE_EQ(empty_bar_rate(r), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(empty_bar_rate(r, 13), 0.0);  // explicit bar length
  EXPECT_DOUBLE_EQ(empty_beat_rate(r), 6.0 / 7.0);  // ceil(13 / 2) beats
  EXPECT_THROW(empty_bar_rate(r, -1), InvalidArgument);
  EXPECT_THROW(qualified_note_rate(r, 0), InvalidArgument);
  EXPECT_THROW(polyphony_rate(r, -1), InvalidArgument);
  EXPECT_THROW(tonal_distance(r, r, -2), InvalidArgument);
  // 7/8 at resolution 1 is not a whole number of steps a bar.
  g.resolution = 1;
  g.numerator = 7;
  g.denominator = 8;
  PianoRoll odd(8, g);
  EXPECT_THROW(groove_consistency(odd), InvalidArgument);
  EXPECT_NO_THROW(groove_consistency(odd, 7));
}

TEST(MusicMetrics, RollMetricsGathersEach) {
  PianoRoll r = scale_roll();
  PianoRoll orig(48);
  hold(orig, 60, 0, 4);
  RollMetrics m = roll_metrics(r, &orig);
  EXPECT_DOUBLE_EQ(m.empty_bar_rate, empty_bar_rate(r));
  EXPECT_DOUBLE_EQ(m.groove_consistency, groove_consistency(r));
  EXPECT_DOUBLE_EQ(m.pitch_class_entropy, pitch_class_entropy(r));
  EXPECT_EQ(m.pitch_range, 12);
  EXPECT_EQ(m.fragments.notes, 8);
  EXPECT_EQ(m.fragments.added, 7);
  EXPECT_EQ(roll_metrics(r).fragments.added, 0);
}
