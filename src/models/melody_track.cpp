// The melody a model reads from a Score (melody_track.hpp).
#include "models/melody_track.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "partita/core/error.hpp"

namespace partita::models {

int choose_melody_track(const Score& score, int track, const char* who) {
  if (score.tracks.empty()) throw InvalidArgument(std::string(who) + ": the score has no tracks");
  if (track < -1 || track >= static_cast<int>(score.tracks.size()))
    throw InvalidArgument(std::string(who) + ": track " + std::to_string(track) + " out of range (" +
                          std::to_string(score.tracks.size()) + " tracks)");
  if (track == -1) {
    for (size_t i = 0; i < score.tracks.size(); ++i)
      if (!score.tracks[i].notes.empty() && !score.tracks[i].is_drum) return static_cast<int>(i);
    throw InvalidArgument(std::string(who) + ": no (non-drum) track has notes");
  }
  if (score.tracks[track].notes.empty())
    throw InvalidArgument(std::string(who) + ": track " + std::to_string(track) + " has no notes");
  if (score.tracks[track].is_drum)
    throw InvalidArgument(std::string(who) + ": track " + std::to_string(track) + " is a drum track, not a melody");
  return track;
}

PianoRoll melody_roll(const Score& score, int track, std::int64_t max_steps, const char* who) {
  if (score.ticks_per_quarter <= 0)
    throw InvalidArgument(std::string(who) + ": ticks per quarter " + std::to_string(score.ticks_per_quarter) +
                          " is not positive");
  std::int64_t last_end = 0;
  for (const Note& n : score.tracks.at(static_cast<size_t>(track)).notes) last_end = std::max(last_end, n.end);
  const std::int64_t last_step = tick_to_step(last_end, 4, score.ticks_per_quarter);
  if (last_step > max_steps)
    throw InvalidArgument(std::string(who) + ": track " + std::to_string(track) + " lasts " +
                          std::to_string(last_step) + " 16th steps (its last note ends at tick " +
                          std::to_string(last_end) + "); at most " + std::to_string(max_steps) +
                          " are taken (4096 bars of 4/4)");
  ToRollOptions to;
  to.resolution = 4;
  to.track = track;
  to.binarize = true;
  const PianoRoll roll = to_pianoroll(score, to);
  return roll.with_length(std::max<std::size_t>(4, (roll.steps() + 3) / 4 * 4));
}

std::vector<int> top_line(const PianoRoll& roll) {
  std::vector<int> top(roll.steps(), -1);
  for (std::size_t t = 0; t < roll.steps(); ++t)
    for (int p = static_cast<int>(kPitches) - 1; p >= 0; --p)
      if (roll(t, static_cast<std::size_t>(p))) {
        top[t] = p;
        break;
      }
  return top;
}

}  // namespace partita::models
