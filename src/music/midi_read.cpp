// Standard MIDI File reader: bytes -> partita::Score.
//
// The file is a header chunk (MThd) followed by chunks; each track chunk (MTrk)
// is a sequence of (delta time, event). We walk the chunks, parse each track's
// events into a TrackBuilder (which pairs notes the way pretty_midi does and
// splits the track per channel and program), and merge tempo, time and key
// signature events of all tracks into the Score. The tolerance rules and limits
// are documented in include/partita/music/midi.hpp.
//
// Structure of the recovery for a track chunk whose declared length is wrong:
// we first parse the events inside the declared length. If the end-of-track
// event is found there, fine. If not, and the bytes at the declared end are not
// another chunk header, the declared length is probably too short, so we parse
// again from the start of the track without a limit up to its end-of-track
// event; if that fails too we fall back to the events inside the declared
// length and stop reading chunks (what follows is not a chunk). Each track is
// parsed at most three times and a failed extension ends the file, so the work
// stays linear in the file size.
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>

#include "partita/core/atomic_file.hpp"
#include "partita/core/error.hpp"
#include "partita/music/midi.hpp"

namespace partita {
namespace {

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
         std::uint32_t(p[3]);
}
std::uint32_t le32(const std::uint8_t* p) {
  return (std::uint32_t(p[3]) << 24) | (std::uint32_t(p[2]) << 16) | (std::uint32_t(p[1]) << 8) |
         std::uint32_t(p[0]);
}
std::uint16_t be16(const std::uint8_t* p) { return std::uint16_t((p[0] << 8) | p[1]); }

std::string hex_byte(unsigned b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", b & 0xFFu);
  return buf;
}

// A chunk id is four printable ASCII characters; anything else after the last
// track is trailing garbage.
bool is_chunk_id(const std::uint8_t* p) {
  for (int i = 0; i < 4; ++i)
    if (p[i] < 0x20 || p[i] > 0x7E) return false;
  return true;
}

bool valid_utf8(const std::string& s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t extra;
    if (c < 0x80) extra = 0;
    else if (c >= 0xC2 && c <= 0xDF) extra = 1;
    else if ((c & 0xF0) == 0xE0) extra = 2;
    else if (c >= 0xF0 && c <= 0xF4) extra = 3;
    else return false;
    if (n - i - 1 < extra) return false;
    for (std::size_t k = 1; k <= extra; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += extra + 1;
  }
  return true;
}

// Names that are not UTF-8 are Latin-1 (mido's default charset): re-encode.
// The result is cut to at most `max_bytes` at a character boundary.
std::string text_to_utf8(const std::uint8_t* p, std::size_t len, std::size_t max_bytes) {
  std::string s(reinterpret_cast<const char*>(p), len);
  if (valid_utf8(s)) {
    if (s.size() > max_bytes) {
      std::size_t cut = max_bytes;
      while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
      s.resize(cut);
    }
    return s;
  }
  std::string out;
  out.reserve(std::min(len * 2, max_bytes));
  for (std::size_t i = 0; i < len; ++i) {
    const unsigned c = p[i];
    if (out.size() + (c < 0x80 ? 1 : 2) > max_bytes) break;
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

struct OpenNote {
  std::int64_t start;
  int velocity;
};

// Turns one MIDI track's events into partita Tracks (one per channel and
// program), mirroring pretty_midi's instrument and note-pairing logic.
class TrackBuilder {
 public:
  TrackBuilder() : open_(16 * 128) {}

  void reset() {
    for (int key : touched_) open_[static_cast<std::size_t>(key)].clear();
    touched_.clear();
    std::memset(inst_, 0xFF, sizeof inst_);
    for (int c = 0; c < 16; ++c) {
      program_[c] = 0;
      channel_has_inst_[c] = false;
      straggler_[c] = Straggler{};
    }
    tracks.clear();
    tempos.clear();
    time_signatures.clear();
    key_signatures.clear();
    name_.clear();
    program_channel_ = -1;
  }

  void track_name(std::string name) {
    name_ = std::move(name);
  }

  void program_change(int ch, int program) {
    program_[ch] = program;
    program_channel_ = ch;
  }

  void note_on(int ch, int pitch, int velocity, std::int64_t tick) {
    const int key = ch * 128 + pitch;
    auto& v = open_[static_cast<std::size_t>(key)];
    if (v.empty()) touched_.push_back(key);
    v.push_back({tick, velocity});
  }

  // pretty_midi: close every open note of (ch, pitch) that started before
  // `tick`; keep a note that started at `tick` only if something was closed.
  void note_off(int ch, int pitch, std::int64_t tick) {
    auto& v = open_[static_cast<std::size_t>(ch * 128 + pitch)];
    if (v.empty()) return;  // a note-off with no note-on: ignored
    std::size_t kept = 0, closed = 0;
    for (const OpenNote& o : v) {
      if (o.start != tick) {
        add_note(ch, Note{pitch, o.velocity, o.start, tick});
        ++closed;
      } else {
        v[kept++] = o;
      }
    }
    if (closed > 0 && kept > 0)
      v.resize(kept);
    else
      v.clear();
  }

  void control_change(int ch, int number, int value, std::int64_t tick) {
    const int idx = inst_[ch][program_[ch]];
    if (idx >= 0) {
      tracks[static_cast<std::size_t>(idx)].controls.push_back({tick, number, value});
    } else {
      straggler_[ch].controls.push_back({tick, number, value});
    }
  }

  void pitch_bend(int ch, int value, std::int64_t tick) {
    const int idx = inst_[ch][program_[ch]];
    if (idx >= 0) {
      tracks[static_cast<std::size_t>(idx)].pitch_bends.push_back({tick, value});
    } else {
      straggler_[ch].bends.push_back({tick, value});
    }
  }

  // End of the track at `end_tick`: close open notes there (pretty_midi drops
  // them), give control/bend events of note-less channels a Track, and keep an
  // empty Track for a track with a program change but no notes (the writer
  // always writes one, so empty tracks survive a round trip).
  void finish(std::int64_t end_tick) {
    for (int key : touched_) {
      auto& v = open_[static_cast<std::size_t>(key)];
      for (const OpenNote& o : v)
        if (o.start < end_tick) add_note(key / 128, Note{key % 128, o.velocity, o.start, end_tick});
      v.clear();
    }
    touched_.clear();
    for (int ch = 0; ch < 16; ++ch)
      if (!straggler_[ch].controls.empty() || !straggler_[ch].bends.empty()) instrument(ch, program_[ch]);
    if (tracks.empty() && program_channel_ >= 0) {
      Track t;
      t.name = name_;
      t.channel = program_channel_;
      t.program = program_[program_channel_];
      t.is_drum = program_channel_ == 9;
      tracks.push_back(std::move(t));
    }
  }

  std::vector<Track> tracks;
  std::vector<TempoChange> tempos;
  std::vector<TimeSignature> time_signatures;
  std::vector<KeySignature> key_signatures;

 private:
  struct Straggler {  // controls and bends of a channel with no Track for its program yet
    std::vector<ControlChange> controls;
    std::vector<PitchBend> bends;
  };

  // The Track for (channel, program), created on first use like pretty_midi's
  // instruments; a new one takes the controls and bends the channel collected
  // while it had no Track for its current program.
  Track& instrument(int ch, int program) {
    int idx = inst_[ch][program];
    if (idx < 0) {
      idx = static_cast<int>(tracks.size());
      inst_[ch][program] = static_cast<std::int32_t>(idx);
      Track t;
      t.name = name_;
      t.program = program;
      t.is_drum = ch == 9;
      t.channel = ch;
      // Moved, not copied (pretty_midi shares one list between the channel's
      // instruments): copies would let a hostile file multiply its memory.
      t.controls = std::move(straggler_[ch].controls);
      t.pitch_bends = std::move(straggler_[ch].bends);
      straggler_[ch].controls.clear();
      straggler_[ch].bends.clear();
      channel_has_inst_[ch] = true;
      tracks.push_back(std::move(t));
    }
    return tracks[static_cast<std::size_t>(idx)];
  }

  void add_note(int ch, const Note& n) { instrument(ch, program_[ch]).notes.push_back(n); }

  std::vector<std::vector<OpenNote>> open_;  // by channel * 128 + pitch
  std::vector<int> touched_;                 // keys with open notes
  std::int32_t inst_[16][128];               // Track index by (channel, program), -1 = none
  bool channel_has_inst_[16] = {};
  int program_[16] = {};
  Straggler straggler_[16];
  std::string name_;
  int program_channel_ = -1;  // channel of the last program change, -1 = none
};

enum class TrackStatus { kEndOfTrack, kRanOut, kCut, kError };

struct TrackResult {
  TrackStatus status = TrackStatus::kRanOut;
  std::size_t end = 0;         // after end-of-track, or after the last complete event
  std::int64_t last_tick = 0;  // tick of end-of-track or of the last complete event
  std::size_t error_offset = 0;
  std::string error;
};

class MidiReader {
 public:
  MidiReader(const std::uint8_t* data, std::size_t size, std::string name)
      : d_(data), n_(size), where_("read_midi(" + name + ")") {}

  Score read() {
    if (n_ > kMidiMaxFileBytes)
      fail(kMidiMaxFileBytes, "file is " + std::to_string(n_) + " bytes; the limit is " +
                                  std::to_string(kMidiMaxFileBytes) + " bytes");
    unwrap_riff();
    if (n_ < 4 || std::memcmp(d_, "MThd", 4) != 0)
      fail(0, "not a Standard MIDI File (no MThd header chunk)");
    if (n_ < 14) fail(n_, "header chunk cut off (" + std::to_string(n_) + " bytes)");
    const std::uint32_t header_len = be32(d_ + 4);
    if (header_len < 6) fail(4, "header chunk length " + std::to_string(header_len) + " < 6");
    if (header_len > n_ - 8)
      fail(4, "header chunk length " + std::to_string(header_len) + " runs past the end of the file");
    const unsigned format = be16(d_ + 8);
    if (format > 2) fail(8, "unsupported SMF format " + std::to_string(format) + " (0, 1 or 2)");
    const std::size_t ntracks = be16(d_ + 10);
    if (ntracks > kMidiMaxTracks)
      fail(10, "file declares " + std::to_string(ntracks) + " tracks; the limit is " +
                   std::to_string(kMidiMaxTracks));
    read_division(be16(d_ + 12));

    std::size_t pos = 8 + std::size_t(header_len);
    std::size_t tracks_read = 0;
    while (tracks_read < ntracks) {
      if (n_ - pos < 8) break;  // fewer tracks than declared, or a few trailing bytes
      const std::uint8_t* chunk = d_ + pos;
      if (!is_chunk_id(chunk)) break;  // trailing garbage
      const std::uint64_t len = be32(chunk + 4);
      const std::size_t body = pos + 8;
      const std::uint64_t declared_end = body + len;
      if (std::memcmp(chunk, "MTrk", 4) != 0) {  // unknown chunk: skip it
        if (declared_end > n_) break;
        pos = static_cast<std::size_t>(declared_end);
        continue;
      }
      ++tracks_read;
      const std::size_t limit = static_cast<std::size_t>(std::min<std::uint64_t>(declared_end, n_));
      TrackResult r = parse_track(body, limit);
      std::size_t next = limit;
      if (r.status == TrackStatus::kError) fail(r.error_offset, r.error);
      if (r.status != TrackStatus::kEndOfTrack && limit < n_ &&
          !(n_ - limit >= 4 && std::memcmp(d_ + limit, "MTrk", 4) == 0)) {
        // Declared length shorter than the events: read on to end-of-track.
        TrackResult extended = parse_track(body, n_);
        if (extended.status == TrackStatus::kEndOfTrack) {
          r = extended;
          next = extended.end;
        } else {
          r = parse_track(body, limit);  // fall back; what follows is not a chunk
          next = n_;
        }
      }
      commit(r, pos);
      pos = next;
    }
    score_.sort();
    return std::move(score_);
  }

 private:
  [[noreturn]] void fail(std::size_t offset, const std::string& what) const {
    throw MidiError(where_, base_ + offset, what);
  }

  // RIFF-wrapped MIDI ("RMID"): the SMF is the payload of the "data" chunk.
  void unwrap_riff() {
    if (n_ < 12 || std::memcmp(d_, "RIFF", 4) != 0 || std::memcmp(d_ + 8, "RMID", 4) != 0) return;
    std::size_t pos = 12;
    while (n_ - pos >= 8) {
      const std::uint64_t len = le32(d_ + pos + 4);
      if (std::memcmp(d_ + pos, "data", 4) == 0) {
        base_ = pos + 8;
        n_ = static_cast<std::size_t>(std::min<std::uint64_t>(len, n_ - pos - 8));
        d_ += pos + 8;
        return;
      }
      const std::uint64_t next = pos + 8 + len + (len & 1);
      if (next > n_) break;
      pos = static_cast<std::size_t>(next);
    }
    fail(12, "RIFF RMID file without a \"data\" chunk");
  }

  void read_division(unsigned division) {
    if (division & 0x8000u) {
      // SMPTE: high byte is -frames per second, low byte ticks per frame.
      const int fps = -static_cast<int>(static_cast<std::int8_t>(division >> 8));
      const int ticks_per_frame = static_cast<int>(division & 0xFFu);
      if (fps != 24 && fps != 25 && fps != 29 && fps != 30)
        fail(12, "SMPTE division with " + std::to_string(fps) +
                     " frames per second (24, 25, 29 or 30)");
      if (ticks_per_frame == 0) fail(13, "SMPTE division with 0 ticks per frame");
      // Keep every tick: one quarter note = nominal fps x ticks per frame ticks,
      // lasting one second at 60 qpm (29 means 29.97 drop-frame: 30 nominal).
      const int nominal = fps == 29 ? 30 : fps;
      const double actual = fps == 29 ? 29.97 : fps;
      smpte_ = true;
      score_.ticks_per_quarter = nominal * ticks_per_frame;
      score_.tempos.push_back(TempoChange{0, 60.0 * actual / nominal});
    } else {
      if (division == 0) fail(12, "division is 0 ticks per quarter note");
      score_.ticks_per_quarter = static_cast<int>(division);
    }
  }

  void count_event(std::size_t offset) {
    if (++events_ > kMidiMaxEvents)
      fail(offset, "more than " + std::to_string(kMidiMaxEvents) + " events (the limit)");
  }

  // Reads a variable-length quantity of at most 4 bytes at `p` (< limit).
  // Returns 0 on success, 1 if cut off by `limit`, 2 if longer than 4 bytes.
  int read_vlq(std::size_t& p, std::size_t limit, std::uint32_t& value) const {
    value = 0;
    for (int i = 0; i < 4; ++i) {
      if (p >= limit) return 1;
      const std::uint8_t b = d_[p++];
      value = (value << 7) | (b & 0x7Fu);
      if (b < 0x80) return 0;
    }
    return 2;
  }

  // Parses the events of the track starting at `begin` up to `limit` into a
  // fresh TrackBuilder. Never throws for malformed data (returns kError),
  // except for the event limit.
  TrackResult parse_track(std::size_t begin, std::size_t limit) {
    TrackBuilder& tb = builder_;
    tb.reset();
    events_ = committed_events_;  // a re-parse of the same track counts its events once
    TrackResult r;
    std::size_t p = begin;
    std::int64_t tick = 0;
    unsigned running = 0;  // last channel status byte; meta/sysex do not clear it
    auto stop = [&](TrackStatus s, std::size_t end) {
      r.status = s;
      r.end = end;
      r.last_tick = tick;
      return r;
    };
    auto error = [&](std::size_t offset, std::string what) {
      r.status = TrackStatus::kError;
      r.error_offset = offset;
      r.error = std::move(what);
      return r;
    };
    std::int64_t last_complete_tick = 0;
    for (;;) {
      if (p >= limit) {
        tick = last_complete_tick;
        return stop(TrackStatus::kRanOut, p);
      }
      const std::size_t ev = p;
      std::uint32_t delta;
      const int vr = read_vlq(p, limit, delta);
      if (vr == 1) {
        tick = last_complete_tick;
        return stop(TrackStatus::kCut, ev);
      }
      if (vr == 2) return error(ev, "delta time: variable-length quantity longer than 4 bytes");
      tick += delta;
      if (p >= limit) {
        tick = last_complete_tick;
        return stop(TrackStatus::kCut, ev);
      }
      unsigned status = d_[p];
      if (status < 0x80) {
        if (running == 0)
          return error(p, "data byte " + hex_byte(status) + " where a status byte is needed (no running status)");
        status = running;
      } else {
        ++p;
      }
      if (status < 0xF0) {
        running = status;
        const unsigned kind = status & 0xF0u;
        const int ch = static_cast<int>(status & 0x0Fu);
        const std::size_t nd = (kind == 0xC0 || kind == 0xD0) ? 1 : 2;
        if (limit - p < nd) {
          tick = last_complete_tick;
          return stop(TrackStatus::kCut, ev);
        }
        const unsigned a = d_[p];
        const unsigned b = nd == 2 ? d_[p + 1] : 0;
        if (a >= 0x80 || b >= 0x80)
          return error(a >= 0x80 ? p : p + 1,
                       "data byte " + hex_byte(a >= 0x80 ? a : b) + " >= 0x80 in a channel message " +
                           hex_byte(status));
        p += nd;
        count_event(ev);
        switch (kind) {
          case 0x80: tb.note_off(ch, static_cast<int>(a), tick); break;
          case 0x90:
            if (b == 0) tb.note_off(ch, static_cast<int>(a), tick);
            else tb.note_on(ch, static_cast<int>(a), static_cast<int>(b), tick);
            break;
          case 0xB0: tb.control_change(ch, static_cast<int>(a), static_cast<int>(b), tick); break;
          case 0xC0: tb.program_change(ch, static_cast<int>(a)); break;
          case 0xE0: tb.pitch_bend(ch, static_cast<int>(a | (b << 7)) - 8192, tick); break;
          default: break;  // aftertouch: not kept
        }
      } else if (status == 0xFF) {
        if (p >= limit) {
          tick = last_complete_tick;
          return stop(TrackStatus::kCut, ev);
        }
        const unsigned type = d_[p++];
        std::uint32_t len;
        const int lr = read_vlq(p, limit, len);
        if (lr == 2) return error(ev, "meta event length: variable-length quantity longer than 4 bytes");
        if (lr == 1 || len > limit - p) {
          tick = last_complete_tick;
          return stop(TrackStatus::kCut, ev);
        }
        count_event(ev);
        meta(tb, type, d_ + p, len, tick);
        p += len;
        if (type == 0x2F) {
          tb.finish(tick);
          return stop(TrackStatus::kEndOfTrack, p);
        }
      } else if (status == 0xF0 || status == 0xF7) {
        std::uint32_t len;
        const int lr = read_vlq(p, limit, len);
        if (lr == 2) return error(ev, "sysex length: variable-length quantity longer than 4 bytes");
        if (lr == 1 || len > limit - p) {
          tick = last_complete_tick;
          return stop(TrackStatus::kCut, ev);
        }
        count_event(ev);
        p += len;  // system exclusive data: not kept
      } else {
        std::size_t nd;
        switch (status) {
          case 0xF1: case 0xF3: nd = 1; break;  // MTC quarter frame, song select
          case 0xF2: nd = 2; break;             // song position
          case 0xF6: case 0xF8: case 0xFA: case 0xFB: case 0xFC: case 0xFE: nd = 0; break;
          default: return error(p - 1, "undefined status byte " + hex_byte(status));
        }
        if (limit - p < nd) {
          tick = last_complete_tick;
          return stop(TrackStatus::kCut, ev);
        }
        count_event(ev);
        p += nd;  // system common / real-time: not kept
      }
      last_complete_tick = tick;
    }
  }

  void meta(TrackBuilder& tb, unsigned type, const std::uint8_t* data, std::uint32_t len,
            std::int64_t tick) {
    switch (type) {
      case 0x03: tb.track_name(text_to_utf8(data, len, kMidiMaxNameBytes)); break;
      case 0x51:
        if (len >= 3 && !smpte_) {
          const std::uint32_t us = (std::uint32_t(data[0]) << 16) | (std::uint32_t(data[1]) << 8) | data[2];
          if (us > 0) tb.tempos.push_back(TempoChange{tick, 60'000'000.0 / us});
        }
        break;
      case 0x58:
        if (len >= 2 && data[0] >= 1 && data[1] <= 10)
          tb.time_signatures.push_back(TimeSignature{tick, data[0], 1 << data[1]});
        break;
      case 0x59:
        if (len >= 2) {
          const int sf = static_cast<int>(static_cast<std::int8_t>(data[0]));
          if (sf >= -7 && sf <= 7 && data[1] <= 1)
            tb.key_signatures.push_back(KeySignature{tick, sf, data[1] == 1});
        }
        break;
      default: break;
    }
  }

  void commit(TrackResult& r, std::size_t chunk_offset) {
    TrackBuilder& tb = builder_;
    if (score_.tracks.size() + tb.tracks.size() > kMidiMaxTracks)
      fail(chunk_offset, "more than " + std::to_string(kMidiMaxTracks) +
                             " tracks (one per channel and program of each track chunk; the limit)");
    committed_events_ = events_;
    if (r.status != TrackStatus::kEndOfTrack) tb.finish(r.last_tick);  // missing end-of-track
    for (auto& t : tb.tracks) score_.tracks.push_back(std::move(t));
    score_.tempos.insert(score_.tempos.end(), tb.tempos.begin(), tb.tempos.end());
    score_.time_signatures.insert(score_.time_signatures.end(), tb.time_signatures.begin(),
                                  tb.time_signatures.end());
    score_.key_signatures.insert(score_.key_signatures.end(), tb.key_signatures.begin(),
                                 tb.key_signatures.end());
  }

  const std::uint8_t* d_;
  std::size_t n_;
  std::size_t base_ = 0;  // offset of d_ in the original buffer (RIFF wrapper)
  std::string where_;
  std::size_t events_ = 0;            // events counted so far, including the current track
  std::size_t committed_events_ = 0;  // events of the tracks already committed
  bool smpte_ = false;
  Score score_;
  // One builder per thread, reused across files: its 2048 per-key open-note
  // lists keep their capacity, so reading a small file allocates little.
  TrackBuilder& builder_ = thread_builder();

  static TrackBuilder& thread_builder() {
    thread_local TrackBuilder builder;
    return builder;
  }
};

}  // namespace

Score read_midi_bytes(const std::uint8_t* data, std::size_t size, const std::string& name) {
  if (data == nullptr && size > 0) throw InvalidArgument("read_midi_bytes: null data with size > 0");
  static const std::uint8_t empty = 0;
  return MidiReader(data ? data : &empty, size, name).read();
}

Score read_midi(const std::string& path) {
  const std::vector<std::uint8_t> bytes = read_file_bytes(path, kMidiMaxFileBytes, "read_midi");
  return read_midi_bytes(bytes.data(), bytes.size(), path);
}

}  // namespace partita
