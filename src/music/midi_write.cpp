// Standard MIDI File writer: partita::Score -> format-1 bytes.
//
// Track 0 carries the conductor events (tempo map, time and key signatures);
// each partita Track becomes one MTrk with its name, a program change at tick
// 0, then its control changes, pitch bends and notes in time order. Within one
// tick, note-offs come first, then controls and bends, then note-ons, so a note
// that ends where the next note of the same pitch starts is read back as two
// notes. Channel messages use running status and note-offs are written as
// note-ons with velocity 0, the compact form most writers use.
#include <algorithm>
#include <cmath>

#include "partita/core/atomic_file.hpp"
#include "partita/core/error.hpp"
#include "partita/music/midi.hpp"

namespace partita {
namespace {

constexpr std::int64_t kMaxDelta = 0x0FFFFFFF;  // largest 4-byte variable-length quantity

[[noreturn]] void bad(const std::string& what) { throw InvalidArgument("write_midi: " + what); }

// One event to write; 24 bytes so sorting a large track stays cheap. Meta
// events keep their data in a side list.
struct Event {
  std::int64_t tick;
  std::uint8_t order;  // within a tick: 0 note-off, 1 meta/program/control/bend, 2 note-on
  std::uint8_t size;   // channel message length (1 status + data), 0 for a meta event
  std::uint8_t bytes[3];
  std::uint8_t meta_type;
  std::uint32_t meta_index;  // into TrackWriter::meta_ (meta events only)
};
static_assert(sizeof(Event) <= 24, "Event should stay small");

class TrackWriter {
 public:
  explicit TrackWriter(std::vector<std::uint8_t>& out) : out_(out) {}

  void add_channel(std::int64_t tick, int order, std::uint8_t status, int a, int b, int size) {
    events_.push_back(Event{tick, static_cast<std::uint8_t>(order), static_cast<std::uint8_t>(size),
                            {status, static_cast<std::uint8_t>(a), static_cast<std::uint8_t>(b)}, 0, 0});
  }
  void add_meta(std::int64_t tick, std::uint8_t type, std::string data) {
    events_.push_back(Event{tick, 1, 0, {0, 0, 0}, type, static_cast<std::uint32_t>(meta_.size())});
    meta_.push_back(std::move(data));
  }

  // Sorts the events by (tick, order) keeping insertion order otherwise, and
  // appends the MTrk chunk.
  void emit(const std::string& what) {
    std::stable_sort(events_.begin(), events_.end(), [](const Event& x, const Event& y) {
      return x.tick != y.tick ? x.tick < y.tick : x.order < y.order;
    });
    const std::size_t chunk = out_.size();
    out_.insert(out_.end(), {'M', 'T', 'r', 'k', 0, 0, 0, 0});
    std::int64_t last = 0;
    unsigned running = 0;
    for (const Event& e : events_) {
      const std::int64_t delta = e.tick - last;
      if (delta > kMaxDelta)
        bad(what + ": a gap of " + std::to_string(delta) + " ticks exceeds the MIDI limit of " +
            std::to_string(kMaxDelta));
      vlq(static_cast<std::uint32_t>(delta));
      last = e.tick;
      if (e.size > 0) {
        if (e.bytes[0] != running) out_.push_back(e.bytes[0]);
        running = e.bytes[0];
        out_.insert(out_.end(), e.bytes + 1, e.bytes + e.size);
      } else {
        const std::string& data = meta_[e.meta_index];
        out_.push_back(0xFF);
        out_.push_back(e.meta_type);
        vlq(static_cast<std::uint32_t>(data.size()));
        out_.insert(out_.end(), data.begin(), data.end());
        running = 0;  // the standard says meta events cancel running status
      }
    }
    out_.insert(out_.end(), {0x00, 0xFF, 0x2F, 0x00});  // end of track
    const std::uint64_t len = out_.size() - chunk - 8;
    if (len > 0xFFFFFFFFull) bad(what + ": track longer than 4 GiB");
    for (int i = 0; i < 4; ++i) out_[chunk + 4 + i] = static_cast<std::uint8_t>(len >> (24 - 8 * i));
    events_.clear();
    meta_.clear();
  }

 private:
  void vlq(std::uint32_t v) {
    std::uint8_t buf[4];
    int n = 0;
    buf[n++] = v & 0x7F;
    while ((v >>= 7) != 0) buf[n++] = static_cast<std::uint8_t>(0x80 | (v & 0x7F));
    while (n > 0) out_.push_back(buf[--n]);
  }

