// PianoRoll: Score <-> roll round trips, quantization, onsets, length
// padding/cutting, multitrack, storage sharing, and errors on bad input.
#include <gtest/gtest.h>

#include <limits>
#include <xtensor/xview.hpp>

#include "partita/core/error.hpp"
#include "partita/music/pianoroll.hpp"

using namespace partita;

namespace {

// A one-track score at 480 ticks per quarter; notes as (pitch, vel, start, end).
Score make_score(std::vector<Note> notes, double qpm = 100.0, int num = 4, int den = 4) {
  Score s;
  s.ticks_per_quarter = 480;
  s.tempos.push_back({0, qpm});
  s.time_signatures.push_back({0, num, den});
  Track t;
  t.name = "melody";
  t.program = 40;
  t.notes = std::move(notes);
  s.tracks.push_back(t);
  s.sort();
  return s;
}

Note note(int pitch, int vel, std::int64_t start, std::int64_t end) {
  Note n;
  n.pitch = pitch;
  n.velocity = vel;
  n.start = start;
  n.end = end;
  return n;
}

}  // namespace

TEST(PianoRoll, ShapeLayoutAndViews) {
  PianoRoll r(16);
  EXPECT_EQ(r.steps(), 16u);
  EXPECT_EQ(r.cells().shape()[0], 16u);
  EXPECT_EQ(r.cells().shape()[1], 128u);
  r.cells()(3, 60) = 90;
  EXPECT_EQ(r.data()[3 * 128 + 60], 90);  // C order, time first
  EXPECT_EQ(r(3, 60), 90);
  auto bar = xt::view(r.cells(), xt::range(0, 4), xt::all());
  EXPECT_EQ(bar(3, 60), 90);
  EXPECT_EQ(r.active_cells(), 1u);
  // Copies share cells (handles); clone does not.
  PianoRoll shared = r;
  PianoRoll deep = r.clone();
  r(0, 0) = 7;
  EXPECT_EQ(shared(0, 0), 7);
  EXPECT_EQ(deep(0, 0), 0);
  EXPECT_FALSE(r.has_onsets());
  EXPECT_THROW(r.onsets(), InvalidArgument);
}

TEST(PianoRoll, AdoptDoesNotCopyAndKeepsOwnerAlive) {
  auto buffer = std::make_shared<std::vector<std::uint8_t>>(8 * 128, 0);
  std::weak_ptr<std::vector<std::uint8_t>> watch = buffer;
  PianoRoll r = PianoRoll::adopt(buffer->data(), 8, buffer);
  (*buffer)[5 * 128 + 64] = 33;
  EXPECT_EQ(r(5, 64), 33);
  buffer.reset();
  EXPECT_FALSE(watch.expired());  // the roll holds it
  r = PianoRoll();
  EXPECT_TRUE(watch.expired());
}

TEST(PianoRoll, OnGridNotesRoundTripExactly) {
  // 480 ticks per quarter, resolution 4: one step = 120 ticks.
  Score s = make_score({note(60, 100, 0, 480), note(64, 80, 480, 720), note(67, 64, 480, 1920),
                        note(72, 127, 1800, 1920)},
                       100.0, 3, 4);
  ToRollOptions o;
  o.resolution = 4;
  PianoRoll r = to_pianoroll(s, o);
  EXPECT_EQ(r.steps(), 16u);
  EXPECT_EQ(r.grid.tempo, 100.0);
  EXPECT_EQ(r.grid.numerator, 3);
  EXPECT_EQ(r.info.program, 40);
  EXPECT_EQ(r(0, 60), 100);
  EXPECT_EQ(r(3, 60), 100);
  EXPECT_EQ(r(4, 60), 0);
  EXPECT_EQ(r(4, 64), 80);
  EXPECT_EQ(r(15, 72), 127);
  Score back = from_pianoroll(r);
  ASSERT_EQ(back.tracks.size(), 1u);
  EXPECT_EQ(back.tracks[0].notes, s.tracks[0].notes);
  EXPECT_EQ(back.tracks[0].program, 40);
  ASSERT_EQ(back.tempos.size(), 1u);
  EXPECT_EQ(back.tempos[0].qpm, 100.0);
  ASSERT_EQ(back.time_signatures.size(), 1u);
  EXPECT_EQ(back.time_signatures[0].numerator, 3);
  EXPECT_EQ(back.time_signatures[0].denominator, 4);
}

