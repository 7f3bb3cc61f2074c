// Score: notes in ticks, with the tempo map, meters, keys and tracks of a MIDI file.
//
// Times are integer ticks at `ticks_per_quarter`; seconds are derived from the
// tempo map (`Score::seconds`). Everything a MIDI read/write round trip must
// keep lives here: tempo changes, time and key signatures, per-track name,
// program, drum flag, control changes and pitch bends.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace partita {

struct Note {
  int pitch = 60;         // MIDI pitch 0..127
  int velocity = 100;     // 1..127
  std::int64_t start = 0; // tick of the note-on
  std::int64_t end = 0;   // tick of the note-off (end >= start)
  std::int64_t duration() const { return end - start; }
  bool operator==(const Note& o) const {
    return pitch == o.pitch && velocity == o.velocity && start == o.start && end == o.end;
  }
};

struct ControlChange {
  std::int64_t tick = 0;
  int number = 0;  // controller 0..127
  int value = 0;   // 0..127
};

struct PitchBend {
  std::int64_t tick = 0;
  int value = 0;  // -8192..8191
};

struct Track {
  std::string name;
  int program = 0;      // General MIDI program 0..127
  bool is_drum = false; // channel 10
  int channel = -1;     // MIDI channel used in the file (-1: assign on write)
  std::vector<Note> notes;                // sorted by (start, pitch)
  std::vector<ControlChange> controls;    // sorted by tick
  std::vector<PitchBend> pitch_bends;     // sorted by tick
};

struct TempoChange {
  std::int64_t tick = 0;
  double qpm = 120.0;  // quarter notes per minute
  std::int64_t microseconds_per_quarter() const;
};

struct TimeSignature {
  std::int64_t tick = 0;
  int numerator = 4;
  int denominator = 4;  // a power of two
};

struct KeySignature {
  std::int64_t tick = 0;
  int sharps = 0;      // -7 (7 flats) .. 7 (7 sharps)
  bool minor = false;
};

class Score {
 public:
  int ticks_per_quarter = 480;
  std::vector<TempoChange> tempos;            // sorted by tick; empty = 120 qpm
  std::vector<TimeSignature> time_signatures; // sorted by tick; empty = 4/4
  std::vector<KeySignature> key_signatures;   // sorted by tick
  std::vector<Track> tracks;

  /// Seconds at `tick`, integrating the tempo map (120 qpm before the first change).
  double seconds(std::int64_t tick) const;
  /// Inverse of seconds(): the (fractional) tick at `seconds`.
  double ticks(double seconds) const;
  /// The tick nearest to `seconds` (halves away from zero), as pretty_midi's
  /// time_to_tick. Throws InvalidArgument for a negative or non-finite `seconds`.
  std::int64_t nearest_tick(double seconds) const;
  /// Largest note end over all tracks (0 if no notes).
  std::int64_t end_tick() const;
  /// seconds(end_tick())
  double duration_seconds() const { return seconds(end_tick()); }
  std::size_t note_count() const;
  /// Sort notes/events in every track and the meta lists by tick.
  void sort();
};

}  // namespace partita
