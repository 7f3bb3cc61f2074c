// PianoRoll: a score laid on a time grid, (time, 128) uint8 cells, time first.
//
// Cell (t, p) holds the velocity (1..127, 0 = silent) of pitch p during step t,
// or 0/1 when the roll is `binary`. `resolution` is the number of steps per
// quarter note, so the grid is in beats and tempo never changes a roll; the
// first tempo and time signature of the source Score are kept as metadata so
// that the way back (from_pianoroll) restores them. A roll may carry an onset
// channel: a second (time, 128) uint8 array that is non-zero where a note
// starts, so that one held note and two repeated notes differ (without it two
// notes that touch merge into one on the way back). MultiTrackRoll stacks rolls
// of equal length as (track, time, 128) with a program, drum flag and name per
// track.
//
// Storage and sharing. A roll is a handle on a C-contiguous buffer owned through
// a shared_ptr: either an xt::xtensor made here or a buffer adopted from outside
// (a numpy array, from the Python bindings) without copying. Copying a PianoRoll
// copies the handle, not the cells (like a numpy view); clone() copies the cells.
// cells() and onsets() return xtensor adaptors over the buffer, so every xtensor
// expression and view works on them (xt::view(roll.cells(), xt::range(0, 16),
// xt::all()), xt::sum, ...). xtensor earns its place here as the owning container
// and the array algebra; we keep our own raw-pointer handle rather than storing
// an xt::xtensor member because a member could not adopt a numpy buffer.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xtensor.hpp>

#include "partita/music/score.hpp"

namespace partita {

namespace roll_detail {
// A non-owning N-d view of `ptr`. The pointer is passed as a prvalue: given
// an lvalue, xt::adapt would store a reference to it (here: to this function's
// parameter, which dies on return).
template <class P, std::size_t N>
auto adapt(P ptr, const std::array<std::size_t, N>& shape) {
  std::size_t n = 1;
  for (auto s : shape) n *= s;
  return xt::adapt(static_cast<P>(ptr), n, xt::no_ownership(), shape);
}
}  // namespace roll_detail

/// Number of MIDI pitches: the width of every roll.
inline constexpr std::size_t kPitches = 128;

/// The longest roll a Score is turned into (2^24 steps, 2 GB of cells): a
/// longer one is refused with InvalidArgument instead of allocated (a stray
/// note far out in a damaged file would otherwise ask for gigabytes).
inline constexpr std::int64_t kMaxRollSteps = std::int64_t{1} << 24;

/// Mutable / read-only xtensor views of a roll's (time, 128) cells.
using RollCells = decltype(roll_detail::adapt(static_cast<std::uint8_t*>(nullptr),
                                              std::array<std::size_t, 2>{}));
using ConstRollCells = decltype(roll_detail::adapt(static_cast<const std::uint8_t*>(nullptr),
                                                   std::array<std::size_t, 2>{}));
/// Mutable / read-only views of a multitrack roll's (track, time, 128) cells.
using MultiRollCells = decltype(roll_detail::adapt(static_cast<std::uint8_t*>(nullptr),
                                                   std::array<std::size_t, 3>{}));
using ConstMultiRollCells = decltype(roll_detail::adapt(
    static_cast<const std::uint8_t*>(nullptr), std::array<std::size_t, 3>{}));
static_assert(std::is_same_v<RollCells::storage_type,
                             xt::xbuffer_adaptor<std::uint8_t*, xt::no_ownership>>,
              "RollCells must hold the pointer by value");

/// What a track is played with; travels with each roll of a MultiTrackRoll.
struct TrackInfo {
  std::string name;
  int program = 0;       // General MIDI program 0..127
  bool is_drum = false;
};

/// Grid and meter of a roll: steps per quarter, and the tempo and time
/// signature to restore when the roll becomes a Score again.
struct RollGrid {
  int resolution = 4;    // steps per quarter note
  double tempo = 120.0;  // quarter notes per minute (first tempo of the source)
  int numerator = 4;     // first time signature of the source
  int denominator = 4;
  /// Steps in one bar of numerator/denominator; throws InvalidArgument when a
  /// bar is not a whole number of steps (e.g. 7/8 at resolution 1).
  std::int64_t bar_steps() const;
  /// Throws InvalidArgument unless resolution >= 1, tempo > 0, numerator >= 1
  /// and denominator a power of two.
  void validate(const char* where) const;
};

class PianoRoll {
 public:
  /// An empty roll (0 steps).
  PianoRoll() = default;
  /// A silent roll of `steps` steps (owned storage), with a zeroed onset
  /// channel when `with_onsets`.
  explicit PianoRoll(std::size_t steps, RollGrid grid = {}, bool with_onsets = false);
  /// Wraps `cells` (steps x 128, C order) without copying; `owner` keeps the
  /// memory alive for as long as any handle on it lives.
  static PianoRoll adopt(std::uint8_t* cells, std::size_t steps, std::shared_ptr<void> owner,
                         RollGrid grid = {});
  /// Wraps an onset channel (steps x 128, C order) without copying.
  void adopt_onsets(std::uint8_t* onsets, std::shared_ptr<void> owner);
  /// A deep copy (cells, onsets and metadata).
  PianoRoll clone() const;

