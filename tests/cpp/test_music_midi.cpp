// MIDI reader/writer tests on hand-built byte sequences: every tolerance rule
// and every error case of include/partita/music/midi.hpp, plus round trips.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include "partita/core/atomic_file.hpp"
#include "partita/core/error.hpp"
#include "partita/music/midi.hpp"

using namespace partita;
using Bytes = std::vector<std::uint8_t>;

namespace {

Bytes B(std::initializer_list<int> v) {
  Bytes b;
  for (int x : v) b.push_back(static_cast<std::uint8_t>(x));
  return b;
}
Bytes operator+(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
Bytes be32(std::uint32_t v) { return B({int(v >> 24), int((v >> 16) & 255), int((v >> 8) & 255), int(v & 255)}); }
Bytes header(int format, int ntracks, int division) {
  return B({'M', 'T', 'h', 'd', 0, 0, 0, 6, format >> 8, format & 255, ntracks >> 8, ntracks & 255,
            (division >> 8) & 255, division & 255});
}
const Bytes kEot = B({0x00, 0xFF, 0x2F, 0x00});
// An MTrk chunk; `declared` overrides the length field.
Bytes track(const Bytes& events, long declared = -1) {
  return B({'M', 'T', 'r', 'k'}) + be32(declared < 0 ? std::uint32_t(events.size()) : std::uint32_t(declared)) +
         events;
}
Score parse(const Bytes& b) { return read_midi_bytes(b.data(), b.size(), "test"); }

// Expects a MidiError whose message contains `what`; returns its offset.
std::uint64_t expect_midi_error(const Bytes& b, const std::string& what) {
  try {
    parse(b);
  } catch (const MidiError& e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("read_midi(test)"), std::string::npos) << e.what();
    return e.offset();
  }
  ADD_FAILURE() << "no MidiError for: " << what;
  return ~0ull;
}

std::vector<Note> all_notes(const Score& s) {
  std::vector<Note> v;
  for (const auto& t : s.tracks) v.insert(v.end(), t.notes.begin(), t.notes.end());
  return v;
}

}  // namespace

TEST(MidiRead, Format0AllEventKinds) {
  const Bytes ev = B({0x00, 0xFF, 0x03, 5, 'P', 'i', 'a', 'n', 'o',  // track name
                      0x00, 0xFF, 0x51, 3, 0x07, 0xA1, 0x20,            // 500000 us = 120 qpm
                      0x00, 0xFF, 0x58, 4, 3, 3, 24, 8,                 // 3/8
                      0x00, 0xFF, 0x59, 2, 0xFE, 1,                     // 2 flats, minor
                      0x00, 0xC0, 41,                                   // program 41
                      0x00, 0xB0, 7, 100,                               // volume
                      0x00, 0x90, 60, 90,                               // note on
                      0x60, 0xE0, 0x00, 0x50,                           // bend at 96
                      0x60, 0x80, 60, 0,                                // note off at 192
                      0x00, 0xFF, 0x51, 3, 0x0F, 0x42, 0x40})           // 1 s per quarter at 192
                   + kEot;
  const Score s = parse(header(0, 1, 96) + track(ev));
  EXPECT_EQ(s.ticks_per_quarter, 96);
  ASSERT_EQ(s.tempos.size(), 2u);
  EXPECT_DOUBLE_EQ(s.tempos[0].qpm, 120.0);
  EXPECT_EQ(s.tempos[1].tick, 192);
  EXPECT_DOUBLE_EQ(s.tempos[1].qpm, 60.0);
  ASSERT_EQ(s.time_signatures.size(), 1u);
  EXPECT_EQ(s.time_signatures[0].numerator, 3);
  EXPECT_EQ(s.time_signatures[0].denominator, 8);
  ASSERT_EQ(s.key_signatures.size(), 1u);
  EXPECT_EQ(s.key_signatures[0].sharps, -2);
  EXPECT_TRUE(s.key_signatures[0].minor);
  ASSERT_EQ(s.tracks.size(), 1u);
  const Track& t = s.tracks[0];
  EXPECT_EQ(t.name, "Piano");
  EXPECT_EQ(t.program, 41);
  EXPECT_FALSE(t.is_drum);
  EXPECT_EQ(t.channel, 0);
  ASSERT_EQ(t.notes.size(), 1u);
  EXPECT_EQ(t.notes[0], (Note{60, 90, 0, 192}));
  ASSERT_EQ(t.controls.size(), 1u);
  EXPECT_EQ(t.controls[0].number, 7);
  EXPECT_EQ(t.controls[0].value, 100);
  ASSERT_EQ(t.pitch_bends.size(), 1u);
  EXPECT_EQ(t.pitch_bends[0].tick, 96);
  EXPECT_EQ(t.pitch_bends[0].value, (0x50 << 7) - 8192);
  EXPECT_DOUBLE_EQ(s.seconds(192), 1.0);
  EXPECT_DOUBLE_EQ(s.seconds(288), 2.0);
}

