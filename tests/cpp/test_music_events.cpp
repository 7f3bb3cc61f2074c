// Performance events: the token layout, hand-made scores with their token
// sequences worked out by hand (one tick = 10 ms or 1 ms, so every rule shows:
// rounding to the nearest step, out-of-range pitches, same-pitch overlaps, the
// sustain pedal, long shifts, zero-length notes, velocity changes, track
// selection) and decode (skipped <S>/<PAD>, notes left on, bad tokens).
#include <gtest/gtest.h>

#include <string>

#include "partita/core/error.hpp"
#include "partita/music/events.hpp"

using namespace partita;

namespace {

const EventOptions kOpt;

// A one-track score at 60 qpm: `tpq` ticks per second.
Score score_at(int tpq, std::vector<Note> notes, std::vector<ControlChange> cc = {}) {
  Score s;
  s.ticks_per_quarter = tpq;
  s.tempos.push_back(TempoChange{0, 60.0});
  Track t;
  t.notes = std::move(notes);
  t.controls = std::move(cc);
  s.tracks.push_back(t);
  return s;
}

Note note(int pitch, int vel, std::int64_t a, std::int64_t b) {
  Note n;
  n.pitch = pitch;
  n.velocity = vel;
  n.start = a;
  n.end = b;
  return n;
}

int on(int p) { return kOpt.note_on_token(p); }
int off(int p) { return kOpt.note_off_token(p); }
int shift(int s) { return kOpt.time_shift_token(s); }
int vel(int b) { return kOpt.velocity_token(b); }

using Tokens = std::vector<int>;

}  // namespace

TEST(MusicEvents, TokenLayoutIsTheDeepComposerVocabulary) {
  EXPECT_EQ(kOpt.vocab_size(), 310);
  EXPECT_EQ(shift(1), 2);
  EXPECT_EQ(shift(100), 101);
  EXPECT_EQ(on(21), 102);
  EXPECT_EQ(off(21), 103);
  EXPECT_EQ(on(60), 180);
  EXPECT_EQ(off(60), 181);
  EXPECT_EQ(on(108), 276);
  EXPECT_EQ(off(108), 277);
  EXPECT_EQ(vel(1), 278);
  EXPECT_EQ(vel(32), 309);
  EXPECT_EQ(kOpt.velocity_bin(1), 1);
  EXPECT_EQ(kOpt.velocity_bin(4), 1);
  EXPECT_EQ(kOpt.velocity_bin(5), 2);
  EXPECT_EQ(kOpt.velocity_bin(100), 25);
  EXPECT_EQ(kOpt.velocity_bin(127), 32);
  EXPECT_EQ(kOpt.bin_velocity(25), 97);
  EventOptions wide;
  wide.velocity_bins = 100;  // bins of 2: the top bins decode to 127, not past it
  EXPECT_EQ(wide.bin_velocity(64), 127);
  EXPECT_EQ(wide.bin_velocity(100), 127);
  EXPECT_EQ(wide.velocity_bin(127), 64);
  EXPECT_EQ(wide.vocab_size(), 2 + 100 + 176 + 100);
}

TEST(MusicEvents, OneNote) {
  auto s = score_at(100, {note(60, 100, 0, 50)});
  EXPECT_EQ(encode_performance(s), (Tokens{vel(25), on(60), shift(50), off(60)}));
  auto s2 = score_at(100, {note(60, 100, 30, 50)});
  EXPECT_EQ(encode_performance(s2), (Tokens{shift(30), vel(25), on(60), shift(20), off(60)}));
}

TEST(MusicEvents, SecondsComeFromTheTempoMap) {
  // 120 qpm then 60 qpm from tick 480 (0.5 s): tick 960 is 1.5 s.
  Score s = score_at(480, {note(60, 100, 480, 960)});
  s.tempos = {TempoChange{0, 120.0}, TempoChange{480, 60.0}};
  EXPECT_EQ(encode_performance(s), (Tokens{shift(50), vel(25), on(60), shift(100), off(60)}));
}

TEST(MusicEvents, TimesRoundToTheNearestStep) {
  // 1 tick = 1 ms: 14 ms -> step 1, 26 ms -> step 3, 125 ms -> step 13 (an exact
  // half, rounded up as note_seq), 144 ms -> step 14.
  auto s = score_at(1000, {note(60, 100, 14, 26), note(62, 100, 125, 144)});
  EXPECT_EQ(encode_performance(s), (Tokens{shift(1), vel(25), on(60), shift(2), off(60), shift(10), on(62), shift(1),
                                           off(62)}));
}