  std::size_t steps() const { return steps_; }
  RollCells cells();
  ConstRollCells cells() const;
  std::uint8_t* data() { return cells_; }
  const std::uint8_t* data() const { return cells_; }
  std::uint8_t& operator()(std::size_t t, std::size_t pitch) { return cells_[t * kPitches + pitch]; }
  std::uint8_t operator()(std::size_t t, std::size_t pitch) const {
    return cells_[t * kPitches + pitch];
  }

  bool has_onsets() const { return onsets_ != nullptr; }
  /// The onset channel; throws InvalidArgument when the roll has none.
  RollCells onsets();
  ConstRollCells onsets() const;
  std::uint8_t* onsets_data() { return onsets_; }
  const std::uint8_t* onsets_data() const { return onsets_; }
  /// Gives the roll an onset channel derived from its cells: 1 where a cell is
  /// on and the step before is off (what a roll without onsets means).
  void derive_onsets();
  void drop_onsets();

  /// Number of non-zero cells.
  std::size_t active_cells() const;
  /// A copy `steps` long: cut, or padded with silence.
  PianoRoll with_length(std::size_t steps) const;
  /// A copy with cells 0/1 (binary = true).
  PianoRoll binarized() const;

  RollGrid grid;
  TrackInfo info;
  bool binary = false;  // cells are 0/1, not velocities

 private:
  friend class MultiTrackRoll;
  std::shared_ptr<void> owner_, onsets_owner_;
  std::uint8_t* cells_ = nullptr;
  std::uint8_t* onsets_ = nullptr;
  std::size_t steps_ = 0;
};

class MultiTrackRoll {
 public:
  MultiTrackRoll() = default;
  /// `tracks` silent rolls of `steps` steps each (owned storage).
  MultiTrackRoll(std::size_t tracks, std::size_t steps, RollGrid grid = {},
                 bool with_onsets = false);
  /// Wraps (tracks x steps x 128, C order) cells without copying.
  static MultiTrackRoll adopt(std::uint8_t* cells, std::size_t tracks, std::size_t steps,
                              std::shared_ptr<void> owner, RollGrid grid = {});
  void adopt_onsets(std::uint8_t* onsets, std::shared_ptr<void> owner);
  MultiTrackRoll clone() const;

  std::size_t num_tracks() const { return tracks_; }
  std::size_t steps() const { return steps_; }
  MultiRollCells cells();
  ConstMultiRollCells cells() const;
  std::uint8_t* data() { return cells_; }
  const std::uint8_t* data() const { return cells_; }
  bool has_onsets() const { return onsets_ != nullptr; }
  MultiRollCells onsets();
  ConstMultiRollCells onsets() const;
  std::uint8_t* onsets_data() { return onsets_; }
  const std::uint8_t* onsets_data() const { return onsets_; }

