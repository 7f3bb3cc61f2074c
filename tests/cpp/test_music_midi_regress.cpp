// Regression inputs for the MIDI reader: every file in tests/data/midi/regress
// (inputs that once crashed or misbehaved, hostile hand-made files) and in
// tests/data/midi/seed (the fuzzer's seeds) must either read, with a Score that
// satisfies the invariants and survives a write/read round trip, or raise a
// MidiError -- never crash, hang or raise anything else.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "partita/core/error.hpp"
#include "partita/music/midi.hpp"

using namespace partita;
namespace fs = std::filesystem;

namespace {

std::vector<std::uint8_t> slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void check_file(const fs::path& p, int& read_ok, int& rejected) {
  SCOPED_TRACE(p.string());
  const auto bytes = slurp(p);
  Score s;
  try {
    s = read_midi_bytes(bytes.data(), bytes.size(), p.filename().string());
  } catch (const MidiError& e) {
    EXPECT_NE(std::string(e.what()).find("byte "), std::string::npos) << e.what();
    ++rejected;
    return;
  }
  ++read_ok;
  for (const auto& t : s.tracks)
    for (const auto& n : t.notes) {
      EXPECT_GE(n.pitch, 0);
      EXPECT_LE(n.pitch, 127);
      EXPECT_GE(n.velocity, 1);
      EXPECT_LT(n.start, n.end);
    }
  std::vector<std::uint8_t> out;
  try {
    out = write_midi_bytes(s);
  } catch (const InvalidArgument&) {
    return;  // a Score MIDI cannot hold (e.g. a gap beyond a 4-byte delta)
  }
  const Score r = read_midi_bytes(out.data(), out.size(), "round trip");
  ASSERT_EQ(r.tracks.size(), s.tracks.size());
  for (std::size_t i = 0; i < s.tracks.size(); ++i) EXPECT_EQ(r.tracks[i].notes, s.tracks[i].notes);
}

}  // namespace

TEST(MidiRegress, EveryInputReadsOrRaisesMidiError) {
  int read_ok = 0, rejected = 0;
  for (const char* dir : {"midi/regress", "midi/seed"}) {
    const fs::path d = fs::path(PARTITA_TEST_DATA) / dir;
    ASSERT_TRUE(fs::is_directory(d)) << d;
    for (const auto& e : fs::directory_iterator(d))
      if (e.is_regular_file() && e.path().extension() != ".md") check_file(e.path(), read_ok, rejected);
  }
  EXPECT_GE(read_ok, 20);  // the seeds all read
  EXPECT_GE(rejected, 1);  // the hostile regressions are rejected
}
