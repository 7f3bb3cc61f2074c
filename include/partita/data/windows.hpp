// Fixed-size training windows cut from piano rolls, and the train/valid split.
//
// The AR-CNN trains on binary windows of 128 steps (8 bars of 16ths) x 128
// pitches, taken every 4 bars (hop 64) along each chorale, as the AWS
// DeepComposer AR-CNN sample does. Rolls are partita::PianoRoll (binary, 4
// steps per quarter for the AR-CNN; any non-zero cell counts as a note). A roll
// shorter than one window gives one window padded with silence; the tail after
// the last full hop is dropped, as the reference does. Windows without a single
// note are skipped (they carry no training signal).
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "partita/music/pianoroll.hpp"

namespace partita::data {

class WindowSet {
 public:
  explicit WindowSet(std::int64_t steps = 128) : steps_(steps) {}
  std::int64_t steps() const { return steps_; }
  std::int64_t count() const {
    return static_cast<std::int64_t>(cells_.size()) / window_cells();
  }
  std::int64_t window_cells() const { return steps_ * static_cast<std::int64_t>(kPitches); }
  /// Window i: steps * 128 cells, row-major (time, pitch).
  const std::uint8_t* window(std::int64_t i) const { return cells_.data() + i * window_cells(); }
  /// Append a window (steps * 128 cells).
  void push(const std::uint8_t* cells);
  /// Window i as a binary roll of steps() steps at resolution 4 (a copy).
  PianoRoll roll(std::int64_t i) const;

 private:
  std::int64_t steps_;
  std::vector<std::uint8_t> cells_;
};

/// Cut every roll into windows of `window` steps every `hop` steps (cells
/// binarized: non-zero -> 1).
WindowSet make_windows(const std::vector<PianoRoll>& rolls, std::int64_t window = 128,
                       std::int64_t hop = 64);

/// Seeded random split: about `valid_fraction` of the windows (at least one when
/// there are two or more) go to the second set. Throws InvalidArgument for a
/// fraction outside [0, 1).
std::pair<WindowSet, WindowSet> split_windows(const WindowSet& all, double valid_fraction,
                                              std::uint64_t seed);

}  // namespace partita::data