  /// Track i as a PianoRoll that shares this roll's memory (no copy); it
  /// carries info[i], the grid and the binary flag.
  PianoRoll track(std::size_t i) const;
  /// All tracks merged into one roll (a copy): cell = max over tracks,
  /// onset = max over tracks; drum tracks only when `include_drums`.
  PianoRoll merged(bool include_drums = false) const;

  RollGrid grid;
  std::vector<TrackInfo> info;  // one per track
  bool binary = false;

 private:
  std::shared_ptr<void> owner_, onsets_owner_;
  std::uint8_t* cells_ = nullptr;
  std::uint8_t* onsets_ = nullptr;
  std::size_t tracks_ = 0, steps_ = 0;
};

/// How a Score is laid on the grid (to_pianoroll, to_multitrack).
///
/// Quantization, partita's one rule for every roll (model data included: the
/// AR-CNN's data sets and editor use binary rolls at resolution 4, 16th notes):
/// a note on [start, end) ticks covers steps
/// [round(start * r / tpq), round(end * r / tpq)) with halves rounded up
/// (tick_to_step), and at least one step; any ticks_per_quarter works (when it
/// is a multiple of r this is integer rounding of ticks to steps of tpq / r
/// ticks). Overlapping notes of one pitch keep the larger velocity.
/// Length: `length` steps exactly (cut or padded), else `bars` whole bars of
/// the first time signature, else up to the last note end, rounded up to whole
/// bars when `whole_bars`. Notes crossing the end are cut. A roll longer than
/// kMaxRollSteps is refused with InvalidArgument.
/// (pretty_midi's get_piano_roll instead truncates start and end times to
/// columns and adds the velocities of overlapping notes; the Python tests
/// compare the two with those differences allowed for.)
struct ToRollOptions {
  int resolution = 4;          // steps per quarter note
  int track = -1;              // track index; -1 = all tracks merged (cell = max)
  bool include_drums = false;  // when merging: also roll drum tracks
  bool binarize = false;       // cells 0/1 instead of velocities
  bool onsets = false;         // also fill the onset channel
  std::int64_t length = -1;    // steps (pad/cut); -1 = not set
  std::int64_t bars = -1;      // whole bars (pad/cut); -1 = not set
  bool whole_bars = false;     // natural length rounded up to whole bars
};

/// How a roll becomes a Score (from_pianoroll, from_multitrack).
///
/// On every pitch a run of non-zero cells is one note; with an onset channel a
/// non-zero onset inside a run starts a new note. A note's velocity is its first
/// cell's value (clamped to 1..127), or `velocity` when set or when the roll is
/// binary. Step s is at tick round(s * ticks_per_quarter / resolution).
struct FromRollOptions {
  int ticks_per_quarter = 480;
  double tempo = 0.0;  // quarter notes per minute; 0 = the roll's tempo
  int program = -1;    // -1 = the roll's (single-track conversion only)
  int velocity = -1;   // -1 = the cells' values (100 for binary rolls)
};

/// The quantizer's rule: round(tick * resolution / ticks_per_quarter), halves
/// up (exact: no floating-point drift). InvalidArgument for resolution or
/// ticks_per_quarter < 1, a negative tick, or a step beyond 2^40.
std::int64_t tick_to_step(std::int64_t tick, int resolution, int ticks_per_quarter);

/// Score -> roll of one track or all tracks merged (see ToRollOptions).
PianoRoll to_pianoroll(const Score& score, const ToRollOptions& options = {});
/// Score -> one roll per track (drums included), all of one length; with
/// options.track >= 0 only that track.
MultiTrackRoll to_multitrack(const Score& score, const ToRollOptions& options = {});
/// Roll -> Score with one track (see FromRollOptions).
Score from_pianoroll(const PianoRoll& roll, const FromRollOptions& options = {});
/// Multitrack roll -> Score with one track per roll.
Score from_multitrack(const MultiTrackRoll& roll, const FromRollOptions& options = {});

}  // namespace partita