TEST(PianoRoll, TempoDoesNotChangeTheRoll) {
  std::vector<Note> notes = {note(60, 90, 0, 240), note(62, 90, 240, 960)};
  PianoRoll slow = to_pianoroll(make_score(notes, 60.0));
  PianoRoll fast = to_pianoroll(make_score(notes, 180.0));
  EXPECT_EQ(slow.cells(), fast.cells());
  EXPECT_EQ(from_pianoroll(fast).tempos[0].qpm, 180.0);
  FromRollOptions fo;
  fo.tempo = 90.0;
  fo.ticks_per_quarter = 96;
  Score s = from_pianoroll(fast, fo);
  EXPECT_EQ(s.tempos[0].qpm, 90.0);
  EXPECT_EQ(s.ticks_per_quarter, 96);
  EXPECT_EQ(s.tracks[0].notes[1].start, 48);  // step 2 at 96 tpq / 4 steps
  EXPECT_EQ(s.tracks[0].notes[1].end, 192);
}

TEST(PianoRoll, OffGridNotesQuantizeToNearestStep) {
  // step = 120 ticks. 1521 / 120 = 12.675 -> 13; 50 -> 0.42 -> 0; 60 -> 0.5 -> 1
  // (halves up); a 10-tick note at 130 rounds to [1, 1) and is stretched to 1 step.
  Score s = make_score({note(60, 100, 50, 1521), note(62, 100, 60, 179),
                        note(64, 100, 130, 140), note(66, 100, 300, 300)});
  PianoRoll r = to_pianoroll(s);
  Score back = from_pianoroll(r);
  const auto& n = back.tracks[0].notes;
  ASSERT_EQ(n.size(), 4u);
  EXPECT_EQ(n[0], note(60, 100, 0, 1560));
  EXPECT_EQ(n[1], note(62, 100, 120, 240));
  EXPECT_EQ(n[2], note(64, 100, 120, 240));
  EXPECT_EQ(n[3], note(66, 100, 360, 480));  // zero-length note: one step
}

// tick_to_step is the one quantizer rule (model data uses it too): halves up,
// any ticks per quarter, and the same as rounding ticks to whole steps of
// tpq / r ticks (halves up) when tpq is a multiple of r.
TEST(PianoRoll, TickToStepIsTheOneRule) {
  for (int tpq : {4, 24, 96, 120, 480, 960})
    for (int r : {1, 2, 4})
      if (tpq % r == 0) {
        const std::int64_t step = tpq / r;
        for (std::int64_t tick = 0; tick < 4 * tpq; ++tick)
          ASSERT_EQ(tick_to_step(tick, r, tpq), (tick + step / 2) / step) << tick << " " << tpq;
      }
  EXPECT_EQ(tick_to_step(45, 4, 90), 2);   // exactly 2
  EXPECT_EQ(tick_to_step(34, 4, 90), 2);   // 1.511 -> 2
  EXPECT_EQ(tick_to_step(33, 4, 90), 1);   // 1.467 -> 1
  EXPECT_EQ(tick_to_step(45, 4, 360), 1);  // 0.5: halves up
  EXPECT_THROW(tick_to_step(-1, 4, 480), InvalidArgument);
  EXPECT_THROW(tick_to_step(0, 0, 480), InvalidArgument);
  EXPECT_THROW(tick_to_step(0, 4, 0), InvalidArgument);
}

