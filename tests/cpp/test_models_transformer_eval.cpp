// Continuation evaluation: the features on hand-made scores, the overlapping
// area, the Markov baseline (NLL limits, sampling stop rule), the cut of a
// piece, and the whole protocol on a small random Transformer-XL.
#include <gtest/gtest.h>

#include <cmath>

#include "partita/core/error.hpp"
#include "partita/core/random.hpp"
#include "partita/core/threads.hpp"
#include "partita/models/transformer_eval.hpp"

using namespace partita;
using namespace partita::models;

static const int kOneThread = (set_num_threads(1), 1);

namespace {

// 120 qpm, 480 ticks a quarter: 960 ticks a second.
Score score_of(const std::vector<Note>& notes) {
  Score s;
  s.ticks_per_quarter = 480;
  s.tempos = {TempoChange{0, 120.0}};
  s.tracks.resize(1);
  s.tracks[0].notes = notes;
  s.sort();
  return s;
}

std::int64_t sec(double s) { return std::llround(s * 960.0); }

// A chorale-like piece: four voices in quarters (some halves), C major, `bars` bars at 120 qpm.
std::vector<std::int32_t> chorale_tokens(int bars, std::uint64_t seed) {
  Generator g(seed);
  const int scale[] = {0, 2, 4, 5, 7, 9, 11};
  std::vector<Note> notes;
  for (int v = 0; v < 4; ++v) {
    const int base = 48 + 7 * v;
    std::int64_t t = 0;
    while (t < sec(2.0 * bars)) {
      const int deg = static_cast<int>(g.uniform() * 7.0);
      const std::int64_t len = g.uniform() < 0.2 ? sec(1.0) : sec(0.5);
      notes.push_back(Note{base + scale[deg], 80, t, t + len});
      t += len;
    }
  }
  return data::performance_tokens(score_of(notes));
}

}  // namespace

TEST(ContinuationFeatures, KnownValues) {
  // C4 quarter at 0, E4 + G4 halves at 0.5 s, C5 eighth at 1.5 s.
  const Score s = score_of({Note{60, 80, 0, sec(0.5)}, Note{64, 80, sec(0.5), sec(1.5)},
                            Note{67, 80, sec(0.5), sec(1.5)}, Note{72, 80, sec(1.5), sec(1.75)}});
  const ContinuationFeatures f = continuation_features(s);
  EXPECT_DOUBLE_EQ(f.note_count, 4.0);
  EXPECT_DOUBLE_EQ(f.used_pitch_count, 4.0);
  EXPECT_DOUBLE_EQ(f.pitch_range, 12.0);
  EXPECT_DOUBLE_EQ(f.pitch_class_histogram[0], 0.5);
  EXPECT_DOUBLE_EQ(f.pitch_class_histogram[4], 0.25);
  EXPECT_DOUBLE_EQ(f.pitch_class_histogram[7], 0.25);
  EXPECT_DOUBLE_EQ(f.pitch_class_histogram[1], 0.0);
  EXPECT_NEAR(f.pitch_class_entropy, 1.5, 1e-12);  // -(.5 log .5 + 2 * .25 log .25)
  // Lengths 0.5 (quarter bin 3), 1.0 twice (half bin 4), 0.25 (eighth bin 2).
  EXPECT_DOUBLE_EQ(f.note_length_histogram[2], 0.25);
  EXPECT_DOUBLE_EQ(f.note_length_histogram[3], 0.25);
  EXPECT_DOUBLE_EQ(f.note_length_histogram[4], 0.5);
  EXPECT_DOUBLE_EQ(f.note_length_histogram[0] + f.note_length_histogram[1] + f.note_length_histogram[5] +
                       f.note_length_histogram[6],
                   0.0);
  // Distinct onsets 0, 0.5, 1.5: IOIs 0.5 and 1.0.
  EXPECT_NEAR(f.mean_ioi, 0.75, 1e-12);
  // One note for 0.5 s, two for 1 s, one for 0.25 s: (0.5 + 2 + 0.25) / 1.75.
  EXPECT_NEAR(f.polyphony, 2.75 / 1.75, 1e-12);
  for (std::size_t i = 0; i < ContinuationFeatures::names().size(); ++i) EXPECT_TRUE(f.defined(i));
  EXPECT_EQ(f.feature(0).size(), 12u);
  EXPECT_EQ(f.feature(2).size(), static_cast<std::size_t>(kNoteLengthBins));
}

