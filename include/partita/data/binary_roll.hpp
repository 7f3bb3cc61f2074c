// BinaryRoll: an on/off piano roll on a fixed grid, the AR-CNN's view of music.
//
// The AR-CNN (AWS DeepComposer samples) sees every voice merged into one (time, 128) grid of
// 16th notes where a cell is 1 while some note sounds at that pitch. Held and
// repeated notes are not told apart (no onset channel), exactly as the
// reference. This header holds that grid plus the two conversions the data
// pipeline and the editor need: a Score track quantized onto the grid, and a
// grid turned back into notes (runs of on-cells become one note each).
#pragma once
#include <cstdint>
#include <vector>

#include "partita/music/score.hpp"

namespace partita::data {

constexpr int kPitches = 128;

struct BinaryRoll {
  std::int64_t steps = 0;           // time steps (rows)
  std::vector<std::uint8_t> cells;  // steps * 128, row-major, 0 or 1

  BinaryRoll() = default;
  explicit BinaryRoll(std::int64_t n_steps)
      : steps(n_steps), cells(static_cast<size_t>(n_steps) * kPitches, 0) {}
  std::uint8_t& at(std::int64_t t, int pitch) { return cells[t * kPitches + pitch]; }
  std::uint8_t at(std::int64_t t, int pitch) const { return cells[t * kPitches + pitch]; }
  /// Number of on cells.
  std::int64_t count() const;
};

/// The longest roll score_to_binary_roll builds (2^24 steps, 2 GB of cells).
inline constexpr std::int64_t kMaxRollSteps = std::int64_t{1} << 24;

/// Quantize notes of `score` onto a grid of `steps_per_quarter` steps per quarter
/// note: a note covers steps [round(start/step), round(end/step)), at least one.
/// `track` < 0 merges every non-drum track; otherwise that track only.
/// Throws InvalidArgument if ticks_per_quarter is not a positive multiple of
/// steps_per_quarter (such a file cannot be put on the grid without drift), the
/// track index is out of range, or the roll would pass kMaxRollSteps (a stray
/// note far out in a damaged file: a folder dataset skips such a file).
BinaryRoll score_to_binary_roll(const Score& score, int track = -1, int steps_per_quarter = 4);

/// Notes of `roll` at `ticks_per_step` ticks per step: each maximal run of on
/// cells at one pitch becomes one note of `velocity`, sorted by (start, pitch).
std::vector<Note> binary_roll_to_notes(const BinaryRoll& roll, std::int64_t ticks_per_step,
                                       int velocity = 100);

}  // namespace partita::data
