// The GAN's multitrack data: JSB chorales as SATB rolls, 2-bar windows,
// range-keeping transposition, and the MIDI folder loader.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "partita/core/error.hpp"
#include "partita/data/jsb_chorales.hpp"
#include "partita/data/jsb_multitrack.hpp"
#include "partita/data/multitrack_folder.hpp"
#include "partita/data/multitrack_windows.hpp"
#include "partita/music/midi.hpp"

using namespace partita;
using namespace partita::data;

namespace {

double mean_pitch(const MultiTrackRoll& r, size_t k) {
  double sum = 0;
  size_t n = 0;
  PianoRoll t = r.track(k);
  for (size_t s = 0; s < t.steps(); ++s)
    for (size_t p = 0; p < kPitches; ++p)
      if (t(s, p)) sum += static_cast<double>(p), ++n;
  return n ? sum / static_cast<double>(n) : 0.0;
}

// Sets `track`'s pitch p over steps [a, b).
void note(MultiTrackRoll& r, size_t track, size_t p, size_t a, size_t b) {
  for (size_t t = a; t < b; ++t) r.data()[(track * r.steps() + t) * kPitches + p] = 1;
}

}  // namespace

TEST(JsbMultitrack, SplitsTracksAndVoiceOrder) {
  JsbMultitrack d = load_jsb_multitrack(default_jsb_path());
  EXPECT_EQ(d.train.size(), 229u);
  EXPECT_EQ(d.valid.size(), 76u);
  EXPECT_EQ(d.test.size(), 77u);
  double m[4] = {0, 0, 0, 0};
  for (const auto& r : d.train) {
    ASSERT_EQ(r.num_tracks(), 4u);
    EXPECT_TRUE(r.binary);
    EXPECT_EQ(r.grid.resolution, 4);
    EXPECT_EQ(r.grid.numerator, 4);
    ASSERT_TRUE(r.has_onsets());
    for (size_t k = 0; k < 4; ++k) m[k] += mean_pitch(r, k);
  }
  EXPECT_EQ(d.train[0].info[0].name, "soprano");
  EXPECT_EQ(d.train[0].info[3].name, "bass");
  EXPECT_GT(m[0], m[1]);
  EXPECT_GT(m[1], m[2]);
  EXPECT_GT(m[2], m[3]);
  // Merging the four tracks gives the AR-CNN's roll.
  JsbChorales merged = load_jsb_chorales(default_jsb_path());
  PianoRoll a = d.valid[3].merged(), b = merged.valid[3];
  ASSERT_EQ(a.steps(), b.steps());
  for (size_t i = 0; i < a.steps() * kPitches; ++i) ASSERT_EQ(a.data()[i] != 0, b.data()[i] != 0);
}

TEST(JsbMultitrack, HeldNotesHaveOneOnset) {
  // soprano: 60 60 60 62 -1 62; alto: -1 55 55 55 55 55
  const std::string json =
      R"({"train": [[[60,-1,50,40],[60,55,50,40],[60,55,50,41],[62,55,50,41],[-1,55,50,41],[62,55,50,41]]],
          "valid": [], "test": []})";
  JsbMultitrack d = parse_jsb_multitrack(json);
  ASSERT_EQ(d.train.size(), 1u);
  const MultiTrackRoll& r = d.train[0];
  ASSERT_EQ(r.steps(), 6u);
  auto on = [&](size_t k, size_t t, size_t p) { return r.onsets_data()[(k * 6 + t) * kPitches + p]; };
  auto cell = [&](size_t k, size_t t, size_t p) { return r.data()[(k * 6 + t) * kPitches + p]; };
  EXPECT_EQ(on(0, 0, 60), 1);
  EXPECT_EQ(on(0, 1, 60), 0);
  EXPECT_EQ(on(0, 2, 60), 0);
  EXPECT_EQ(on(0, 3, 62), 1);
  EXPECT_EQ(cell(0, 4, 62), 0);
  EXPECT_EQ(on(0, 5, 62), 1);  // after silence
  EXPECT_EQ(on(1, 1, 55), 1);
  EXPECT_EQ(on(1, 5, 55), 0);
  EXPECT_EQ(on(3, 2, 41), 1);
  EXPECT_THROW(parse_jsb_multitrack(R"({"train": [[[60,61,62]]], "valid": [], "test": []})"),
               FormatError);
  EXPECT_THROW(load_jsb_multitrack("/nonexistent/x.json"), IoError);
}