  std::vector<std::uint8_t>& out_;
  std::vector<Event> events_;
  std::vector<std::string> meta_;
};

void check_tick(std::int64_t tick, const std::string& what) {
  if (tick < 0) bad(what + ": negative tick " + std::to_string(tick));
}

void check_7bit(int v, const std::string& what) {
  if (v < 0 || v > 127) bad(what + " " + std::to_string(v) + " outside 0..127");
}

// Channel per track: drums on 9; a valid non-drum Track::channel is kept;
// otherwise the next channel in 0..15, skipping 9.
std::vector<int> assign_channels(const Score& score) {
  std::vector<int> channels;
  int next = 0;
  for (const Track& t : score.tracks) {
    if (t.is_drum) {
      channels.push_back(9);
    } else if (t.channel >= 0 && t.channel <= 15 && t.channel != 9) {
      channels.push_back(t.channel);
    } else {
      channels.push_back(next);
      next = next == 15 ? 0 : next + 1;
      if (next == 9) next = 10;
    }
  }
  return channels;
}

}  // namespace

std::vector<std::uint8_t> write_midi_bytes(const Score& score) {
  if (score.ticks_per_quarter < 1 || score.ticks_per_quarter > 0x7FFF)
    bad("ticks_per_quarter " + std::to_string(score.ticks_per_quarter) + " outside 1..32767");
  if (score.tracks.size() + 1 > 0xFFFF)
    bad(std::to_string(score.tracks.size()) + " tracks; a MIDI file holds at most 65534 besides the tempo track");

  std::vector<std::uint8_t> out;
  const std::size_t ntracks = score.tracks.size() + 1;
  const int tpq = score.ticks_per_quarter;
  out.insert(out.end(), {'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 1,
                         static_cast<std::uint8_t>(ntracks >> 8), static_cast<std::uint8_t>(ntracks),
                         static_cast<std::uint8_t>(tpq >> 8), static_cast<std::uint8_t>(tpq)});
  TrackWriter w(out);

  // Track 0: conductor track. Order within a tick: tempo, meter, key.
  for (const TempoChange& t : score.tempos) {
    check_tick(t.tick, "tempo");
    if (!(t.qpm > 0) || !std::isfinite(t.qpm)) bad("tempo " + std::to_string(t.qpm) + " qpm is not positive");
    const std::int64_t us = t.microseconds_per_quarter();
    if (us < 1 || us > 0xFFFFFF)
      bad("tempo " + std::to_string(t.qpm) + " qpm outside the MIDI range (3.58 .. 6e7 qpm)");
    w.add_meta(t.tick, 0x51, std::string{static_cast<char>(us >> 16), static_cast<char>(us >> 8),
                                        static_cast<char>(us)});
  }
  for (const TimeSignature& ts : score.time_signatures) {
    check_tick(ts.tick, "time signature");
    if (ts.numerator < 1 || ts.numerator > 255)
      bad("time signature numerator " + std::to_string(ts.numerator) + " outside 1..255");
    int log2 = 0;
    while (log2 < 31 && (1 << log2) < ts.denominator) ++log2;
    if (ts.denominator < 1 || (1 << log2) != ts.denominator || log2 > 10)
      bad("time signature denominator " + std::to_string(ts.denominator) +
          " is not a power of two in 1..1024");
    w.add_meta(ts.tick, 0x58, std::string{static_cast<char>(ts.numerator), static_cast<char>(log2),
                                         24, 8});
  }
  for (const KeySignature& ks : score.key_signatures) {
    check_tick(ks.tick, "key signature");
    if (ks.sharps < -7 || ks.sharps > 7)
      bad("key signature with " + std::to_string(ks.sharps) + " sharps outside -7..7");
    w.add_meta(ks.tick, 0x59, std::string{static_cast<char>(ks.sharps), static_cast<char>(ks.minor ? 1 : 0)});
  }
  w.emit("tempo track");

  const std::vector<int> channels = assign_channels(score);
  for (std::size_t i = 0; i < score.tracks.size(); ++i) {
    const Track& t = score.tracks[i];
    const std::string what = "track " + std::to_string(i);
    const int ch = channels[i];
    check_7bit(t.program, what + ": program");
    if (!t.name.empty()) w.add_meta(0, 0x03, t.name);
    w.add_channel(0, 1, static_cast<std::uint8_t>(0xC0 | ch), t.program, 0, 2);
    // Messages are built only on failure: this loop runs once per note.
    for (std::size_t k = 0; k < t.controls.size(); ++k) {
      const ControlChange& c = t.controls[k];
      if (c.tick < 0 || c.number < 0 || c.number > 127 || c.value < 0 || c.value > 127) {
        const std::string cw = what + ": control change " + std::to_string(k);
        check_tick(c.tick, cw);
        check_7bit(c.number, cw + ": controller number");
        check_7bit(c.value, cw + ": controller value");
      }
      w.add_channel(c.tick, 1, static_cast<std::uint8_t>(0xB0 | ch), c.number, c.value, 3);
    }
    for (std::size_t k = 0; k < t.pitch_bends.size(); ++k) {
      const PitchBend& b = t.pitch_bends[k];
      if (b.tick < 0 || b.value < -8192 || b.value > 8191) {
        const std::string bw = what + ": pitch bend " + std::to_string(k);
        check_tick(b.tick, bw);
        bad(bw + ": value " + std::to_string(b.value) + " outside -8192..8191");
      }
      const int v = b.value + 8192;
      w.add_channel(b.tick, 1, static_cast<std::uint8_t>(0xE0 | ch), v & 0x7F, v >> 7, 3);
    }
    for (std::size_t k = 0; k < t.notes.size(); ++k) {
      const Note& n = t.notes[k];
      if (n.start < 0 || n.pitch < 0 || n.pitch > 127 || n.velocity < 1 || n.velocity > 127 || n.end < n.start) {
        const std::string nw = what + ": note " + std::to_string(k);
        check_tick(n.start, nw);
        check_7bit(n.pitch, nw + ": pitch");
        if (n.velocity < 1 || n.velocity > 127)
          bad(nw + ": velocity " + std::to_string(n.velocity) + " outside 1..127");
        bad(nw + ": end " + std::to_string(n.end) + " before start " + std::to_string(n.start));
      }
      if (n.end == n.start) continue;  // zero-length: not representable
      w.add_channel(n.start, 2, static_cast<std::uint8_t>(0x90 | ch), n.pitch, n.velocity, 3);
      w.add_channel(n.end, 0, static_cast<std::uint8_t>(0x90 | ch), n.pitch, 0, 3);
    }
    w.emit(what);
  }
  return out;
}

void write_midi(const Score& score, const std::string& path) {
  const std::vector<std::uint8_t> bytes = write_midi_bytes(score);
  write_file_atomic(path, bytes.data(), bytes.size());
}

}  // namespace partita
