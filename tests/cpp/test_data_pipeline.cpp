// Data pipeline: JSB JSON parsing, windows, split, training pairs, grid conversions.
#include <gtest/gtest.h>

#include <set>

#include "partita/core/error.hpp"
#include "partita/data/jsb_chorales.hpp"
#include "partita/data/training_pairs.hpp"
#include "partita/data/windows.hpp"

using namespace partita;
using namespace partita::data;

TEST(Jsb, ParsesSmallJsonAndMergesVoices) {
  auto j = parse_jsb_chorales(
      R"({"train": [[[60, 64, -1, 48], [60, 64, 67, 48]]], "valid": [], "test": [[[72.0]]]})");
  ASSERT_EQ(j.train.size(), 1u);
  EXPECT_EQ(j.valid.size(), 0u);
  ASSERT_EQ(j.test.size(), 1u);
  EXPECT_EQ(j.train[0].steps(), 2u);
  EXPECT_EQ(j.train[0].active_cells(), 7u);
  EXPECT_TRUE(j.train[0].binary);
  EXPECT_EQ(j.train[0].grid.resolution, 4);
  EXPECT_EQ(j.train[0](0, 60), 1);
  EXPECT_EQ(j.train[0](0, 67), 0);
  EXPECT_EQ(j.train[0](1, 67), 1);
  EXPECT_EQ(j.test[0](0, 72), 1);
}

