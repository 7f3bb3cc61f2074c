// libFuzzer target for the MIDI reader and writer.
//
// Any input must either parse or raise a partita::Error; a crash, a sanitizer
// report, a hang or an out-of-memory is a finding. What parses must satisfy the
// Score invariants, and writing it and reading it back must give the same
// Score (notes, controls, bends, programs, names, tempo map, meters, keys);
// the writer may refuse a Score MIDI cannot hold (InvalidArgument).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "partita/core/error.hpp"
#include "partita/music/midi.hpp"

namespace {

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "fuzz_midi: %s\n", what);
  std::abort();
}

void check_invariants(const partita::Score& s) {
  if (s.ticks_per_quarter < 1) finding("ticks_per_quarter < 1");
  for (const auto& t : s.tracks) {
    if (t.program < 0 || t.program > 127) finding("program out of range");
    if (t.channel < -1 || t.channel > 15) finding("channel out of range");
    if (t.is_drum != (t.channel == 9)) finding("drum flag does not match channel 9");
    for (const auto& n : t.notes) {
      if (n.pitch < 0 || n.pitch > 127) finding("pitch out of range");
      if (n.velocity < 1 || n.velocity > 127) finding("velocity out of range");
      if (n.start < 0 || n.end <= n.start) finding("note with end <= start");
    }
    for (const auto& b : t.pitch_bends)
      if (b.value < -8192 || b.value > 8191) finding("pitch bend out of range");
  }
  for (const auto& tc : s.tempos)
    if (!(tc.qpm > 0)) finding("tempo <= 0");
}

void check_same(const partita::Score& a, const partita::Score& b) {
  if (a.ticks_per_quarter != b.ticks_per_quarter) finding("round trip: ticks_per_quarter");
  if (a.tempos.size() != b.tempos.size()) finding("round trip: tempo count");
  for (std::size_t i = 0; i < a.tempos.size(); ++i)
    if (a.tempos[i].tick != b.tempos[i].tick ||
        a.tempos[i].microseconds_per_quarter() != b.tempos[i].microseconds_per_quarter())
      finding("round trip: tempo");
  if (a.time_signatures.size() != b.time_signatures.size()) finding("round trip: time signature count");
  for (std::size_t i = 0; i < a.time_signatures.size(); ++i)
    if (a.time_signatures[i].tick != b.time_signatures[i].tick ||
        a.time_signatures[i].numerator != b.time_signatures[i].numerator ||
        a.time_signatures[i].denominator != b.time_signatures[i].denominator)
      finding("round trip: time signature");
  if (a.key_signatures.size() != b.key_signatures.size()) finding("round trip: key signature count");
  for (std::size_t i = 0; i < a.key_signatures.size(); ++i)
    if (a.key_signatures[i].tick != b.key_signatures[i].tick ||
        a.key_signatures[i].sharps != b.key_signatures[i].sharps ||
        a.key_signatures[i].minor != b.key_signatures[i].minor)
      finding("round trip: key signature");
  if (a.tracks.size() != b.tracks.size()) finding("round trip: track count");
  for (std::size_t i = 0; i < a.tracks.size(); ++i) {
    const auto &x = a.tracks[i], &y = b.tracks[i];
    if (x.name != y.name || x.program != y.program || x.is_drum != y.is_drum)
      finding("round trip: track name/program/drum");
    if (!(x.notes == y.notes)) finding("round trip: notes");
    if (x.controls.size() != y.controls.size()) finding("round trip: control count");
    for (std::size_t k = 0; k < x.controls.size(); ++k)
      if (x.controls[k].tick != y.controls[k].tick || x.controls[k].number != y.controls[k].number ||
          x.controls[k].value != y.controls[k].value)
        finding("round trip: control");
    if (x.pitch_bends.size() != y.pitch_bends.size()) finding("round trip: bend count");
    for (std::size_t k = 0; k < x.pitch_bends.size(); ++k)
      if (x.pitch_bends[k].tick != y.pitch_bends[k].tick || x.pitch_bends[k].value != y.pitch_bends[k].value)
        finding("round trip: bend");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  partita::Score s;
  try {
    s = partita::read_midi_bytes(data, size, "fuzz");
  } catch (const partita::MidiError&) {
    return 0;
  }
  check_invariants(s);
  std::vector<std::uint8_t> out;
  try {
    out = partita::write_midi_bytes(s);
  } catch (const partita::InvalidArgument&) {
    return 0;  // e.g. a gap between events larger than a 4-byte delta
  }
  partita::Score r;
  try {
    r = partita::read_midi_bytes(out.data(), out.size(), "fuzz round trip");
  } catch (const partita::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    finding("cannot read what the writer wrote");
  }
  check_same(s, r);
  return 0;
}