TEST(MusicEvents, OutOfRangePitchesAreDroppedAndCounted) {
  auto s = score_at(100, {note(20, 100, 0, 10), note(60, 100, 0, 10), note(109, 100, 0, 10)});
  EventStats st;
  EXPECT_EQ(encode_performance(s, -1, kOpt, &st), (Tokens{vel(25), on(60), shift(10), off(60)}));
  EXPECT_EQ(st.notes_in, 3);
  EXPECT_EQ(st.dropped_out_of_range, 2);
  EXPECT_EQ(st.notes_encoded, 1);
}

TEST(MusicEvents, NewOnsetEndsTheSoundingNoteOfItsPitch) {
  auto s = score_at(100, {note(60, 100, 0, 50), note(60, 100, 20, 80)});
  EventStats st;
  EXPECT_EQ(encode_performance(s, -1, kOpt, &st),
            (Tokens{vel(25), on(60), shift(20), off(60), on(60), shift(60), off(60)}));
  EXPECT_EQ(st.truncated_overlaps, 1);
  // Two onsets in one step: one note, the later end.
  auto d = score_at(100, {note(60, 100, 0, 10), note(60, 100, 0, 30)});
  EXPECT_EQ(encode_performance(d, -1, kOpt, &st), (Tokens{vel(25), on(60), shift(30), off(60)}));
  EXPECT_EQ(st.merged_duplicates, 1);
}

TEST(MusicEvents, SustainPedalHoldsReleasedNotes) {
  // Pedal down at 10, up at 70: the note released at 30 sounds to 70.
  auto s = score_at(100, {note(60, 100, 0, 30)}, {{10, 64, 127}, {70, 64, 0}});
  EventStats st;
  EXPECT_EQ(encode_performance(s, -1, kOpt, &st), (Tokens{vel(25), on(60), shift(70), off(60)}));
  EXPECT_EQ(st.sustained, 1);
  EventOptions dry = kOpt;
  dry.sustain = false;
  EXPECT_EQ(encode_performance(s, -1, dry), (Tokens{vel(25), on(60), shift(30), off(60)}));
  // A held note ends at the next onset of its pitch; other controllers do nothing.
  auto r = score_at(100, {note(60, 100, 0, 20), note(60, 100, 40, 50)}, {{0, 64, 100}, {5, 7, 0}, {90, 64, 63}});
  EXPECT_EQ(encode_performance(r), (Tokens{vel(25), on(60), shift(40), off(60), on(60), shift(50), off(60)}));
  // A note released after the pedal is lifted keeps its own end.
  auto u = score_at(100, {note(60, 100, 0, 80)}, {{10, 64, 127}, {30, 64, 0}});
  EXPECT_EQ(encode_performance(u), (Tokens{vel(25), on(60), shift(80), off(60)}));
  // A pedal never lifted holds to the last event.
  auto h = score_at(100, {note(60, 100, 0, 10), note(64, 100, 0, 40)}, {{5, 64, 127}});
  EXPECT_EQ(encode_performance(h), (Tokens{vel(25), on(60), on(64), shift(40), off(60), off(64)}));
}

TEST(MusicEvents, LongGapsSplitIntoSeveralShifts) {
  auto s = score_at(100, {note(60, 100, 250, 260)});
  EXPECT_EQ(encode_performance(s), (Tokens{shift(100), shift(100), shift(50), vel(25), on(60), shift(10), off(60)}));
}

TEST(MusicEvents, ZeroLengthNotesGetOneStep) {
  auto s = score_at(1000, {note(60, 100, 0, 4)});  // 0..4 ms: both round to step 0
  EventStats st;
  EXPECT_EQ(encode_performance(s, -1, kOpt, &st), (Tokens{vel(25), on(60), shift(1), off(60)}));
  EXPECT_EQ(st.lengthened_zero, 1);
}

TEST(MusicEvents, VelocityTokenOnlyWhenTheBinChanges) {
  auto s = score_at(100, {note(60, 100, 0, 10), note(62, 99, 10, 20), note(64, 50, 20, 30)});
  EXPECT_EQ(encode_performance(s), (Tokens{vel(25), on(60), shift(10), off(60), on(62), shift(10), off(62), vel(13),
                                           on(64), shift(10), off(64)}));
}

