// Score <-> PianoRoll / MultiTrackRoll conversions.
//
// Score -> roll quantizes each note's start and end ticks to the nearest step
// (halves up) on a grid of `resolution` steps per quarter, with at least one
// step per note (partita's one quantizer: model data uses it too); the grid is in beats, so tempo does not enter, but the first
// tempo and time signature travel in the roll's RollGrid. Roll -> Score reads
// every pitch's runs of non-zero cells as notes, split where the onset channel
// (if any) marks a new start.
#include <algorithm>
#include <cmath>
#include <string>

#include "partita/core/error.hpp"
#include "partita/music/pianoroll.hpp"

namespace partita {

namespace {

struct StepNote {
  int pitch;
  int velocity;
  std::int64_t start, end;  // steps, end > start
};

// round(tick * resolution / tpq), halves up. The quotient of two integers is
// never within a long double ulp of a half unless it is one, so this is exact.
std::int64_t step_of(std::int64_t tick, int resolution, int tpq, const char* where) {
  const long double x = std::floor(static_cast<long double>(tick) * resolution / tpq + 0.5L);
  if (x > static_cast<long double>(std::int64_t(1) << 40))
    throw InvalidArgument(std::string(where) + ": tick " + std::to_string(tick) +
                          " is too far for a piano roll");
  return static_cast<std::int64_t>(x);
}

RollGrid grid_of(const Score& score, int resolution, const char* where) {
  RollGrid g;
  g.resolution = resolution;
  if (!score.tempos.empty()) g.tempo = score.tempos.front().qpm;
  if (!score.time_signatures.empty()) {
    g.numerator = score.time_signatures.front().numerator;
    g.denominator = score.time_signatures.front().denominator;
  }
  g.validate(where);
  return g;
}

void check_options(const Score& score, const ToRollOptions& o, const char* where) {
  if (o.resolution < 1)
    throw InvalidArgument(std::string(where) + ": resolution must be >= 1 step per quarter, got " +
                          std::to_string(o.resolution));
  if (score.ticks_per_quarter < 1)
    throw InvalidArgument(std::string(where) + ": score has ticks_per_quarter " +
                          std::to_string(score.ticks_per_quarter) + " (must be >= 1)");
  if (o.track < -1 || o.track >= static_cast<int>(score.tracks.size()))
    throw InvalidArgument(std::string(where) + ": track " + std::to_string(o.track) +
                          " out of range (score has " + std::to_string(score.tracks.size()) +
                          " tracks; -1 merges them all)");
  if (o.length < -1 || o.bars < -1)
    throw InvalidArgument(std::string(where) + ": length and bars must be >= 0 (or -1: unset)");
  if (o.length >= 0 && o.bars >= 0)
    throw InvalidArgument(std::string(where) + ": give length (steps) or bars, not both");
}

// The notes of one track on the grid.
std::vector<StepNote> quantize(const Score& score, std::size_t track_index, int resolution,
                               const char* where) {
  const Track& track = score.tracks[track_index];
  std::vector<StepNote> out;
  out.reserve(track.notes.size());
  for (std::size_t i = 0; i < track.notes.size(); ++i) {
    const Note& n = track.notes[i];
    if (n.pitch < 0 || n.pitch > 127 || n.start < 0 || n.end < n.start)
      throw InvalidArgument(std::string(where) + ": track " + std::to_string(track_index) +
                            " note " + std::to_string(i) + " (pitch " + std::to_string(n.pitch) +
                            ", ticks " + std::to_string(n.start) + ".." + std::to_string(n.end) +
                            ") is invalid: pitch must be 0..127 and 0 <= start <= end");
    StepNote s;
    s.pitch = n.pitch;
    s.velocity = std::clamp(n.velocity, 1, 127);
    s.start = step_of(n.start, resolution, score.ticks_per_quarter, where);
    s.end = std::max(step_of(n.end, resolution, score.ticks_per_quarter, where), s.start + 1);
    out.push_back(s);
  }
  return out;
}

std::int64_t natural_end(const std::vector<StepNote>& notes) {
  std::int64_t end = 0;
  for (const auto& n : notes) end = std::max(end, n.end);
  return end;
}

std::int64_t roll_length(std::int64_t natural, const ToRollOptions& o, const RollGrid& g,
                         const char* where) {
  std::int64_t steps = natural;
  if (o.length >= 0) {
    steps = o.length;
  } else if (o.bars >= 0) {
    const std::int64_t bar = g.bar_steps();
    steps = o.bars > kMaxRollSteps / bar ? kMaxRollSteps + 1 : o.bars * bar;
  } else if (o.whole_bars) {
    const std::int64_t bar = g.bar_steps();
    steps = (natural + bar - 1) / bar * bar;
  }
  if (steps > kMaxRollSteps)
    throw InvalidArgument(std::string(where) + ": the roll would be " + std::to_string(steps) +
                          " steps long" + (o.length >= 0 || o.bars >= 0 ? "" : " (a note ends there)") +
                          "; at most " + std::to_string(kMaxRollSteps));
  return steps;
}

// Paints notes into one (steps x 128) slice: cell = max(cell, velocity or 1),
// onset = 1 at each start that falls inside the roll.
void paint(const std::vector<StepNote>& notes, std::int64_t steps, bool binarize,
           std::uint8_t* cells, std::uint8_t* onsets) {
  for (const auto& n : notes) {
    const auto v = static_cast<std::uint8_t>(binarize ? 1 : n.velocity);
    const std::int64_t end = std::min(n.end, steps);
    for (std::int64_t t = n.start; t < end; ++t) {
      std::uint8_t& c = cells[t * kPitches + n.pitch];
      c = std::max(c, v);
    }
    if (onsets && n.start < steps) onsets[n.start * kPitches + n.pitch] = 1;
  }
}

// Notes of one (steps x 128) slice, sorted by (start, pitch).
std::vector<Note> read_notes(const std::uint8_t* cells, const std::uint8_t* onsets,
                             std::size_t steps, int resolution, int tpq, int velocity) {
  auto tick = [&](std::size_t step) {
    return static_cast<std::int64_t>(
        std::llround(static_cast<long double>(step) * tpq / resolution));
  };
  std::vector<Note> notes;
  for (std::size_t p = 0; p < kPitches; ++p) {
    std::size_t t = 0;
    while (t < steps) {
      if (cells[t * kPitches + p] == 0) {
        ++t;
        continue;
      }
      // A run starts at t; it goes on while cells stay on and no onset marks a
      // new note.
      std::size_t e = t + 1;
      while (e < steps && cells[e * kPitches + p] != 0 && !(onsets && onsets[e * kPitches + p]))
        ++e;
      Note n;
      n.pitch = static_cast<int>(p);
      n.velocity = velocity > 0 ? velocity : std::clamp<int>(cells[t * kPitches + p], 1, 127);
      n.start = tick(t);
      n.end = tick(e);
      notes.push_back(n);
      t = e;
    }
  }
  std::stable_sort(notes.begin(), notes.end(), [](const Note& a, const Note& b) {
    return a.start != b.start ? a.start < b.start : a.pitch < b.pitch;
  });
  return notes;
}

struct ScoreHeader {
  int tpq;
  double tempo;
};

ScoreHeader check_from_options(const RollGrid& grid, const FromRollOptions& o, const char* where) {
  grid.validate(where);
  if (o.ticks_per_quarter < 1 || o.ticks_per_quarter > 0x7fff)
    throw InvalidArgument(std::string(where) + ": ticks_per_quarter must be 1..32767, got " +
                          std::to_string(o.ticks_per_quarter));
  if (o.tempo < 0.0 || !std::isfinite(o.tempo))
    throw InvalidArgument(std::string(where) + ": tempo must be > 0 (or 0: the roll's), got " +
                          std::to_string(o.tempo));
  if (o.program < -1 || o.program > 127)
    throw InvalidArgument(std::string(where) + ": program must be 0..127 (or -1: the roll's), got " +
                          std::to_string(o.program));
  if (o.velocity != -1 && (o.velocity < 1 || o.velocity > 127))
    throw InvalidArgument(std::string(where) + ": velocity must be 1..127 (or -1: the cells'), got " +
                          std::to_string(o.velocity));
  return {o.ticks_per_quarter, o.tempo > 0.0 ? o.tempo : grid.tempo};
}

Score empty_score(const RollGrid& grid, const ScoreHeader& h) {
  Score s;
  s.ticks_per_quarter = h.tpq;
  s.tempos.push_back({0, h.tempo});
  s.time_signatures.push_back({0, grid.numerator, grid.denominator});
  return s;
}

}  // namespace

std::int64_t tick_to_step(std::int64_t tick, int resolution, int ticks_per_quarter) {
  const char* where = "tick_to_step";
  if (resolution < 1 || ticks_per_quarter < 1)
    throw InvalidArgument(std::string(where) + ": resolution and ticks_per_quarter must be >= 1, got " +
                          std::to_string(resolution) + " and " + std::to_string(ticks_per_quarter));
  if (tick < 0) throw InvalidArgument(std::string(where) + ": negative tick " + std::to_string(tick));
  return step_of(tick, resolution, ticks_per_quarter, where);
}

PianoRoll to_pianoroll(const Score& score, const ToRollOptions& o) {
  const char* where = "to_pianoroll";
  check_options(score, o, where);
  const RollGrid grid = grid_of(score, o.resolution, where);
  std::vector<StepNote> notes;
  TrackInfo info;
  bool first = true;
  for (std::size_t k = 0; k < score.tracks.size(); ++k) {
    const bool wanted = o.track >= 0 ? static_cast<int>(k) == o.track
                                     : (o.include_drums || !score.tracks[k].is_drum);
    if (!wanted) continue;
    auto q = quantize(score, k, o.resolution, where);
    notes.insert(notes.end(), q.begin(), q.end());
    if (first) {  // a merged roll plays with its first track's instrument
      const Track& t = score.tracks[k];
      info = {o.track < 0 ? std::string() : t.name, t.program, t.is_drum};
      first = false;
    }
  }
  const std::int64_t steps = roll_length(natural_end(notes), o, grid, where);
  PianoRoll roll(static_cast<std::size_t>(steps), grid, o.onsets);
  roll.info = info;
  roll.binary = o.binarize;
  paint(notes, steps, o.binarize, roll.data(), roll.onsets_data());
  return roll;
}

MultiTrackRoll to_multitrack(const Score& score, const ToRollOptions& o) {
  const char* where = "to_multitrack";
  check_options(score, o, where);
  const RollGrid grid = grid_of(score, o.resolution, where);
  std::vector<std::vector<StepNote>> per_track;
  std::vector<TrackInfo> info;
  std::int64_t natural = 0;
  for (std::size_t k = 0; k < score.tracks.size(); ++k) {
    if (o.track >= 0 && static_cast<int>(k) != o.track) continue;
    per_track.push_back(quantize(score, k, o.resolution, where));
    natural = std::max(natural, natural_end(per_track.back()));
    const Track& t = score.tracks[k];
    info.push_back({t.name, t.program, t.is_drum});
  }
  const std::int64_t steps = roll_length(natural, o, grid, where);
  MultiTrackRoll roll(per_track.size(), static_cast<std::size_t>(steps), grid, o.onsets);
  roll.info = info;
  roll.binary = o.binarize;
  const std::size_t slice = static_cast<std::size_t>(steps) * kPitches;
  for (std::size_t k = 0; k < per_track.size(); ++k)
    paint(per_track[k], steps, o.binarize, roll.data() + k * slice,
          roll.has_onsets() ? roll.onsets_data() + k * slice : nullptr);
  return roll;
}

Score from_pianoroll(const PianoRoll& roll, const FromRollOptions& o) {
  const ScoreHeader h = check_from_options(roll.grid, o, "from_pianoroll");
  if (roll.info.program < 0 || roll.info.program > 127)
    throw InvalidArgument("from_pianoroll: roll has program " + std::to_string(roll.info.program) +
                          " (must be 0..127)");
  Score s = empty_score(roll.grid, h);
  Track t;
  t.name = roll.info.name;
  t.program = o.program >= 0 ? o.program : roll.info.program;
  t.is_drum = roll.info.is_drum;
  const int velocity = o.velocity > 0 ? o.velocity : (roll.binary ? 100 : -1);
  t.notes = read_notes(roll.data(), roll.onsets_data(), roll.steps(), roll.grid.resolution, h.tpq,
                       velocity);
  s.tracks.push_back(std::move(t));
  return s;
}

Score from_multitrack(const MultiTrackRoll& roll, const FromRollOptions& o) {
  const ScoreHeader h = check_from_options(roll.grid, o, "from_multitrack");
  Score s = empty_score(roll.grid, h);
  const int velocity = o.velocity > 0 ? o.velocity : (roll.binary ? 100 : -1);
  const std::size_t slice = roll.steps() * kPitches;
  for (std::size_t k = 0; k < roll.num_tracks(); ++k) {
    const TrackInfo info = k < roll.info.size() ? roll.info[k] : TrackInfo{};
    if (info.program < 0 || info.program > 127)
      throw InvalidArgument("from_multitrack: track " + std::to_string(k) + " has program " +
                            std::to_string(info.program) + " (must be 0..127)");
    Track t;
    t.name = info.name;
    t.program = info.program;
    t.is_drum = info.is_drum;
    t.notes = read_notes(roll.data() + k * slice,
                         roll.has_onsets() ? roll.onsets_data() + k * slice : nullptr,
                         roll.steps(), roll.grid.resolution, h.tpq, velocity);
    s.tracks.push_back(std::move(t));
  }
  return s;
}

}  // namespace partita