TEST(ContinuationFeatures, SilenceIsNotCountedInPolyphonyAndEmptyIsUndefined) {
  const Score s = score_of({Note{60, 80, 0, sec(1.0)}, Note{62, 80, sec(3.0), sec(4.0)}});
  const ContinuationFeatures f = continuation_features(s);
  EXPECT_NEAR(f.polyphony, 1.0, 1e-12);
  EXPECT_NEAR(f.mean_ioi, 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(f.pitch_class_entropy, 1.0);
  const ContinuationFeatures one = continuation_features(score_of({Note{60, 80, 0, 10}}));
  EXPECT_TRUE(std::isnan(one.mean_ioi));
  EXPECT_DOUBLE_EQ(one.pitch_class_entropy, 0.0);
  EXPECT_DOUBLE_EQ(one.note_length_histogram[0], 1.0);  // 10 ticks: shorter than 2^-3.5 s
  const ContinuationFeatures none = continuation_features(score_of({}));
  EXPECT_DOUBLE_EQ(none.note_count, 0.0);
  EXPECT_TRUE(std::isnan(none.pitch_range));
  EXPECT_FALSE(none.defined(0));
  EXPECT_TRUE(none.defined(6));
}

TEST(OverlapArea, SameSetsNearOneApartNearZero) {
  Generator g(1);
  std::vector<std::vector<double>> real, same, far;
  for (int i = 0; i < 80; ++i) {
    const double a = g.normal(), b = g.normal();
    real.push_back({a, b});
    same.push_back({a, b});
    far.push_back({a + 100.0, b});
  }
  EXPECT_GT(set_overlap_area(real, same), 0.9);
  EXPECT_LE(set_overlap_area(real, same), 1.0);
  EXPECT_LT(set_overlap_area(real, far), 0.01);
  // Two samples of one distribution, and of two far apart.
  std::vector<double> x, y, z;
  for (int i = 0; i < 400; ++i) x.push_back(g.normal()), y.push_back(g.normal()), z.push_back(g.normal() + 20.0);
  EXPECT_GT(overlap_area(x, y), 0.9);
  EXPECT_LT(overlap_area(x, z), 1e-6);
  EXPECT_DOUBLE_EQ(overlap_area({2.0, 2.0}, {2.0}), 1.0);  // one value: the same
  EXPECT_TRUE(std::isnan(overlap_area({}, {1.0})));
  EXPECT_TRUE(std::isnan(set_overlap_area({{1.0}}, {{1.0}})));  // one real vector: no intra-set distance
  EXPECT_THROW(set_overlap_area({{1.0}, {2.0}}, {{1.0, 2.0}}), InvalidArgument);
}

TEST(MarkovEventModel, RepeatingSequenceNllApproachesZero) {
  data::TokenStreams s;
  for (int p = 0; p < 20; ++p) {
    std::vector<std::int32_t> t{0};
    for (int i = 0; i < 400; ++i) t.push_back(2 + i % 5);
    s.pieces.push_back(t);
  }
  MarkovEventModel m(3);
  m.fit(s);
  std::int64_t n = 0;
  const double nll = m.evaluate_nll(s, &n);
  EXPECT_EQ(n, 20 * 400);
  EXPECT_GT(nll, 0.0);
  EXPECT_LT(nll, 0.01);
  std::vector<double> p;
  const std::int32_t ctx[] = {2, 3, 4};
  m.distribution(ctx, 3, p);
  double total = 0.0;
  for (double v : p) total += v;
  EXPECT_NEAR(total, 1.0, 1e-12);
  EXPECT_GT(p[5], 0.99);
  EXPECT_NEAR(p[5], m.probability(ctx, 3, 5), 1e-15);
}

TEST(MarkovEventModel, UniformTokensNllApproachesLogOfTheTokensUsed) {
  const int used = 8;
  Generator g(4);
  const auto draw = [&](int pieces) {
    data::TokenStreams s;
    for (int p = 0; p < pieces; ++p) {
      std::vector<std::int32_t> t{0};
      for (int i = 0; i < 4000; ++i) t.push_back(102 + static_cast<int>(g.uniform() * used));
      s.pieces.push_back(t);
    }
    return s;
  };
  MarkovEventModel m(2);
  m.fit(draw(40));
  const double nll = m.evaluate_nll(draw(4));
  EXPECT_GT(nll, std::log(used) - 0.01);
  EXPECT_LT(nll, std::log(used) + 0.05);
}

TEST(MarkovEventModel, SamplingStopsWhenTheShiftsAddUp) {
  // Training: note on, shift 40, note off, shift 70, ... : 1.1 s per note.
  data::TokenStreams s;
  const EventOptions ev;
  std::vector<std::int32_t> t{0};
  for (int i = 0; i < 200; ++i) {
    t.push_back(ev.note_on_token(60 + i % 3));
    t.push_back(ev.time_shift_token(40));
    t.push_back(ev.note_off_token(60 + i % 3));
    t.push_back(ev.time_shift_token(70));
  }
  s.pieces.push_back(t);
  MarkovEventModel m(2);
  m.fit(s);
  for (double seconds : {0.0, 0.05, 1.0, 5.25}) {
    ExtendOptions o;
    o.seconds = seconds;
    o.seed = 3;
    ExtendReport r;
    const std::vector<std::int32_t> prime(t.begin(), t.begin() + 9);
    const auto gen = m.sample(prime, o, &r);
    std::int64_t steps = 0;
    for (std::int32_t k : gen) {
      ASSERT_NE(k, EventOptions::kStart);
      ASSERT_NE(k, EventOptions::kPad);
      if (k >= ev.time_shift_token(1) && k <= ev.time_shift_token(ev.max_shift_steps)) steps += k - 1;
    }
    EXPECT_EQ(steps, std::llround(seconds * 100.0)) << seconds;
    EXPECT_EQ(static_cast<std::int64_t>(gen.size()), r.generated_tokens);
    EXPECT_FALSE(r.hit_max_tokens);
    if (!gen.empty()) {
      EXPECT_TRUE(gen.back() >= 2 && gen.back() <= 101) << "ends on the last shift";
    }
    EXPECT_EQ(gen, m.sample(prime, o));  // seeded
  }
  ExtendOptions o;
  o.seconds = 100.0;
  o.max_tokens = 7;
  ExtendReport r;
  EXPECT_EQ(m.sample({0}, o, &r).size(), 7u);
  EXPECT_TRUE(r.hit_max_tokens);
  EXPECT_THROW(MarkovEventModel(0), InvalidArgument);
  EXPECT_THROW(MarkovEventModel(7), InvalidArgument);
}

TEST(CutContinuation, PrimeEndsAtTheCutAndTheRealWindowFollows) {
  const EventOptions ev;
  // A held C4 0..3 s; E4 at 1..1.5 s; G4 at 2.5..4 s; A4 at 4.25..5 s.
  const Score s = score_of({Note{60, 80, 0, sec(3.0)}, Note{64, 80, sec(1.0), sec(1.5)},
                            Note{67, 80, sec(2.5), sec(4.0)}, Note{69, 80, sec(4.25), sec(5.0)}});
  const std::vector<std::int32_t> tokens = data::performance_tokens(s);
  ContinuationCut c;
  ASSERT_TRUE(cut_continuation(tokens, 2.0, 2.0, c));
  EXPECT_EQ(c.cut_step, 250);  // the first event boundary at or after 2 s: G4's onset
  EXPECT_EQ(c.piece_steps, 500);
  EXPECT_EQ(c.prime.front(), EventOptions::kStart);
  EXPECT_EQ(c.prime.back(), ev.note_off_token(60));  // C4 still sounds at the cut
  const Score prime = decode_performance(std::vector<int>(c.prime.begin(), c.prime.end()), ev, 100, 60.0);
  ASSERT_EQ(prime.note_count(), 2u);
  EXPECT_EQ(prime.end_tick(), 250);
  // The real continuation [2.5, 4.5) s: G4 (0..1.5 s) and A4 (1.75 s, ended at 2 s); not the held C4.
  ASSERT_EQ(c.real.note_count(), 2u);
  EXPECT_EQ(c.real.tracks[0].notes[0], (Note{67, ev.bin_velocity(ev.velocity_bin(80)), 0, 150}));
  EXPECT_EQ(c.real.tracks[0].notes[1].start, 175);
  EXPECT_EQ(c.real.tracks[0].notes[1].end, 200);
  EXPECT_TRUE(cut_continuation(tokens, 2.0, 2.5, c));  // exactly long enough
  ASSERT_TRUE(cut_continuation(tokens, 2.0, 1.0, c));
  ASSERT_EQ(c.real.note_count(), 1u);
  EXPECT_EQ(c.real.tracks[0].notes[0].end, 100);  // ended at the window's end
  EXPECT_FALSE(cut_continuation(tokens, 2.0, 2.51, c));  // too short
  EXPECT_THROW(cut_continuation(tokens, 0.0, 1.0, c), InvalidArgument);
}

TEST(EvaluateContinuations, RunsOnASmallModel) {
  data::PerformanceSplit train, test;
  for (int i = 0; i < 6; ++i) train.streams.pieces.push_back(chorale_tokens(10, 10 + i));
  for (int i = 0; i < 5; ++i) test.streams.pieces.push_back(chorale_tokens(i == 2 ? 3 : 6, 100 + i));
  TransformerXLConfig cfg = TransformerXLConfig::small();
  TransformerXL model(cfg, 5);
  model.set_training(false);
  ContinuationOptions o;
  o.prime_seconds = 4.0;
  o.continuation_seconds = 4.0;
  o.markov_order = 2;
  const ContinuationReport r = evaluate_continuations(model, test, train, o);
  EXPECT_EQ(r.pieces_used, 4);
  EXPECT_EQ(r.pieces_skipped, 1);  // 6 s: shorter than 4 + 4
  ASSERT_EQ(r.generators.size(), 3u);
  ASSERT_EQ(r.features.size(), ContinuationFeatures::names().size());
  EXPECT_GT(r.real_notes, 0);
  for (const FeatureOverlap& f : r.features) {
    ASSERT_EQ(f.overlap.size(), 3u) << f.feature;
    for (double oa : f.overlap) {
      EXPECT_TRUE(std::isfinite(oa)) << f.feature;
      EXPECT_GE(oa, 0.0);
      EXPECT_LE(oa, 1.0);
    }
    EXPECT_FALSE(f.real_mean.empty());
  }
  EXPECT_GT(r.generated_notes[1], 0);  // the repeat baseline loops the prime's notes
  EXPECT_GT(r.model_tokens, 0);
  o.max_pieces = 2;
  EXPECT_EQ(evaluate_continuations(model, test, train, o).pieces_used, 2);
  o.prime_seconds = 60.0;
  EXPECT_THROW(evaluate_continuations(model, test, train, o), InvalidArgument);
}