TEST(MidiRead, Format1And2) {
  const Bytes conductor = B({0x00, 0xFF, 0x51, 3, 0x09, 0x27, 0xC0}) + kEot;  // 600000 us = 100 qpm
  const Bytes t1 = B({0x00, 0x90, 60, 100, 0x83, 0x60, 0x80, 60, 0}) + kEot;   // 480 ticks
  const Bytes t2 = B({0x00, 0x91, 64, 80, 0x81, 0x70, 0x91, 64, 0}) + kEot;    // 240 ticks
  for (int format : {1, 2}) {
    const Score s = parse(header(format, 3, 480) + track(conductor) + track(t1) + track(t2));
    ASSERT_EQ(s.tracks.size(), 2u) << format;
    EXPECT_EQ(s.tracks[0].notes[0], (Note{60, 100, 0, 480}));
    EXPECT_EQ(s.tracks[1].notes[0], (Note{64, 80, 0, 240}));
    EXPECT_EQ(s.tracks[1].channel, 1);
    EXPECT_DOUBLE_EQ(s.tempos.at(0).qpm, 100.0);
    EXPECT_NEAR(s.duration_seconds(), 0.6, 1e-12);
  }
}

TEST(MidiRead, SmpteDivisionKeepsTicksAndSeconds) {
  // 25 fps x 40 ticks per frame = 1000 ticks per second.
  const Bytes ev = B({0x00, 0xFF, 0x51, 3, 0x07, 0xA1, 0x20,  // ignored in SMPTE files
                      0x00, 0x90, 60, 100, 0x87, 0x68, 0x80, 60, 0}) + kEot;  // 1000 ticks
  const Score s = parse(header(0, 1, (0xE7 << 8) | 40) + track(ev));
  EXPECT_EQ(s.ticks_per_quarter, 1000);
  ASSERT_EQ(s.tempos.size(), 1u);
  EXPECT_DOUBLE_EQ(s.tempos[0].qpm, 60.0);
  EXPECT_EQ(s.tracks.at(0).notes.at(0).end, 1000);
  EXPECT_DOUBLE_EQ(s.seconds(1000), 1.0);
  // 29.97 drop frame, 80 ticks per frame: 2397.6 ticks per second.
  const Score d = parse(header(0, 1, (0xE3 << 8) | 80) + track(ev));
  EXPECT_EQ(d.ticks_per_quarter, 2400);
  EXPECT_NEAR(d.seconds(2400) * 29.97 * 80, 2400.0, 1e-9);
}

TEST(MidiRead, RunningStatusAlsoAfterMetaAndSysex) {
  const Bytes ev = B({0x00, 0x90, 60, 100,                     // explicit status
                      0x00, 62, 100,                           // running status
                      0x00, 0xFF, 0x01, 2, 'h', 'i',           // text meta
                      0x10, 60, 0,                             // running status after a meta
                      0x00, 0xF0, 3, 0x7E, 0x7F, 0xF7,         // sysex
                      0x00, 62, 0,                             // running status after a sysex
                      0x00, 0xF7, 2, 0x01, 0x02,               // escape sysex
                      0x00, 64, 50, 0x08, 64, 0})
                   + kEot;
  const Score s = parse(header(0, 1, 96) + track(ev));
  EXPECT_EQ(all_notes(s), (std::vector<Note>{{60, 100, 0, 16}, {62, 100, 0, 16}, {64, 50, 16, 24}}));
}