TEST(MusicEvents, TrackSelection) {
  Score s = score_at(100, {note(60, 100, 0, 10)});
  Track drums;
  drums.is_drum = true;
  drums.notes = {note(36, 100, 0, 10)};
  Track second;
  second.notes = {note(64, 100, 0, 10)};
  s.tracks.push_back(drums);
  s.tracks.push_back(second);
  EXPECT_EQ(encode_performance(s), (Tokens{vel(25), on(60), on(64), shift(10), off(60), off(64)}));
  EXPECT_EQ(encode_performance(s, 1), (Tokens{vel(25), on(36), shift(10), off(36)}));
  EXPECT_EQ(encode_performance(s, 2), (Tokens{vel(25), on(64), shift(10), off(64)}));
  EXPECT_THROW(encode_performance(s, 3), InvalidArgument);
  EXPECT_THROW(encode_performance(s, -2), InvalidArgument);
  EventOptions bad = kOpt;
  bad.max_shift_steps = 0;
  EXPECT_THROW(encode_performance(s, -1, bad), InvalidArgument);
}

TEST(MusicEvents, DecodeRebuildsNotes) {
  const Tokens t{EventOptions::kStart, vel(25), on(60), shift(50), off(60), EventOptions::kPad, on(64), shift(100),
                 shift(25), vel(13), on(67), shift(5)};
  Score s = decode_performance(t, kOpt, 480, 120.0);
  ASSERT_EQ(s.tempos.size(), 1u);
  EXPECT_EQ(s.tempos[0].qpm, 120.0);
  ASSERT_EQ(s.tracks.size(), 1u);
  const auto& n = s.tracks[0].notes;  // 1 s = 960 ticks
  ASSERT_EQ(n.size(), 3u);
  EXPECT_EQ(n[0], note(60, 97, 0, 480));
  EXPECT_EQ(n[1], note(64, 97, 480, 1728));  // still on at the end (1.8 s)
  EXPECT_EQ(n[2], note(67, 49, 1680, 1728));
}

TEST(MusicEvents, DecodeOverlapsZeroLengthAndStrayOffs) {
  const Tokens t{off(60), on(60), shift(10), on(60), shift(10), off(60), on(62), off(62), on(64)};
  Score s = decode_performance(t, kOpt, 100, 60.0);  // 1 tick = 10 ms
  const auto& n = s.tracks[0].notes;
  ASSERT_EQ(n.size(), 3u);
  EXPECT_EQ(n[0], note(60, 100, 0, 10));
  EXPECT_EQ(n[1], note(60, 100, 10, 20));
  EXPECT_EQ(n[2], note(64, 100, 20, 21));  // on at the very end: one step
}

TEST(MusicEvents, DecodeRejectsOutOfRangeTokens) {
  try {
    decode_performance({vel(3), on(60), 310}, kOpt);
    FAIL() << "no throw";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("position 2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("decode_performance"), std::string::npos) << e.what();
  }
  EXPECT_THROW(decode_performance({-1}, kOpt), InvalidArgument);
  EXPECT_THROW(decode_performance({}, kOpt, 0), InvalidArgument);
}

TEST(MusicEvents, RoundTripKeepsStepsAndBins) {
  auto s = score_at(100, {note(21, 1, 0, 7), note(108, 127, 3, 250), note(60, 64, 7, 9), note(61, 90, 120, 121)});
  Score back = decode_performance(encode_performance(s), kOpt, 100, 60.0);
  const auto& n = back.tracks[0].notes;
  ASSERT_EQ(n.size(), 4u);
  EXPECT_EQ(n[0], note(21, 1, 0, 7));
  EXPECT_EQ(n[1], note(108, 125, 3, 250));
  EXPECT_EQ(n[2], note(60, 61, 7, 9));
  EXPECT_EQ(n[3], note(61, 89, 120, 121));
}

TEST(MusicEvents, TokenClassesOfTheVocabulary) {
  const EventOptions o;
  EXPECT_EQ(o.shift_steps(o.time_shift_token(1)), 1);
  EXPECT_EQ(o.shift_steps(o.time_shift_token(100)), 100);
  for (int t : {EventOptions::kStart, EventOptions::kPad, o.note_on_token(60), o.velocity_token(1)})
    EXPECT_EQ(o.shift_steps(t), 0) << t;
  EXPECT_TRUE(o.is_note_on(o.note_on_token(21)));
  EXPECT_TRUE(o.is_note_on(o.note_on_token(108)));
  EXPECT_FALSE(o.is_note_on(o.note_off_token(60)));
  EXPECT_FALSE(o.is_note_on(o.time_shift_token(5)));
  EXPECT_FALSE(o.is_note_on(o.velocity_token(1)));
}