TEST(MultitrackWindows, CountsAndMelodySkip) {
  // 80 steps: starts 0, 16, 32, 48 (64 + 32 > 80); melody silent in steps 32..63.
  MultiTrackRoll r(4, 80);
  note(r, 0, 60, 0, 32);
  note(r, 0, 62, 64, 80);
  note(r, 3, 40, 0, 80);
  MultiTrackWindows w = make_multitrack_windows({r});
  // window 0 [0,32): melody; [16,48): melody at 16..31; [32,64): none; [48,80): melody at 64..
  EXPECT_EQ(w.count(), 3);
  EXPECT_EQ(w.tracks(), 4);
  EXPECT_EQ(w.steps(), 32);
  EXPECT_EQ(w.window(2)[(0 * 32 + 16) * kPitches + 62], 1);  // step 64 is step 16 of [48,80)
  EXPECT_EQ(make_multitrack_windows({r}, 32, 32).count(), 1);  // [0,32); [32,64) skipped; tail dropped
  // Short roll: one padded window.
  MultiTrackRoll s(4, 10);
  note(s, 0, 70, 0, 10);
  MultiTrackWindows ws = make_multitrack_windows({s});
  ASSERT_EQ(ws.count(), 1);
  EXPECT_EQ(ws.window(0)[(0 * 32 + 9) * kPitches + 70], 1);
  EXPECT_EQ(ws.window(0)[(0 * 32 + 10) * kPitches + 70], 0);
  EXPECT_THROW(make_multitrack_windows({r, MultiTrackRoll(3, 40)}), InvalidArgument);
  EXPECT_THROW(make_multitrack_windows({r}, 32, 0), InvalidArgument);
  // Model layout: (N, 32, 128, 4) in {-1, +1}.
  std::vector<float> m = to_model_layout(w);
  ASSERT_EQ(m.size(), static_cast<size_t>(3 * 32 * 128 * 4));
  EXPECT_EQ(m[((0 * 32 + 0) * 128 + 60) * 4 + 0], 1.0f);
  EXPECT_EQ(m[((0 * 32 + 0) * 128 + 40) * 4 + 3], 1.0f);
  EXPECT_EQ(m[((0 * 32 + 0) * 128 + 40) * 4 + 0], -1.0f);
}

TEST(MultitrackWindows, JsbWindowCounts) {
  JsbMultitrack d = load_jsb_multitrack(default_jsb_path());
  MultiTrackWindows w = make_multitrack_windows(d.train);
  EXPECT_GT(w.count(), 2000);
  for (std::int64_t i = 0; i < w.count(); ++i) {
    const std::uint8_t* x = w.window(i);
    bool any = false;
    for (size_t c = 0; c < 32 * kPitches; ++c) any |= x[c] != 0;
    ASSERT_TRUE(any) << i;
  }
}

TEST(Transpose, KeepsRangeAndRefuses) {
  MultiTrackRoll r(4, 32, RollGrid{}, true);
  note(r, 0, 79, 0, 8);   // soprano top 79
  note(r, 3, 40, 0, 8);   // bass bottom 40
  r.onsets_data()[(0 * 32 + 0) * kPitches + 79] = 1;
  MultiTrackRoll up = transpose_window(r, 2);
  EXPECT_EQ(up.data()[(0 * 32 + 3) * kPitches + 81], 1);
  EXPECT_EQ(up.data()[(3 * 32 + 3) * kPitches + 42], 1);
  EXPECT_EQ(up.onsets_data()[(0 * 32 + 0) * kPitches + 81], 1);
  EXPECT_EQ(pitch_extent(up).low, 42);
  EXPECT_EQ(pitch_extent(up).high, 81);
  EXPECT_THROW(transpose_window(r, 3), InvalidArgument);                // 82 > 81
  EXPECT_THROW(transpose_window(r, -5), InvalidArgument);               // 35 < 36
  EXPECT_NO_THROW(transpose_window(r, 5, PitchRange{0, 127}));
  EXPECT_THROW(transpose_window(r, 49, PitchRange{0, 127}), InvalidArgument);  // 128
  EXPECT_THROW(transpose_window(r, 0, PitchRange{10, 200}), InvalidArgument);
  std::vector<int> allowed = allowed_transpositions(r, 6);
  EXPECT_EQ(allowed, (std::vector<int>{-4, -3, -2, -1, 0, 1, 2}));
}