TEST(MidiRead, VariableLengthQuantities) {
  // The largest 4-byte delta is fine.
  const Bytes ok = B({0x00, 0x90, 60, 100, 0xFF, 0xFF, 0xFF, 0x7F, 0x80, 60, 0}) + kEot;
  const Score s = parse(header(0, 1, 96) + track(ok));
  EXPECT_EQ(s.tracks.at(0).notes.at(0).end, 0x0FFFFFFF);
  // A 5-byte delta is an error at the start of the event.
  const Bytes bad = B({0x00, 0x90, 60, 100, 0x81, 0x80, 0x80, 0x80, 0x00, 0x80, 60, 0}) + kEot;
  EXPECT_EQ(expect_midi_error(header(0, 1, 96) + track(bad), "longer than 4 bytes"), 14u + 8 + 4);
  const Bytes bad_meta = B({0x00, 0xFF, 0x01, 0x80, 0x80, 0x80, 0x80, 0x01}) + kEot;
  expect_midi_error(header(0, 1, 96) + track(bad_meta), "meta event length");
  const Bytes bad_sysex = B({0x00, 0xF0, 0x80, 0x80, 0x80, 0x80, 0x01}) + kEot;
  expect_midi_error(header(0, 1, 96) + track(bad_sysex), "sysex length");
}

TEST(MidiRead, NotePairingMatchesPrettyMidi) {
  const Bytes ev = B({0x00, 0x90, 60, 10,   // A on at 0
                      0x10, 0x90, 60, 20,   // B on at 16 (overlaps A)
                      0x10, 0x80, 60, 0,    // one off at 32 closes A and B
                      0x10, 0x80, 60, 0,    // off with nothing open: ignored
                      0x00, 0x90, 62, 30,   // C on at 48
                      0x10, 0x90, 62, 0,    // velocity-0 note-on = off at 64
                      0x00, 0x90, 62, 40,   // D on at 64
                      0x10, 0x90, 64, 50,   // E on at 80
                      0x00, 0x80, 64, 0,    // off at 80: E is zero-length and alone: dropped
                      0x00, 0x90, 65, 60,   // F on at 80
                      0x10, 0x90, 65, 70,   // G on at 96
                      0x00, 0x80, 65, 0,    // off at 96: closes F, keeps G open
                      0x10, 0x80, 65, 0,    // off at 112 closes G
                      0x10, 0x80, 62, 0})   // off at 128 closes D
                   + kEot;
  Score s = parse(header(0, 1, 96) + track(ev));
  ASSERT_EQ(s.tracks.size(), 1u);
  EXPECT_EQ(s.tracks[0].notes, (std::vector<Note>{{60, 10, 0, 32},
                                                  {60, 20, 16, 32},
                                                  {62, 30, 48, 64},
                                                  {62, 40, 64, 128},
                                                  {65, 60, 80, 96},
                                                  {65, 70, 96, 112}}));
}

TEST(MidiRead, OpenNotesClosedAtTrackEnd) {
  const Bytes ev = B({0x00, 0x90, 60, 100, 0x10, 0x90, 62, 100, 0x20, 0xFF, 0x2F, 0x00});
  const Score s = parse(header(0, 1, 96) + track(ev));
  EXPECT_EQ(all_notes(s), (std::vector<Note>{{60, 100, 0, 48}, {62, 100, 16, 48}}));
}

