// BinaryRoll conversions: Score track <-> 16th-note on/off grid.
#include "partita/data/binary_roll.hpp"

#include <algorithm>
#include <string>

#include "partita/core/error.hpp"

namespace partita::data {

std::int64_t BinaryRoll::count() const {
  std::int64_t n = 0;
  for (auto c : cells) n += c != 0;
  return n;
}

BinaryRoll score_to_binary_roll(const Score& score, int track, int steps_per_quarter) {
  const char* who = "score_to_binary_roll";
  if (steps_per_quarter <= 0)
    throw InvalidArgument(std::string(who) + ": steps_per_quarter must be positive, got " +
                          std::to_string(steps_per_quarter));
  if (score.ticks_per_quarter <= 0 || score.ticks_per_quarter % steps_per_quarter != 0)
    throw InvalidArgument(std::string(who) + ": ticks_per_quarter " +
                          std::to_string(score.ticks_per_quarter) +
                          " is not a positive multiple of " + std::to_string(steps_per_quarter) +
                          " steps per quarter");
  if (track >= static_cast<int>(score.tracks.size()))
    throw InvalidArgument(std::string(who) + ": track " + std::to_string(track) +
                          " out of range (the score has " + std::to_string(score.tracks.size()) +
                          " tracks)");
  const std::int64_t step = score.ticks_per_quarter / steps_per_quarter;
  auto to_step = [&](std::int64_t tick) { return (tick + step / 2) / step; };  // round half up

  std::int64_t steps = 0;
  auto for_notes = [&](auto&& fn) {
    for (size_t i = 0; i < score.tracks.size(); ++i) {
      const Track& tr = score.tracks[i];
      if (track >= 0 ? static_cast<int>(i) != track : tr.is_drum) continue;
      for (const Note& n : tr.notes) {
        if (n.pitch < 0 || n.pitch >= kPitches) continue;
        std::int64_t s = to_step(std::max<std::int64_t>(0, n.start));
        std::int64_t e = std::max(s + 1, to_step(n.end));
        fn(n.pitch, s, e);
      }
    }
  };
  for_notes([&](int, std::int64_t, std::int64_t e) { steps = std::max(steps, e); });
  if (steps > kMaxRollSteps)
    throw InvalidArgument(std::string(who) + ": the roll would be " + std::to_string(steps) +
                          " steps long (a note ends there); at most " +
                          std::to_string(kMaxRollSteps));
  BinaryRoll roll(steps);
  for_notes([&](int p, std::int64_t s, std::int64_t e) {
    for (std::int64_t t = s; t < e; ++t) roll.at(t, p) = 1;
  });
  return roll;
}

std::vector<Note> binary_roll_to_notes(const BinaryRoll& roll, std::int64_t ticks_per_step,
                                       int velocity) {
  if (ticks_per_step <= 0)
    throw InvalidArgument("binary_roll_to_notes: ticks_per_step must be positive");
  if (velocity < 1 || velocity > 127)
    throw InvalidArgument("binary_roll_to_notes: velocity must be in 1..127, got " +
                          std::to_string(velocity));
  std::vector<Note> notes;
  for (int p = 0; p < kPitches; ++p) {
    std::int64_t t = 0;
    while (t < roll.steps) {
      if (!roll.at(t, p)) { ++t; continue; }
      std::int64_t s = t;
      while (t < roll.steps && roll.at(t, p)) ++t;
      notes.push_back(Note{p, velocity, s * ticks_per_step, t * ticks_per_step});
    }
  }
  std::sort(notes.begin(), notes.end(), [](const Note& a, const Note& b) {
    return a.start != b.start ? a.start < b.start : a.pitch < b.pitch;
  });
  return notes;
}

}  // namespace partita::data