// A stray note far out (a damaged file) is refused by the roll's length before
// anything is allocated, as is a length or bar count asked for beyond it.
TEST(PianoRoll, LongerThanMaxRollStepsIsRefused) {
  Score s = make_score({note(60, 100, 0, 480)});
  s.ticks_per_quarter = 4;  // one tick per 16th
  s.tracks[0].notes.push_back(note(62, 100, std::int64_t(1) << 28, (std::int64_t(1) << 28) + 1));
  ToRollOptions o;
  o.binarize = true;
  try {
    to_pianoroll(s, o);
    ADD_FAILURE() << "built";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("at most 16777216"), std::string::npos) << e.what();
  }
  EXPECT_THROW(to_multitrack(s, o), InvalidArgument);
  Score ok = make_score({note(60, 100, 0, 480)});
  o.length = kMaxRollSteps + 1;
  EXPECT_THROW(to_pianoroll(ok, o), InvalidArgument);
  o.length = -1;
  o.bars = std::numeric_limits<std::int64_t>::max() / 2;  // no overflow either
  EXPECT_THROW(to_pianoroll(ok, o), InvalidArgument);
}

TEST(PianoRoll, OnsetsSeparateRepeatedFromHeldNotes) {
  // Two repeated quarter notes vs one held half note on the same pitch.
  Score repeated = make_score({note(60, 100, 0, 480), note(60, 100, 480, 960)});
  Score held = make_score({note(60, 100, 0, 960)});
  PianoRoll a = to_pianoroll(repeated);
  PianoRoll b = to_pianoroll(held);
  EXPECT_EQ(a.cells(), b.cells());  // without onsets they look alike
  EXPECT_EQ(from_pianoroll(a).tracks[0].notes.size(), 1u);

  ToRollOptions o;
  o.onsets = true;
  PianoRoll ao = to_pianoroll(repeated, o);
  PianoRoll bo = to_pianoroll(held, o);
  ASSERT_TRUE(ao.has_onsets());
  EXPECT_EQ(ao.onsets()(4, 60), 1);
  EXPECT_EQ(bo.onsets()(4, 60), 0);
  EXPECT_EQ(from_pianoroll(ao).tracks[0].notes, repeated.tracks[0].notes);
  EXPECT_EQ(from_pianoroll(bo).tracks[0].notes, held.tracks[0].notes);

  // derive_onsets marks only run starts, so it reads as the held version.
  PianoRoll d = a.clone();
  d.derive_onsets();
  EXPECT_EQ(d.onsets(), bo.onsets());
}

TEST(PianoRoll, BinarizeAndVelocityOptions) {
  Score s = make_score({note(60, 30, 0, 480), note(64, 90, 0, 480)});
  ToRollOptions o;
  o.binarize = true;
  PianoRoll r = to_pianoroll(s, o);
  EXPECT_TRUE(r.binary);
  EXPECT_EQ(r(0, 60), 1);
  EXPECT_EQ(r(0, 64), 1);
  Score back = from_pianoroll(r);
  EXPECT_EQ(back.tracks[0].notes[0].velocity, 100);  // binary rolls play at 100
  FromRollOptions fo;
  fo.velocity = 64;
  fo.program = 5;
  back = from_pianoroll(r, fo);
  EXPECT_EQ(back.tracks[0].notes[1].velocity, 64);
  EXPECT_EQ(back.tracks[0].program, 5);
  PianoRoll v = to_pianoroll(s);
  PianoRoll vb = v.binarized();
  EXPECT_EQ(vb.cells(), r.cells());
  EXPECT_EQ(v(0, 60), 30);  // binarized() copied
}