TEST(MidiRead, SplitsTracksByChannelAndProgram) {
  const Bytes ev = B({0x00, 0xFF, 0x03, 1, 'X',
                      0x00, 0xC1, 40,                  // ch1: violin
                      0x00, 0xB1, 10, 64,              // ch1 pan, before any ch1 note
                      0x00, 0x90, 60, 100,             // ch0 piano
                      0x00, 0x91, 67, 100,             // ch1 violin
                      0x00, 0x99, 36, 100,             // ch9 drums
                      0x10, 0x80, 60, 0, 0x00, 0x81, 67, 0, 0x00, 0x89, 36, 0,
                      0x00, 0xC0, 19,                  // ch0 now organ
                      0x00, 0x90, 61, 100, 0x10, 0x80, 61, 0})
                   + kEot;
  const Score s = parse(header(0, 1, 96) + track(ev));
  ASSERT_EQ(s.tracks.size(), 4u);
  // Order of first note-off, as pretty_midi creates instruments.
  EXPECT_EQ(s.tracks[0].program, 0);
  EXPECT_EQ(s.tracks[0].channel, 0);
  EXPECT_EQ(s.tracks[1].program, 40);
  EXPECT_EQ(s.tracks[1].channel, 1);
  ASSERT_EQ(s.tracks[1].controls.size(), 1u);
  EXPECT_EQ(s.tracks[1].controls[0].number, 10);
  EXPECT_TRUE(s.tracks[2].is_drum);
  EXPECT_EQ(s.tracks[2].notes.at(0).pitch, 36);
  EXPECT_EQ(s.tracks[3].program, 19);
  EXPECT_EQ(s.tracks[3].notes.at(0).pitch, 61);
  for (const auto& t : s.tracks) EXPECT_EQ(t.name, "X");
}

TEST(MidiRead, DeclaredLengthTooLongPastEof) {
  const Bytes ev = B({0x00, 0x90, 60, 100, 0x10, 0x80, 60, 0}) + kEot;
  const Score s = parse(header(0, 1, 96) + track(ev, 100000));
  EXPECT_EQ(all_notes(s), (std::vector<Note>{{60, 100, 0, 16}}));
  // And without an end-of-track, cut in the middle of an event.
  const Bytes cut = B({0x00, 0x90, 60, 100, 0x10, 0x80, 60, 0, 0x10, 0x90, 62});
  const Score c = parse(header(0, 1, 96) + track(cut, 50));
  EXPECT_EQ(all_notes(c), (std::vector<Note>{{60, 100, 0, 16}}));
}

TEST(MidiRead, DeclaredLengthShorterThanEvents) {
  const Bytes ev1 = B({0x00, 0x90, 60, 100, 0x10, 0x80, 60, 0, 0x00, 0x90, 62, 100, 0x10, 0x80, 62, 0}) + kEot;
  const Bytes ev2 = B({0x00, 0x91, 70, 100, 0x10, 0x81, 70, 0}) + kEot;
  const Score s = parse(header(1, 2, 96) + track(ev1, 6) + track(ev2));
  ASSERT_EQ(s.tracks.size(), 2u);
  EXPECT_EQ(s.tracks[0].notes, (std::vector<Note>{{60, 100, 0, 16}, {62, 100, 16, 32}}));
  EXPECT_EQ(s.tracks[1].notes, (std::vector<Note>{{70, 100, 0, 16}}));
}

TEST(MidiRead, MissingEndOfTrack) {
  const Bytes ev1 = B({0x00, 0x90, 60, 100, 0x10, 0x80, 60, 0, 0x10, 0x90, 64, 100});
  const Bytes ev2 = B({0x00, 0x91, 70, 100, 0x10, 0x81, 70, 0});
  const Score s = parse(header(1, 2, 96) + track(ev1) + track(ev2));
  ASSERT_EQ(s.tracks.size(), 2u);
  // The open note ends at the track's last event.
  EXPECT_EQ(s.tracks[0].notes, (std::vector<Note>{{60, 100, 0, 16}}));
  EXPECT_EQ(s.tracks[1].notes, (std::vector<Note>{{70, 100, 0, 16}}));
}

TEST(MidiRead, UnknownChunksAndTrailingBytesIgnored) {
  const Bytes ev = B({0x00, 0x90, 60, 100, 0x10, 0x80, 60, 0}) + kEot;
  const Bytes unknown = B({'X', 'F', 'I', 'H', 0, 0, 0, 3, 1, 2, 3});
  const Bytes trailing = B({0x00, 0x00, 0x13, 0x37, 0xFF, 0xFE, 0x42, 0x00, 0x01, 0x02, 0x03});
  const Score s = parse(header(1, 1, 96) + unknown + track(ev) + trailing);
  EXPECT_EQ(all_notes(s), (std::vector<Note>{{60, 100, 0, 16}}));
  // Fewer tracks than declared: the ones present are read.
  const Score f = parse(header(1, 5, 96) + track(ev) + B({1, 2, 3}));
  EXPECT_EQ(all_notes(f), (std::vector<Note>{{60, 100, 0, 16}}));
  // A larger header chunk: the extra bytes are skipped.
  Bytes big = header(0, 1, 96);
  big[7] = 8;
  big = big + B({0xAA, 0xBB}) + track(ev);
  EXPECT_EQ(all_notes(parse(big)).size(), 1u);
}

