// Fixed-size multitrack training windows for the GAN accompaniment model, and
// the pitch transposition that augments them.
//
// The AWS DeepComposer GAN sample trains on 2-bar windows of 4 tracks x 32
// 16th-note steps x 128 pitches, the melody in track 0. MultiTrackWindows holds
// such windows as one contiguous (N, tracks, steps, 128) uint8 block (cells 0/1),
// cut every `hop` steps (default one bar, 16); a roll shorter than one window
// gives one window padded with silence, the tail after the last full hop is
// dropped, and windows whose melody track is silent are skipped (there is nothing
// to accompany). The model itself reads (N, steps, 128, tracks) float32 in
// {-1, +1}: to_model_layout() makes that copy.
//
// Transposition keeps every voice in range: a shift is allowed only when every
// note of every track stays inside a pitch range (default 36..81, the JSB
// chorales' own range) and inside 0..127.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include "partita/music/pianoroll.hpp"

namespace partita::data {

class MultiTrackWindows {
 public:
  explicit MultiTrackWindows(std::int64_t tracks = 4, std::int64_t steps = 32);
  std::int64_t tracks() const { return tracks_; }
  std::int64_t steps() const { return steps_; }
  std::int64_t window_cells() const { return tracks_ * steps_ * static_cast<std::int64_t>(kPitches); }
  std::int64_t count() const { return static_cast<std::int64_t>(cells_.size()) / window_cells(); }
  /// Window i: tracks * steps * 128 cells, C order (track, time, pitch).
  const std::uint8_t* window(std::int64_t i) const;
  std::uint8_t* data() { return cells_.data(); }
  const std::uint8_t* data() const { return cells_.data(); }
  /// Append a window (tracks * steps * 128 cells, binarized on the way in).
  void push(const std::uint8_t* cells);
  /// Window i as a binary MultiTrackRoll (a copy) at resolution 4, 4/4.
  MultiTrackRoll roll(std::int64_t i) const;

 private:
  std::int64_t tracks_, steps_;
  std::vector<std::uint8_t> cells_;
};

/// Cut every roll into windows of `window` steps every `hop` steps. Every roll must
/// have the same number of tracks (InvalidArgument otherwise, or for window or
/// hop < 1); windows whose track 0 (the melody) is silent are skipped.
MultiTrackWindows make_multitrack_windows(const std::vector<MultiTrackRoll>& rolls,
                                          std::int64_t window = 32, std::int64_t hop = 16);

/// The model's layout: (N, steps, 128, tracks) float32, 1 for a note, -1 for
/// silence (a copy; the GAN's tanh output range).
std::vector<float> to_model_layout(const MultiTrackWindows& windows);

/// Inclusive pitch range a transposition must keep every note in.
struct PitchRange {
  int low = 36;
  int high = 81;
};

/// Lowest and highest sounding pitch of a roll (any track); {-1, -1} when silent.
PitchRange pitch_extent(const MultiTrackRoll& roll);

/// `roll` shifted by `semitones` (cells and onsets, all tracks). Throws
/// InvalidArgument when a note would leave `range` or 0..127, or the range is not
/// inside 0..127 with low <= high.
MultiTrackRoll transpose_window(const MultiTrackRoll& roll, int semitones,
                                PitchRange range = {});

/// Every shift in [-max_semitones, max_semitones] that keeps `roll` in range,
/// ascending (0 always included, unless the roll is already out of range).
std::vector<int> allowed_transpositions(const MultiTrackRoll& roll, int max_semitones,
                                        PitchRange range = {});

struct Transposed {
  MultiTrackRoll roll;
  int semitones = 0;
};

/// Draws a shift uniformly among allowed_transpositions(roll, max_semitones,
/// range) with `rng` and applies it. Throws InvalidArgument when no shift is
/// allowed (the roll itself leaves the range) or max_semitones < 0.
Transposed random_transposition(const MultiTrackRoll& roll, int max_semitones,
                                std::mt19937_64& rng, PitchRange range = {});

}  // namespace partita::data