TEST(PianoRoll, LengthPadsAndCuts) {
  Score s = make_score({note(60, 100, 0, 480), note(62, 100, 1440, 2400)});  // ends at step 20
  EXPECT_EQ(to_pianoroll(s).steps(), 20u);
  ToRollOptions o;
  o.length = 32;
  PianoRoll padded = to_pianoroll(s, o);
  EXPECT_EQ(padded.steps(), 32u);
  EXPECT_EQ(padded(19, 62), 100);
  EXPECT_EQ(padded(20, 62), 0);
  o.length = 14;
  PianoRoll cut = to_pianoroll(s, o);
  EXPECT_EQ(cut.steps(), 14u);
  Score back = from_pianoroll(cut);
  ASSERT_EQ(back.tracks[0].notes.size(), 2u);
  EXPECT_EQ(back.tracks[0].notes[1], note(62, 100, 1440, 1680));  // cut at step 14
  o.length = 12;  // the second note starts at step 12: gone
  EXPECT_EQ(from_pianoroll(to_pianoroll(s, o)).tracks[0].notes.size(), 1u);

  o.length = -1;
  o.whole_bars = true;  // 4/4 at resolution 4: 16-step bars
  EXPECT_EQ(to_pianoroll(s, o).steps(), 32u);
  o.whole_bars = false;
  o.bars = 1;
  EXPECT_EQ(to_pianoroll(s, o).steps(), 16u);
  Score waltz = make_score({note(60, 100, 0, 480 * 4)}, 120.0, 3, 4);  // 16 steps, 12-step bars
  ToRollOptions w;
  w.whole_bars = true;
  EXPECT_EQ(to_pianoroll(waltz, w).steps(), 24u);
  Score six8 = make_score({note(60, 100, 0, 480)}, 120.0, 6, 8);  // a bar = 3 quarters
  EXPECT_EQ(to_pianoroll(six8, w).steps(), 12u);

  PianoRoll p = padded.with_length(40);
  EXPECT_EQ(p.steps(), 40u);
  EXPECT_EQ(p(19, 62), 100);
  EXPECT_EQ(padded.with_length(10).steps(), 10u);
}

TEST(PianoRoll, TracksMergeWithMaxVelocityAndSkipDrums) {
  Score s = make_score({note(60, 50, 0, 480)});
  Track second;
  second.program = 33;
  second.notes = {note(60, 90, 240, 960), note(48, 70, 0, 480)};
  Track drums;
  drums.is_drum = true;
  drums.notes = {note(36, 100, 0, 120)};
  s.tracks.push_back(second);
  s.tracks.push_back(drums);
  PianoRoll merged = to_pianoroll(s);
  EXPECT_EQ(merged(0, 60), 50);
  EXPECT_EQ(merged(2, 60), 90);
  EXPECT_EQ(merged(7, 60), 90);
  EXPECT_EQ(merged(0, 48), 70);
  EXPECT_EQ(merged(0, 36), 0);
  EXPECT_EQ(merged.info.program, 40);
  ToRollOptions o;
  o.include_drums = true;
  EXPECT_EQ(to_pianoroll(s, o)(0, 36), 100);
  o.track = 1;
  PianoRoll one = to_pianoroll(s, o);
  EXPECT_EQ(one(0, 60), 0);
  EXPECT_EQ(one(2, 60), 90);
  EXPECT_EQ(one.info.program, 33);
}