TEST(MidiRead, RiffRmidWrapper) {
  const Bytes smf = header(0, 1, 96) + track(B({0x00, 0x90, 60, 100, 0x10, 0x80, 60, 0}) + kEot);
  auto le = [](std::uint32_t v) { return B({int(v & 255), int((v >> 8) & 255), int((v >> 16) & 255), int(v >> 24)}); };
  const Bytes riff = B({'R', 'I', 'F', 'F'}) + le(std::uint32_t(smf.size() + 12)) + B({'R', 'M', 'I', 'D'}) +
                     B({'d', 'a', 't', 'a'}) + le(std::uint32_t(smf.size())) + smf;
  EXPECT_EQ(all_notes(parse(riff)), (std::vector<Note>{{60, 100, 0, 16}}));
}

TEST(MidiRead, Latin1TrackNamesBecomeUtf8) {
  const Bytes ev = B({0x00, 0xFF, 0x03, 4, 'C', 'a', 'f', 0xE9, 0x00, 0xC0, 0}) + kEot;
  const Score s = parse(header(0, 1, 96) + track(ev));
  ASSERT_EQ(s.tracks.size(), 1u);  // program change, no notes: an empty track
  EXPECT_EQ(s.tracks[0].name, "Caf\xC3\xA9");
  const Bytes utf = B({0x00, 0xFF, 0x03, 2, 0xC3, 0xA9, 0x00, 0xC0, 0}) + kEot;
  EXPECT_EQ(parse(header(0, 1, 96) + track(utf)).tracks.at(0).name, "\xC3\xA9");
}

TEST(MidiRead, ErrorsCarryOffsetAndCause) {
  const Bytes ok = B({0x00, 0x90, 60, 100}) + kEot;
  EXPECT_EQ(expect_midi_error(B({'R', 'I', 'F', 'X', 0, 0}), "no MThd"), 0u);
  EXPECT_EQ(expect_midi_error(Bytes{}, "no MThd"), 0u);
  expect_midi_error(B({'M', 'T', 'h', 'd', 0, 0, 0, 6, 0}), "header chunk cut off");
  Bytes h = header(0, 1, 96);
  h[7] = 5;
  EXPECT_EQ(expect_midi_error(h + track(ok), "< 6"), 4u);
  h[7] = 200;
  EXPECT_EQ(expect_midi_error(h, "runs past the end"), 4u);
  EXPECT_EQ(expect_midi_error(header(3, 1, 96) + track(ok), "unsupported SMF format 3"), 8u);
  EXPECT_EQ(expect_midi_error(header(1, 1, 0) + track(ok), "0 ticks per quarter"), 12u);
  expect_midi_error(header(1, 1, (0xE6 << 8) | 4) + track(ok), "26 frames per second");
  expect_midi_error(header(1, 1, 0xE700) + track(ok), "0 ticks per frame");
  // A data byte with no running status: offset of that byte.
  EXPECT_EQ(expect_midi_error(header(0, 1, 96) + track(B({0x00, 0x3C, 0x40}) + kEot), "no running status"),
            14u + 8 + 1);
  EXPECT_EQ(expect_midi_error(header(0, 1, 96) + track(B({0x00, 0x90, 0x3C, 0x80}) + kEot), ">= 0x80"),
            14u + 8 + 3);
  expect_midi_error(header(0, 1, 96) + track(B({0x00, 0xF4}) + kEot), "undefined status byte 0xF4");
  // Running status survives metas, but there must have been a channel status first.
  expect_midi_error(header(1, 2, 96) + track(B({0x00, 0xFF, 0x01, 0x00, 0x00, 0x3C, 0x40}) + kEot) + track(ok),
                    "no running status");
}