TEST(Jsb, MalformedJsonNamesByteOffset) {
  try {
    parse_jsb_chorales(R"({"train": [[[60, 64], [60 64]]], "valid": [], "test": []})");
    FAIL() << "no throw";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("byte 26"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_jsb_chorales(R"({"train": [], "valid": []})"), FormatError);
  EXPECT_THROW(parse_jsb_chorales(R"({"train": [[[200]]], "valid": [], "test": []})"), FormatError);
  EXPECT_THROW(parse_jsb_chorales(R"({"train": [)"), FormatError);
  EXPECT_THROW(load_jsb_chorales("/nonexistent/file.json"), IoError);
}

TEST(Jsb, BundledFileHasTheStandardSplit) {
  auto j = load_jsb_chorales(default_jsb_path());
  EXPECT_EQ(j.train.size(), 229u);
  EXPECT_EQ(j.valid.size(), 76u);
  EXPECT_EQ(j.test.size(), 77u);
  // Pitches 36..81 only, at most four voices per step.
  for (const auto& r : j.train)
    for (std::size_t t = 0; t < r.steps(); ++t) {
      int n = 0;
      for (int p = 0; p < 128; ++p)
        if (r(t, p)) {
          EXPECT_GE(p, 36);
          EXPECT_LE(p, 81);
          ++n;
        }
      EXPECT_LE(n, 4);
    }
  auto w = make_windows(j.train);
  EXPECT_EQ(w.count(), 559);  // 558 full windows at hop 64 + one padded short chorale
}

TEST(Windows, HopPaddingAndEmptySkipped) {
  PianoRoll a(300);
  for (std::size_t t = 0; t < 300; ++t) a(t, 60 + t % 5) = 1;
  PianoRoll short_roll(10);
  short_roll(3, 70) = 90;  // a velocity: windows hold 0/1
  PianoRoll silent(200);
  auto w = make_windows({a, short_roll, silent}, 128, 64);
  // a: starts 0, 64, 128 (192 + 128 > 300); short: one padded; silent: none.
  ASSERT_EQ(w.count(), 4);
  EXPECT_EQ(w.window(1)[0 * 128 + 60 + 64 % 5], 1);
  auto pad = w.roll(3);
  EXPECT_EQ(pad.steps(), 128u);
  EXPECT_TRUE(pad.binary);
  EXPECT_EQ(pad.grid.resolution, 4);
  EXPECT_EQ(pad.active_cells(), 1u);
  EXPECT_EQ(pad(3, 70), 1);
  pad(3, 70) = 0;  // a copy: the window is unchanged
  EXPECT_EQ(w.window(3)[3 * 128 + 70], 1);
  EXPECT_THROW(make_windows({a}, 0, 64), InvalidArgument);
  EXPECT_THROW(w.roll(4), InvalidArgument);
}

TEST(Windows, SplitIsSeededAndDisjoint) {
  WindowSet all(4);
  for (int i = 0; i < 50; ++i) {
    std::vector<std::uint8_t> c(4 * 128, 0);
    c[i] = 1;  // window i is identified by its one cell
    all.push(c.data());
  }
  auto [tr, va] = split_windows(all, 0.1, 7);
  auto [tr2, va2] = split_windows(all, 0.1, 7);
  auto [tr3, va3] = split_windows(all, 0.1, 8);
  EXPECT_EQ(tr.count(), 45);
  EXPECT_EQ(va.count(), 5);
  std::set<int> ids, ids2, ids3;
  auto id = [](const WindowSet& w, std::int64_t i) {
    for (int c = 0; c < 4 * 128; ++c)
      if (w.window(i)[c]) return c;
    return -1;
  };
  for (int i = 0; i < 5; ++i) ids.insert(id(va, i)), ids2.insert(id(va2, i)), ids3.insert(id(va3, i));
  EXPECT_EQ(ids, ids2);
  EXPECT_NE(ids, ids3);
  for (int i = 0; i < 45; ++i) EXPECT_EQ(ids.count(id(tr, i)), 0u);
  EXPECT_THROW(split_windows(all, 1.0, 0), InvalidArgument);
}

TEST(Pairs, LabelIsXorAndAmountsInRange) {
  auto j = load_jsb_chorales(default_jsb_path());
  auto w = make_windows(j.valid);
  PairOptions opt;
  std::vector<float> in(128 * 128), lab(128 * 128);
  double removed_frac_sum = 0;
  const int trials = 200;
  for (int k = 0; k < trials; ++k) {
    Generator rng(k);
    const std::uint8_t* tgt = w.window(k % w.count());
    make_training_pair(tgt, 128, opt, rng, in.data(), lab.data());
    std::int64_t on = 0, off = 0, removed = 0, added = 0;
    for (int c = 0; c < 128 * 128; ++c) {
      bool t = tgt[c], x = in[c] != 0, l = lab[c] != 0;
      EXPECT_EQ(l, t != x) << "label must be XOR(input, target)";
      on += t, off += !t;
      removed += t && !x;
      added += !t && x;
    }
    EXPECT_LE(removed, on);
    EXPECT_GE(added, static_cast<std::int64_t>(0.01 * off) - 1);
    EXPECT_LE(added, static_cast<std::int64_t>(0.015 * off) + 1);
    removed_frac_sum += static_cast<double>(removed) / static_cast<double>(on);
  }
  // Uniform 0-100 % removal: mean near one half.
  EXPECT_NEAR(removed_frac_sum / trials, 0.5, 0.08);
}

TEST(Pairs, TranspositionKeepsNotesInRangeAndShiftsLabelToo) {
  std::vector<std::uint8_t> tgt(128 * 128, 0);
  tgt[5 * 128 + 125] = 1;  // pitch 125: at most +2 up
  tgt[6 * 128 + 3] = 1;    // pitch 3: at most -3 down
  PairOptions opt;
  opt.max_transpose = 6;
  opt.min_add_fraction = opt.max_add_fraction = 0;
  std::vector<float> in(128 * 128), lab(128 * 128);
  std::set<int> shifts;
  for (int k = 0; k < 300; ++k) {
    Generator rng(k);
    int s = make_training_pair(tgt.data(), 128, opt, rng, in.data(), lab.data());
    shifts.insert(s);
    EXPECT_GE(s, -3);
    EXPECT_LE(s, 2);
    // target shifted = input XOR label
    for (int c = 0; c < 128 * 128; ++c) {
      bool x = in[c] != 0, l = lab[c] != 0;
      int t = c / 128, p = c % 128 - s;
      bool want = p >= 0 && p < 128 && tgt[t * 128 + p];
      ASSERT_EQ(x != l, want);
    }
  }
  EXPECT_EQ(shifts.size(), 6u);  // -3..2 all reached
}

TEST(Pairs, BatcherIsReproducibleAndShuffles) {
  auto j = load_jsb_chorales(default_jsb_path());
  auto w = make_windows(j.valid);
  PairBatcher a(w, PairOptions{}, 42), b(w, PairOptions{}, 42);
  EXPECT_EQ(a.pairs_per_epoch(), w.count() * 8);
  Tensor xa, ya, xb, yb;
  EXPECT_EQ(a.batch(0, 4, xa, ya), 4);
  EXPECT_EQ(xa.shape(), (Shape{4, 128, 128, 1}));
  b.batch(0, 4, xb, yb);
  for (std::int64_t i = 0; i < xa.size(); ++i) ASSERT_EQ(xa[i], xb[i]);
  b.start_epoch(1);
  b.batch(0, 4, xb, yb);
  bool differ = false;
  for (std::int64_t i = 0; i < xa.size(); ++i) differ |= xa[i] != xb[i];
  EXPECT_TRUE(differ);
  const auto nb = a.batches_per_epoch(32);
  EXPECT_EQ(a.batch(nb - 1, 32, xa, ya), a.pairs_per_epoch() - (nb - 1) * 32);
  EXPECT_THROW(a.batch(nb, 32, xa, ya), InvalidArgument);
  PairOptions bad;
  bad.variants = 0;
  EXPECT_THROW(PairBatcher(w, bad, 0), InvalidArgument);
}

// Model data goes through partita's one quantizer (to_pianoroll): the same
// rolls for a file at any ticks per quarter, and a stray note is refused.
TEST(MidiFolder, UsesThePianoRollQuantizer) {
  Score s;
  s.ticks_per_quarter = 480;
  Track tr;
  tr.notes = {Note{60, 90, 0, 480}, Note{64, 90, 115, 240}, Note{67, 90, 240, 250}};
  s.tracks.push_back(tr);
  ToRollOptions o;
  o.binarize = true;
  const PianoRoll r = to_pianoroll(s, o);
  EXPECT_EQ(r.steps(), 4u);
  EXPECT_EQ(r(0, 60) + r(3, 60), 2);
  EXPECT_EQ(r(0, 64), 0);  // 115 ticks rounds to step 1
  EXPECT_EQ(r(1, 64), 1);
  EXPECT_EQ(r(2, 67), 1);  // short notes keep one step
  const auto w = make_windows({r}, 4, 4);
  ASSERT_EQ(w.count(), 1);
  EXPECT_EQ(std::vector<std::uint8_t>(w.window(0), w.window(0) + 4 * 128),
            std::vector<std::uint8_t>(r.data(), r.data() + 4 * 128));
}

#include <filesystem>
#include <fstream>

#include "partita/data/midi_folder.hpp"

TEST(MidiFolder, ReadsSampleMelodiesAndReportsBadFiles) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("partita_midifolder_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "sub");
  const fs::path melodies = fs::path(PARTITA_SOURCE_DIR) / "data" / "melodies";
  fs::copy_file(melodies / "ode_to_joy.mid", dir / "sub" / "a.MID");
  fs::copy_file(melodies / "twinkle_twinkle.mid", dir / "b.mid");
  std::ofstream(dir / "broken.mid") << "not a midi file";
  std::ofstream(dir / "notes.txt") << "ignored";
  MidiFolderReport rep;
  auto rolls = load_midi_folder(dir.string(), 4, &rep);
  EXPECT_EQ(rolls.size(), 2u);
  EXPECT_EQ(rep.used.size(), 2u);
  ASSERT_EQ(rep.skipped.size(), 1u);
  EXPECT_NE(rep.skipped[0].find("broken.mid"), std::string::npos);
  for (const auto& r : rolls) {
    EXPECT_GT(r.active_cells(), 20u);
    EXPECT_GE(r.steps(), 100u);  // about 8 bars of 16ths
    EXPECT_TRUE(r.binary);
    EXPECT_EQ(r.grid.resolution, 4);
  }
  EXPECT_GE(make_windows(rolls).count(), 2);
  EXPECT_THROW(load_midi_folder((dir / "nope").string()), IoError);
  EXPECT_THROW(load_midi_folder(dir.string(), 0), InvalidArgument);
  fs::remove(dir / "b.mid");
  fs::remove_all(dir / "sub");
  EXPECT_THROW(load_midi_folder(dir.string()), InvalidArgument);
  fs::remove_all(dir);
}
