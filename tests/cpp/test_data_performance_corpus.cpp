// Performance corpora: the JSB chorales as performances (tempo, velocity, <S>),
// MIDI folders (the train/valid/test layout and the every-10th rule, unusable
// files reported), and the training augmentation (time stretch, transposition).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "partita/core/error.hpp"
#include "partita/data/performance_corpus.hpp"
#include "partita/music/midi.hpp"

namespace fs = std::filesystem;
using namespace partita;
using namespace partita::data;

namespace {

const EventOptions kEv;

// Tokens of each kind in `t`.
struct Counts {
  int start = 0, shifts = 0, on = 0, off = 0, velocity = 0;
  std::int64_t steps = 0;
};
Counts count(const std::vector<std::int32_t>& t) {
  Counts c;
  for (std::int32_t x : t) {
    if (x == EventOptions::kStart) ++c.start;
    else if (x <= kEv.time_shift_token(kEv.max_shift_steps)) ++c.shifts, c.steps += x - kEv.time_shift_token(0);
    else if (x < kEv.velocity_token(1)) ((x - kEv.note_on_token(kEv.min_pitch)) % 2 == 0 ? c.on : c.off)++;
    else ++c.velocity;
  }
  return c;
}

Score melody(std::vector<int> pitches, int quarter_ticks = 480) {
  Score s;
  s.ticks_per_quarter = quarter_ticks;
  s.tracks.resize(1);
  std::int64_t t = 0;
  for (int p : pitches) {
    s.tracks[0].notes.push_back(Note{p, 90, t, t + quarter_ticks});
    t += quarter_ticks;
  }
  return s;
}

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / ("partita_perf_" + name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

}  // namespace

TEST(PerformanceCorpus, JsbChoralesArePlayedAtTheGivenTempo) {
  // Two chorales in train, one each in valid and test; a 16th is 125 ms at 120 qpm.
  const std::string json =
      R"({"train": [[[60, 64, 67, 72], [60, 64, 67, 72], [62, 65, 69, 74], [62, 65, 69, 74]], [[55, 59, 62, 67]]],)"
      R"( "valid": [[[60, 64, 67, 72]]], "test": [[[57, 60, 64, 69], [57, 60, 64, 69]]]})";
  const JsbChorales jsb = parse_jsb_chorales(json);
  PerformanceCorpusOptions o;
  EXPECT_EQ(o.jsb_qpm, 100.0);  // the sample melodies' tempo: a 16th is 15 steps
  EXPECT_EQ(count(jsb_performances(jsb, o).train.streams.pieces[0]).steps, 60);
  o.jsb_qpm = 120.0;
  const PerformanceCorpus c = jsb_performances(jsb, o);
  ASSERT_EQ(c.train.streams.size(), 2);
  ASSERT_EQ(c.valid.streams.size(), 1);
  ASSERT_EQ(c.test.streams.size(), 1);
  EXPECT_EQ(c.train.names[1], "jsb/train/1");
  const auto& t0 = c.train.streams.pieces[0];
  EXPECT_EQ(t0.front(), EventOptions::kStart);
  const Counts k = count(t0);
  EXPECT_EQ(k.start, 1);
  EXPECT_EQ(k.on, 8);  // two chords of four held for two 16ths each
  EXPECT_EQ(k.off, 8);
  EXPECT_EQ(k.velocity, 1);
  EXPECT_EQ(k.steps, 50);  // four 16ths at 120 qpm: 0.5 s
  EXPECT_EQ(t0[1], kEv.velocity_token(kEv.velocity_bin(80)));
  EXPECT_NEAR(c.train.seconds, 0.5 + 0.13, 1e-9);  // a lone 16th: 12.5 steps round to 13
  // The second chord starts after two 16ths: 25 steps, one TIME_SHIFT.
  const Score back = decode_performance(std::vector<int>(t0.begin(), t0.end()), kEv, 50, 120.0);
  ASSERT_EQ(back.tracks[0].notes.size(), 8u);
  EXPECT_EQ(back.tracks[0].notes[4].start, 25);
  EXPECT_EQ(back.tracks[0].notes[4].pitch, 62);
  // Another tempo stretches the time shifts.
  o.jsb_qpm = 60.0;
  EXPECT_EQ(count(jsb_performances(jsb, o).train.streams.pieces[0]).steps, 100);
  o.jsb_qpm = 0.0;
  EXPECT_THROW(jsb_performances(jsb, o), InvalidArgument);
}

TEST(PerformanceCorpus, StretchAndTransposeChangeTimeAndPitchOnly) {
  const Score s = melody({60, 62, 64, 65, 67});
  const std::vector<std::int32_t> t = performance_tokens(s);
  EXPECT_EQ(stretch_and_transpose(t, 1.0, 0), t);
  const auto up = stretch_and_transpose(t, 1.0, 2);
  ASSERT_EQ(up.size(), t.size());
  for (size_t i = 0; i < t.size(); ++i) {
    const bool note = t[i] >= kEv.note_on_token(21) && t[i] < kEv.velocity_token(1);
    EXPECT_EQ(up[i], note ? t[i] + 4 : t[i]) << i;  // two semitones = four tokens
  }
  const auto slow = stretch_and_transpose(t, 1.05, 0);
  EXPECT_EQ(count(t).steps, 250);  // five quarters at 120 qpm
  EXPECT_EQ(count(slow).steps, 263);  // 2.5 s x 1.05 = 2.625 s, rounded per note
  EXPECT_EQ(count(slow).on, 5);
  // Without <S> in, none out; notes pushed out of the codec's range drop.
  const std::vector<std::int32_t> bare(t.begin() + 1, t.end());
  EXPECT_NE(stretch_and_transpose(bare, 1.0, 0).front(), EventOptions::kStart);
  EXPECT_EQ(count(stretch_and_transpose(performance_tokens(melody({107, 108})), 1.0, 1)).on, 1);
  EXPECT_THROW(stretch_and_transpose(t, 0.0, 0), InvalidArgument);
}

TEST(PerformanceCorpus, AugmentKeepsThePiecesAndAddsSeededVariants) {
  PerformanceSplit s;
  s.streams.pieces = {performance_tokens(melody({60, 64, 67})), performance_tokens(melody({72, 71, 69, 67}))};
  s.names = {"a", "b"};
  AugmentOptions a;
  a.copies = 3;
  a.seed = 5;
  const PerformanceSplit x = augment_performances(s, a);
  ASSERT_EQ(x.streams.size(), 8);
  EXPECT_EQ(x.streams.pieces[0], s.streams.pieces[0]);
  EXPECT_EQ(x.streams.pieces[1], s.streams.pieces[1]);
  EXPECT_EQ(x.names[2].rfind("a (x", 0), 0u) << x.names[2];
  bool any_differs = false;
  for (int i = 2; i < 8; ++i) {
    const Counts k = count(x.streams.pieces[static_cast<size_t>(i)]);
    const Counts o = count(s.streams.pieces[static_cast<size_t>(i % 2)]);
    EXPECT_EQ(k.on, o.on);
    EXPECT_GE(k.steps, static_cast<std::int64_t>(o.steps * 0.95) - 1);
    EXPECT_LE(k.steps, static_cast<std::int64_t>(o.steps * 1.05) + 1);
    any_differs |= x.streams.pieces[static_cast<size_t>(i)] != s.streams.pieces[static_cast<size_t>(i % 2)];
  }
  EXPECT_TRUE(any_differs);
  EXPECT_EQ(augment_performances(s, a).streams.pieces, x.streams.pieces);  // seeded
  a.seed = 6;
  EXPECT_NE(augment_performances(s, a).streams.pieces, x.streams.pieces);
  a.copies = -1;
  EXPECT_THROW(augment_performances(s, a), InvalidArgument);
}

TEST(PerformanceCorpus, FolderSplitsByIndexAndReportsUnusableFiles) {
  TempDir d("index");
  for (int i = 0; i < 12; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "p%02d.mid", i);
    write_midi(melody({60 + i, 62, 64}), (d.path / name).string());
  }
  { std::ofstream(d.path / "broken.mid") << "not a MIDI file"; }
  write_midi(melody({10, 12, 14}), (d.path / "low.mid").string());  // below the codec's pitches
  MidiFolderReport rep;
  const PerformanceCorpus c = load_performance_folder(d.path.string(), {}, &rep);
  EXPECT_EQ(rep.used.size(), 12u);
  ASSERT_EQ(rep.skipped.size(), 2u);
  EXPECT_NE(rep.skipped[0].find("broken.mid"), std::string::npos);
  EXPECT_NE(rep.skipped[1].find("0 notes"), std::string::npos) << rep.skipped[1];
  EXPECT_EQ(c.train.streams.size(), 10);
  ASSERT_EQ(c.valid.streams.size(), 1);
  ASSERT_EQ(c.test.streams.size(), 1);
  EXPECT_NE(c.valid.names[0].find("p04.mid"), std::string::npos);
  EXPECT_NE(c.test.names[0].find("p09.mid"), std::string::npos);
  EXPECT_NEAR(c.train.seconds, 10 * 1.5, 1e-9);
  EXPECT_THROW(load_performance_folder((d.path / "missing").string()), IoError);
}

TEST(PerformanceCorpus, FolderKeepsItsTrainValidTestLayout) {
  TempDir d("layout");
  for (const char* sub : {"train/folk", "valid/folk", "test/folk"}) fs::create_directories(d.path / sub);
  write_midi(melody({60, 62}), (d.path / "train/folk/a.mid").string());
  write_midi(melody({60, 64}), (d.path / "train/folk/b.mid").string());
  write_midi(melody({60, 65}), (d.path / "test/folk/c.mid").string());
  const PerformanceCorpus c = load_performance_folder(d.path.string());
  EXPECT_EQ(c.train.streams.size(), 2);
  EXPECT_EQ(c.valid.streams.size(), 0);  // an empty split is allowed
  EXPECT_EQ(c.test.streams.size(), 1);
  PerformanceCorpus both = jsb_performances(parse_jsb_chorales(R"({"train": [[[60], [62]]], "valid": [], "test": []})"));
  both.append(load_performance_folder(d.path.string()));
  EXPECT_EQ(both.train.streams.size(), 3);
  EXPECT_EQ(both.train.names[0], "jsb/train/0");
}