TEST(MidiRead, LimitsAreEnforcedWithClearMessages) {
  Bytes huge(kMidiMaxFileBytes + 1, 0);
  try {
    read_midi_bytes(huge.data(), huge.size(), "big");
    ADD_FAILURE() << "no error";
  } catch (const MidiError& e) {
    EXPECT_NE(std::string(e.what()).find("the limit is 67108864 bytes"), std::string::npos) << e.what();
  }
  huge.clear();
  huge.shrink_to_fit();
  // kMidiMaxEvents + 1 aftertouch events with running status (3 bytes each).
  Bytes ev = B({0x00, 0xA0, 60, 1});
  ev.reserve(3 * kMidiMaxEvents + 16);
  for (std::size_t i = 0; i < kMidiMaxEvents; ++i) ev.insert(ev.end(), {0x00, 60, 1});
  const Bytes file = header(0, 1, 96) + track(ev + kEot);
  try {
    read_midi_bytes(file.data(), file.size(), "many");
    ADD_FAILURE() << "no error";
  } catch (const MidiError& e) {
    EXPECT_NE(std::string(e.what()).find("more than 16000000 events"), std::string::npos) << e.what();
  }
}

TEST(MidiRead, ReadMidiFileErrors) {
  EXPECT_THROW(read_midi("/nonexistent/dir/x.mid"), IoError);
  EXPECT_THROW(read_midi(PARTITA_TEST_DATA), IoError);  // a directory
}

namespace {

Score rich_score() {
  Score s;
  s.ticks_per_quarter = 384;
  s.tempos = {{0, 100.0}, {1536, 72.5}};
  s.time_signatures = {{0, 4, 4}, {1536, 6, 8}};
  s.key_signatures = {{0, -3, false}, {768, 2, true}};
  Track piano;
  piano.name = "Piano \xE2\x99\xAA";
  piano.program = 0;
  piano.notes = {{60, 100, 0, 384}, {64, 90, 0, 384}, {60, 80, 384, 768}, {67, 1, 768, 3000}};
  piano.controls = {{0, 64, 127}, {700, 64, 0}};
  piano.pitch_bends = {{10, -8192}, {20, 8191}, {30, 0}};
  Track strings;
  strings.name = "Strings";
  strings.program = 48;
  strings.notes = {{48, 127, 0, 1536}, {55, 64, 1536, 3072}};
  Track drums;
  drums.name = "Drums";
  drums.is_drum = true;
  drums.notes = {{36, 100, 0, 96}, {42, 100, 192, 288}};
  Track empty;
  empty.name = "Empty";
  empty.program = 73;
  s.tracks = {piano, strings, drums, empty};
  s.sort();
  return s;
}

void expect_same(const Score& a, const Score& b) {
  EXPECT_EQ(a.ticks_per_quarter, b.ticks_per_quarter);
  ASSERT_EQ(a.tempos.size(), b.tempos.size());
  for (std::size_t i = 0; i < a.tempos.size(); ++i) {
    EXPECT_EQ(a.tempos[i].tick, b.tempos[i].tick);
    EXPECT_EQ(a.tempos[i].microseconds_per_quarter(), b.tempos[i].microseconds_per_quarter());
  }
  ASSERT_EQ(a.time_signatures.size(), b.time_signatures.size());
  for (std::size_t i = 0; i < a.time_signatures.size(); ++i) {
    EXPECT_EQ(a.time_signatures[i].tick, b.time_signatures[i].tick);
    EXPECT_EQ(a.time_signatures[i].numerator, b.time_signatures[i].numerator);
    EXPECT_EQ(a.time_signatures[i].denominator, b.time_signatures[i].denominator);
  }
  ASSERT_EQ(a.key_signatures.size(), b.key_signatures.size());
  for (std::size_t i = 0; i < a.key_signatures.size(); ++i) {
    EXPECT_EQ(a.key_signatures[i].tick, b.key_signatures[i].tick);
    EXPECT_EQ(a.key_signatures[i].sharps, b.key_signatures[i].sharps);
    EXPECT_EQ(a.key_signatures[i].minor, b.key_signatures[i].minor);
  }
  ASSERT_EQ(a.tracks.size(), b.tracks.size());
  for (std::size_t i = 0; i < a.tracks.size(); ++i) {
    const Track &x = a.tracks[i], &y = b.tracks[i];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.program, y.program);
    EXPECT_EQ(x.is_drum, y.is_drum);
    EXPECT_EQ(x.notes, y.notes) << "track " << i;
    ASSERT_EQ(x.controls.size(), y.controls.size());
    for (std::size_t k = 0; k < x.controls.size(); ++k) {
      EXPECT_EQ(x.controls[k].tick, y.controls[k].tick);
      EXPECT_EQ(x.controls[k].number, y.controls[k].number);
      EXPECT_EQ(x.controls[k].value, y.controls[k].value);
    }
    ASSERT_EQ(x.pitch_bends.size(), y.pitch_bends.size());
    for (std::size_t k = 0; k < x.pitch_bends.size(); ++k) {
      EXPECT_EQ(x.pitch_bends[k].tick, y.pitch_bends[k].tick);
      EXPECT_EQ(x.pitch_bends[k].value, y.pitch_bends[k].value);
    }
  }
}

}  // namespace