TEST(Transpose, SamplerUniformOverAllowedAndSeeded) {
  MultiTrackRoll r(4, 32);
  note(r, 0, 79, 0, 8);
  note(r, 3, 40, 0, 8);
  std::mt19937_64 rng(7);
  std::map<int, int> counts;
  const int draws = 7000;
  for (int i = 0; i < draws; ++i) {
    Transposed t = random_transposition(r, 6, rng);
    ++counts[t.semitones];
    PitchRange e = pitch_extent(t.roll);
    ASSERT_GE(e.low, 36);
    ASSERT_LE(e.high, 81);
    ASSERT_EQ(e.low, 40 + t.semitones);
  }
  ASSERT_EQ(counts.size(), 7u);
  EXPECT_EQ(counts.begin()->first, -4);
  EXPECT_EQ(counts.rbegin()->first, 2);
  for (auto [s, c] : counts) EXPECT_NEAR(c, draws / 7, 120) << s;  // ~4.5 sigma
  std::mt19937_64 a(42), b(42);
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(random_transposition(r, 6, a).semitones, random_transposition(r, 6, b).semitones);
  MultiTrackRoll out(4, 32);
  note(out, 0, 90, 0, 4);
  EXPECT_THROW(random_transposition(out, 6, a), InvalidArgument);
  EXPECT_THROW(allowed_transpositions(r, -1), InvalidArgument);
}

namespace {
Track make_track(const std::string& name, int pitch, bool drum = false) {
  Track t;
  t.name = name;
  t.is_drum = drum;
  for (int i = 0; i < 8; ++i) t.notes.push_back(Note{pitch, 100, i * 480, i * 480 + 480});
  return t;
}
}  // namespace

TEST(MultitrackFolder, MelodyFirstAndSkipsWithReasons) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("partita_mt_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" + std::to_string(reinterpret_cast<std::uintptr_t>(&dir) & 0xffff));
  fs::remove_all(dir);
  fs::create_directories(dir);
  Score good;
  good.tracks = {make_track("bass", 40), make_track("drums", 36, true), make_track("lead", 72),
                 make_track("pad", 60), make_track("alto", 65)};
  write_midi(good, (dir / "a_good.mid").string());
  Score few;
  few.tracks = {make_track("lead", 72), make_track("bass", 40), make_track("drums", 36, true)};
  write_midi(few, (dir / "b_few.mid").string());
  Score drums;
  drums.tracks = {make_track("drums", 36, true)};
  write_midi(drums, (dir / "c_drums.mid").string());
  { std::ofstream(dir / "d_broken.mid") << "MThd garbage"; }

  MidiFolderReport rep;
  auto rolls = load_multitrack_folder(dir.string(), std::string("lead"), {}, &rep);
  ASSERT_EQ(rolls.size(), 1u);
  ASSERT_EQ(rep.used.size(), 1u);
  ASSERT_EQ(rep.skipped.size(), 3u);
  EXPECT_NE(rep.skipped[0].find("b_few.mid: 2 non-drum tracks, 4 needed"), std::string::npos)
      << rep.skipped[0];
  EXPECT_NE(rep.skipped[1].find("c_drums.mid: 0 non-drum tracks"), std::string::npos);
  EXPECT_NE(rep.skipped[2].find("d_broken.mid: "), std::string::npos);
  const MultiTrackRoll& r = rolls[0];
  ASSERT_EQ(r.num_tracks(), 4u);
  EXPECT_EQ(r.info[0].name, "lead");
  EXPECT_EQ(r.info[1].name, "bass");
  EXPECT_EQ(r.info[2].name, "pad");
  EXPECT_EQ(r.info[3].name, "alto");
  EXPECT_EQ(r.grid.resolution, 4);
  EXPECT_EQ(r.data()[(0 * r.steps() + 0) * kPitches + 72], 1);
  // By index: non-drum track 1 is "lead"; two tracks admits b_few too.
  MidiFolderReport rep2;
  MultitrackFolderOptions two;
  two.tracks = 2;
  auto r2 = load_multitrack_folder(dir.string(), 1, two, &rep2);
  ASSERT_EQ(r2.size(), 2u);
  EXPECT_EQ(r2[0].info[0].name, "lead");
  EXPECT_EQ(r2[0].info[1].name, "bass");
  EXPECT_EQ(r2[1].info[0].name, "bass");
  // Too long.
  MultitrackFolderOptions shortlim;
  shortlim.max_steps = 16;
  MidiFolderReport rep3;
  EXPECT_THROW(load_multitrack_folder(dir.string(), 0, shortlim, &rep3), InvalidArgument);
  EXPECT_NE(rep3.skipped[0].find("longer than the limit 16"), std::string::npos) << rep3.skipped[0];
  EXPECT_THROW(load_multitrack_folder(dir.string(), std::string("nobody")), InvalidArgument);
  EXPECT_THROW(load_multitrack_folder((dir / "none").string()), IoError);
  EXPECT_THROW(load_multitrack_folder(dir.string(), -1), InvalidArgument);
  fs::remove_all(dir);
}