TEST(MultiTrackRoll, RoundTripKeepsTracksProgramsAndDrums) {
  Score s = make_score({note(72, 100, 0, 960), note(74, 100, 960, 1920)});
  Track bass;
  bass.name = "bass";
  bass.program = 33;
  bass.notes = {note(36, 80, 0, 1920)};
  Track drums;
  drums.name = "kit";
  drums.is_drum = true;
  drums.notes = {note(36, 110, 0, 120), note(38, 110, 480, 600)};
  s.tracks.push_back(bass);
  s.tracks.push_back(drums);
  ToRollOptions o;
  o.onsets = true;
  MultiTrackRoll m = to_multitrack(s, o);
  EXPECT_EQ(m.num_tracks(), 3u);
  EXPECT_EQ(m.steps(), 16u);
  EXPECT_EQ(m.cells().shape()[0], 3u);
  EXPECT_EQ(m.cells()(1, 15, 36), 80);
  EXPECT_EQ(m.info[2].is_drum, true);
  EXPECT_EQ(m.info[1].name, "bass");
  Score back = from_multitrack(m);
  ASSERT_EQ(back.tracks.size(), 3u);
  for (std::size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(back.tracks[k].notes, s.tracks[k].notes) << "track " << k;
    EXPECT_EQ(back.tracks[k].program, s.tracks[k].program);
    EXPECT_EQ(back.tracks[k].is_drum, s.tracks[k].is_drum);
    EXPECT_EQ(back.tracks[k].name, s.tracks[k].name);
  }
  // track(i) is a view into the multitrack buffer.
  PianoRoll bass_roll = m.track(1);
  EXPECT_EQ(bass_roll.info.program, 33);
  bass_roll(0, 40) = 5;
  EXPECT_EQ(m.cells()(1, 0, 40), 5);
  EXPECT_EQ(bass_roll.onsets()(0, 36), 1);
  EXPECT_THROW(m.track(3), InvalidArgument);
  PianoRoll merged = m.merged();
  EXPECT_EQ(merged(0, 72), 100);
  EXPECT_EQ(merged(4, 38), 0);  // drums left out
  EXPECT_EQ(m.merged(true)(4, 38), 110);
}

TEST(PianoRoll, BadInputThrowsTypedErrors) {
  Score s = make_score({note(60, 100, 0, 480)});
  ToRollOptions o;
  o.resolution = 0;
  EXPECT_THROW(to_pianoroll(s, o), InvalidArgument);
  o = {};
  o.track = 3;
  EXPECT_THROW(to_pianoroll(s, o), InvalidArgument);
  o = {};
  o.length = 16;
  o.bars = 1;
  EXPECT_THROW(to_pianoroll(s, o), InvalidArgument);
  o = {};
  o.resolution = 1;
  o.whole_bars = true;
  EXPECT_THROW(to_pianoroll(make_score({note(60, 100, 0, 480)}, 120.0, 7, 8), o), InvalidArgument);
  Score bad = make_score({note(200, 100, 0, 480)});
  EXPECT_THROW(to_pianoroll(bad), InvalidArgument);
  Score backwards = make_score({note(60, 100, 480, 0)});
  EXPECT_THROW(to_pianoroll(backwards), InvalidArgument);
  Score far = make_score({note(60, 100, 0, std::int64_t(1) << 50)});
  EXPECT_THROW(to_pianoroll(far), InvalidArgument);
  Score huge = make_score({note(60, 100, 0, std::int64_t(480) << 24)});  // 2^26 steps * 128
  EXPECT_THROW(to_pianoroll(huge), InvalidArgument);
  try {
    to_pianoroll(bad);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("to_pianoroll"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("pitch 200"), std::string::npos);
  }
  PianoRoll r = to_pianoroll(s);
  FromRollOptions fo;
  fo.ticks_per_quarter = 0;
  EXPECT_THROW(from_pianoroll(r, fo), InvalidArgument);
  fo = {};
  fo.velocity = 200;
  EXPECT_THROW(from_pianoroll(r, fo), InvalidArgument);
  r.grid.tempo = -1;
  EXPECT_THROW(from_pianoroll(r), InvalidArgument);
  EXPECT_THROW(PianoRoll::adopt(nullptr, 4, nullptr), InvalidArgument);
}

TEST(PianoRoll, EmptyScoreGivesEmptyOrPaddedRoll) {
  Score s;
  EXPECT_EQ(to_pianoroll(s).steps(), 0u);
  ToRollOptions o;
  o.bars = 2;
  PianoRoll r = to_pianoroll(s, o);
  EXPECT_EQ(r.steps(), 32u);
  EXPECT_EQ(r.active_cells(), 0u);
  Score back = from_pianoroll(r);
  EXPECT_EQ(back.tracks.size(), 1u);
  EXPECT_EQ(back.note_count(), 0u);
  EXPECT_EQ(back.tempos[0].qpm, 120.0);
}