TEST(MidiWrite, RoundTripKeepsEverything) {
  const Score s = rich_score();
  const Bytes bytes = write_midi_bytes(s);
  const Score r = parse(bytes);
  expect_same(s, r);
  EXPECT_EQ(r.tracks[2].channel, 9);
  EXPECT_NE(r.tracks[0].channel, r.tracks[1].channel);
  // Writing what we read gives the same bytes.
  EXPECT_EQ(write_midi_bytes(r), bytes);
}

TEST(MidiWrite, SameTickNoteChangesSurvive) {
  Score s;
  Track t;
  t.notes = {{60, 100, 0, 96}, {60, 90, 96, 192}, {60, 80, 192, 200}};
  s.tracks = {t};
  const Score r = parse(write_midi_bytes(s));
  EXPECT_EQ(r.tracks.at(0).notes, t.notes);
}

TEST(MidiWrite, RejectsWhatMidiCannotHold) {
  auto expect_invalid = [](Score s, const std::string& what) {
    try {
      write_midi_bytes(s);
      ADD_FAILURE() << "no error for " << what;
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  Score s = rich_score();
  s.ticks_per_quarter = 40000;
  expect_invalid(s, "ticks_per_quarter 40000");
  s = rich_score();
  s.tracks[0].notes[0].pitch = 128;
  expect_invalid(s, "pitch 128");
  s = rich_score();
  s.tracks[1].notes[0].velocity = 0;
  expect_invalid(s, "velocity 0");
  s = rich_score();
  s.tracks[1].notes[0].end = -1;
  expect_invalid(s, "before start");
  s = rich_score();
  s.time_signatures[0].denominator = 6;
  expect_invalid(s, "denominator 6");
  s = rich_score();
  s.tempos[0].qpm = 0;
  expect_invalid(s, "not positive");
  s = rich_score();
  s.key_signatures[0].sharps = 9;
  expect_invalid(s, "9 sharps");
  s = rich_score();
  s.tracks[0].program = 200;
  expect_invalid(s, "program 200");
  s = rich_score();
  s.tracks[0].pitch_bends[0].value = 9000;
  expect_invalid(s, "value 9000 outside -8192..8191");
  s = rich_score();
  s.tracks[0].notes[0].start = -5;
  expect_invalid(s, "negative tick");
}

TEST(MidiWrite, ZeroLengthNotesAreSkipped) {
  Score s;
  Track t;
  t.notes = {{60, 100, 10, 10}, {62, 100, 10, 20}};
  s.tracks = {t};
  EXPECT_EQ(parse(write_midi_bytes(s)).tracks.at(0).notes, (std::vector<Note>{{62, 100, 10, 20}}));
}

TEST(MidiWrite, AtomicFileWrite) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("partita_midi_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "out.mid").string();
  const Score s = rich_score();
  write_midi(s, path);
  write_midi(s, path);  // replaces
  expect_same(s, read_midi(path));
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1u);  // no temporary left behind
  // A failed encode leaves the old file untouched.
  Score bad = s;
  bad.tracks[0].notes[0].pitch = -1;
  EXPECT_THROW(write_midi(bad, path), InvalidArgument);
  expect_same(s, read_midi(path));
  EXPECT_THROW(write_midi(s, (dir / "no/such/dir/x.mid").string()), IoError);
  {
    // An uncommitted writer removes its temporary file.
    AtomicFileWriter w((dir / "other.bin").string());
    w.write("abc", 3);
    EXPECT_TRUE(fs::exists(w.temp_path()));
  }
  EXPECT_FALSE(fs::exists(dir / "other.bin"));
  fs::remove_all(dir);
}

TEST(MidiRead, SampleMelodiesRoundTrip) {
  namespace fs = std::filesystem;
  int files = 0;
  for (const auto& e : fs::directory_iterator(fs::path(PARTITA_SOURCE_DIR) / "data" / "melodies")) {
    if (e.path().extension() != ".mid") continue;
    ++files;
    const Score s = read_midi(e.path().string());
    EXPECT_GT(s.note_count(), 20u) << e.path();
    EXPECT_NEAR(s.tempos.at(0).qpm, 100.0, 1e-9);
    const Score r = parse(write_midi_bytes(s));
    expect_same(s, r);
  }
  EXPECT_EQ(files, 5);
}

TEST(MidiRead, LongNamesAreCutAtACharacterBoundary) {
  Bytes name;
  for (int i = 0; i < 600; ++i) name = name + B({0xC3, 0xA9});  // 1200 bytes of "é"
  const Bytes ev = B({0x00, 0xFF, 0x03, 0x89, 0x30}) + name + B({0x00, 0xC0, 0}) + kEot;  // length 1200
  const Score s = parse(header(0, 1, 96) + track(ev));
  EXPECT_EQ(s.tracks.at(0).name.size(), kMidiMaxNameBytes);
  EXPECT_EQ(s.tracks[0].name.substr(0, 2), "\xC3\xA9");
}

TEST(MidiRead, ControlsBeforeNotesAreNotMultiplied) {
  // Controls on channel 0 before any note, then notes under three programs:
  // the controls go to the first Track only.
  const Bytes ev = B({0x00, 0xB0, 7, 100, 0x00, 0xB0, 10, 64,
                      0x00, 0x90, 60, 100, 0x10, 0x80, 60, 0,
                      0x00, 0xC0, 5, 0x00, 0x90, 61, 100, 0x10, 0x80, 61, 0,
                      0x00, 0xB0, 11, 1,  // a control for program 5, whose Track exists
                      0x00, 0xC0, 6, 0x00, 0xB0, 12, 2})  // program 6 has no notes: own Track
                   + kEot;
  const Score s = parse(header(0, 1, 96) + track(ev));
  ASSERT_EQ(s.tracks.size(), 3u);
  EXPECT_EQ(s.tracks[0].controls.size(), 2u);
  EXPECT_EQ(s.tracks[1].controls.size(), 1u);
  EXPECT_EQ(s.tracks[2].program, 6);
  EXPECT_TRUE(s.tracks[2].notes.empty());
  ASSERT_EQ(s.tracks[2].controls.size(), 1u);
  EXPECT_EQ(s.tracks[2].controls[0].number, 12);
}

TEST(Score, NearestTickInvertsSecondsAcrossTempoChanges) {
  Score s;
  s.ticks_per_quarter = 96;
  s.tempos = {TempoChange{0, 120.0}, TempoChange{192, 60.0}, TempoChange{500, 137.0}};
  for (std::int64_t t = 0; t < 2000; t += 3) EXPECT_EQ(s.nearest_tick(s.seconds(t)), t) << t;
  EXPECT_EQ(s.nearest_tick(2.0), 288);
  EXPECT_EQ(s.nearest_tick(0.2501), 48);
  EXPECT_THROW(s.nearest_tick(-1.0), InvalidArgument);
  EXPECT_THROW(s.nearest_tick(std::nan("")), InvalidArgument);
}
