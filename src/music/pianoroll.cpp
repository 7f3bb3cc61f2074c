// PianoRoll and MultiTrackRoll storage: owned xtensor buffers or adopted
// external buffers, views, onset derivation, padding/cutting.
// The Score <-> roll conversions are in pianoroll_convert.cpp.
#include "partita/music/pianoroll.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "partita/core/error.hpp"

namespace partita {

namespace {

// Largest roll we agree to allocate (cells): 2^31 bytes. A note at tick 1e12
// must produce an error, not an attempt to allocate terabytes.
constexpr std::size_t kMaxCells = std::size_t(1) << 31;

// rows * cols, refusing products over kMaxCells (and so any overflow).
std::size_t checked_cells(std::size_t rows, std::size_t cols, const char* where) {
  if (cols != 0 && rows > kMaxCells / cols)
    throw InvalidArgument(std::string(where) + ": roll of " + std::to_string(rows) + " x " +
                          std::to_string(cols) + " cells is too large (limit " +
                          std::to_string(kMaxCells) + " cells)");
  return rows * cols;
}

// An owned, zeroed C-contiguous buffer of `n` cells: an xt::xtensor kept alive
// by the returned shared_ptr; `data` receives its first cell.
std::shared_ptr<void> make_owned(std::size_t n, std::uint8_t*& data, const char* where) {
  checked_cells(n, 1, where);
  auto t = std::make_shared<xt::xtensor<std::uint8_t, 1>>(
      xt::xtensor<std::uint8_t, 1>::shape_type{std::max<std::size_t>(n, 1)});
  std::fill(t->begin(), t->end(), std::uint8_t{0});
  data = t->data();
  return t;
}

}  // namespace

// ---------------------------------------------------------------- RollGrid

void RollGrid::validate(const char* where) const {
  if (resolution < 1)
    throw InvalidArgument(std::string(where) + ": resolution must be >= 1 step per quarter, got " +
                          std::to_string(resolution));
  if (!(tempo > 0.0) || !std::isfinite(tempo))
    throw InvalidArgument(std::string(where) + ": tempo must be a positive number of quarter "
                          "notes per minute, got " + std::to_string(tempo));
  if (numerator < 1 || denominator < 1 || (denominator & (denominator - 1)) != 0)
    throw InvalidArgument(std::string(where) + ": bad time signature " +
                          std::to_string(numerator) + "/" + std::to_string(denominator) +
                          " (numerator >= 1, denominator a power of two)");
}

std::int64_t RollGrid::bar_steps() const {
  validate("RollGrid::bar_steps");
  // A bar lasts numerator * (4 / denominator) quarters.
  const std::int64_t num = std::int64_t(resolution) * numerator * 4;
  if (num % denominator != 0)
    throw InvalidArgument("RollGrid::bar_steps: a bar of " + std::to_string(numerator) + "/" +
                          std::to_string(denominator) + " is not a whole number of steps at " +
                          "resolution " + std::to_string(resolution));
  return num / denominator;
}

// ---------------------------------------------------------------- PianoRoll

PianoRoll::PianoRoll(std::size_t steps, RollGrid g, bool with_onsets) : grid(g), steps_(steps) {
  const std::size_t n = checked_cells(steps, kPitches, "PianoRoll");
  owner_ = make_owned(n, cells_, "PianoRoll");
  if (with_onsets) onsets_owner_ = make_owned(n, onsets_, "PianoRoll");
}

PianoRoll PianoRoll::adopt(std::uint8_t* cells, std::size_t steps, std::shared_ptr<void> owner,
                           RollGrid g) {
  if (!cells && steps > 0) throw InvalidArgument("PianoRoll::adopt: null cells for a non-empty roll");
  PianoRoll r;
  r.grid = g;
  r.steps_ = steps;
  r.cells_ = cells;
  r.owner_ = std::move(owner);
  if (!r.cells_) r.owner_ = make_owned(0, r.cells_, "PianoRoll::adopt");
  return r;
}

void PianoRoll::adopt_onsets(std::uint8_t* onsets, std::shared_ptr<void> owner) {
  if (!onsets && steps_ > 0)
    throw InvalidArgument("PianoRoll::adopt_onsets: null onsets for a non-empty roll");
  onsets_ = onsets;
  onsets_owner_ = std::move(owner);
  if (!onsets_) onsets_owner_ = make_owned(0, onsets_, "PianoRoll::adopt_onsets");
}

PianoRoll PianoRoll::clone() const {
  PianoRoll r(steps_, grid, has_onsets());
  r.info = info;
  r.binary = binary;
  if (steps_) std::memcpy(r.cells_, cells_, steps_ * kPitches);
  if (has_onsets() && steps_) std::memcpy(r.onsets_, onsets_, steps_ * kPitches);
  return r;
}

RollCells PianoRoll::cells() {
  return roll_detail::adapt(cells_, std::array<std::size_t, 2>{steps_, kPitches});
}
ConstRollCells PianoRoll::cells() const {
  return roll_detail::adapt(static_cast<const std::uint8_t*>(cells_),
                            std::array<std::size_t, 2>{steps_, kPitches});
}

RollCells PianoRoll::onsets() {
  if (!onsets_) throw InvalidArgument("PianoRoll::onsets: this roll has no onset channel");
  return roll_detail::adapt(onsets_, std::array<std::size_t, 2>{steps_, kPitches});
}
ConstRollCells PianoRoll::onsets() const {
  if (!onsets_) throw InvalidArgument("PianoRoll::onsets: this roll has no onset channel");
  return roll_detail::adapt(static_cast<const std::uint8_t*>(onsets_),
                            std::array<std::size_t, 2>{steps_, kPitches});
}

void PianoRoll::derive_onsets() {
  if (!onsets_) onsets_owner_ = make_owned(steps_ * kPitches, onsets_, "PianoRoll::derive_onsets");
  for (std::size_t t = 0; t < steps_; ++t)
    for (std::size_t p = 0; p < kPitches; ++p) {
      const bool on = (*this)(t, p) != 0;
      const bool was_on = t > 0 && (*this)(t - 1, p) != 0;
      onsets_[t * kPitches + p] = on && !was_on ? 1 : 0;
    }
}

void PianoRoll::drop_onsets() {
  onsets_ = nullptr;
  onsets_owner_.reset();
}

std::size_t PianoRoll::active_cells() const {
  return static_cast<std::size_t>(
      std::count_if(cells_, cells_ + steps_ * kPitches, [](std::uint8_t v) { return v != 0; }));
}

PianoRoll PianoRoll::with_length(std::size_t steps) const {
  PianoRoll r(steps, grid, has_onsets());
  r.info = info;
  r.binary = binary;
  const std::size_t keep = std::min(steps, steps_) * kPitches;
  if (keep) std::memcpy(r.cells_, cells_, keep);
  if (has_onsets() && keep) std::memcpy(r.onsets_, onsets_, keep);
  return r;
}

PianoRoll PianoRoll::binarized() const {
  PianoRoll r = clone();
  for (std::size_t i = 0; i < steps_ * kPitches; ++i) r.cells_[i] = r.cells_[i] ? 1 : 0;
  r.binary = true;
  return r;
}

// ---------------------------------------------------------- MultiTrackRoll

MultiTrackRoll::MultiTrackRoll(std::size_t tracks, std::size_t steps, RollGrid g,
                               bool with_onsets)
    : grid(g), info(tracks), tracks_(tracks), steps_(steps) {
  const std::size_t n = checked_cells(
      tracks, checked_cells(steps, kPitches, "MultiTrackRoll"), "MultiTrackRoll");
  owner_ = make_owned(n, cells_, "MultiTrackRoll");
  if (with_onsets) onsets_owner_ = make_owned(n, onsets_, "MultiTrackRoll");
}

MultiTrackRoll MultiTrackRoll::adopt(std::uint8_t* cells, std::size_t tracks, std::size_t steps,
                                     std::shared_ptr<void> owner, RollGrid g) {
  if (!cells && tracks * steps > 0)
    throw InvalidArgument("MultiTrackRoll::adopt: null cells for a non-empty roll");
  MultiTrackRoll r;
  r.grid = g;
  r.info.resize(tracks);
  r.tracks_ = tracks;
  r.steps_ = steps;
  r.cells_ = cells;
  r.owner_ = std::move(owner);
  if (!r.cells_) r.owner_ = make_owned(0, r.cells_, "MultiTrackRoll::adopt");
  return r;
}

void MultiTrackRoll::adopt_onsets(std::uint8_t* onsets, std::shared_ptr<void> owner) {
  if (!onsets && tracks_ * steps_ > 0)
    throw InvalidArgument("MultiTrackRoll::adopt_onsets: null onsets for a non-empty roll");
  onsets_ = onsets;
  onsets_owner_ = std::move(owner);
  if (!onsets_) onsets_owner_ = make_owned(0, onsets_, "MultiTrackRoll::adopt_onsets");
}

MultiTrackRoll MultiTrackRoll::clone() const {
  MultiTrackRoll r(tracks_, steps_, grid, has_onsets());
  r.info = info;
  r.binary = binary;
  const std::size_t n = tracks_ * steps_ * kPitches;
  if (n) std::memcpy(r.cells_, cells_, n);
  if (has_onsets() && n) std::memcpy(r.onsets_, onsets_, n);
  return r;
}

MultiRollCells MultiTrackRoll::cells() {
  return roll_detail::adapt(cells_, std::array<std::size_t, 3>{tracks_, steps_, kPitches});
}
ConstMultiRollCells MultiTrackRoll::cells() const {
  return roll_detail::adapt(static_cast<const std::uint8_t*>(cells_),
                            std::array<std::size_t, 3>{tracks_, steps_, kPitches});
}
MultiRollCells MultiTrackRoll::onsets() {
  if (!onsets_) throw InvalidArgument("MultiTrackRoll::onsets: this roll has no onset channel");
  return roll_detail::adapt(onsets_, std::array<std::size_t, 3>{tracks_, steps_, kPitches});
}
ConstMultiRollCells MultiTrackRoll::onsets() const {
  if (!onsets_) throw InvalidArgument("MultiTrackRoll::onsets: this roll has no onset channel");
  return roll_detail::adapt(static_cast<const std::uint8_t*>(onsets_),
                            std::array<std::size_t, 3>{tracks_, steps_, kPitches});
}

PianoRoll MultiTrackRoll::track(std::size_t i) const {
  if (i >= tracks_)
    throw InvalidArgument("MultiTrackRoll::track: index " + std::to_string(i) + " out of range (" +
                          std::to_string(tracks_) + " tracks)");
  // A view: the track's slice of our buffer, kept alive by our owner.
  PianoRoll r = PianoRoll::adopt(cells_ + i * steps_ * kPitches, steps_, owner_, grid);
  if (onsets_) r.adopt_onsets(onsets_ + i * steps_ * kPitches, onsets_owner_);
  r.info = i < info.size() ? info[i] : TrackInfo{};
  r.binary = binary;
  return r;
}

PianoRoll MultiTrackRoll::merged(bool include_drums) const {
  PianoRoll r(steps_, grid, has_onsets());
  r.binary = binary;
  const std::size_t n = steps_ * kPitches;
  for (std::size_t k = 0; k < tracks_; ++k) {
    if (!include_drums && k < info.size() && info[k].is_drum) continue;
    const std::uint8_t* c = cells_ + k * n;
    for (std::size_t i = 0; i < n; ++i) r.data()[i] = std::max(r.data()[i], c[i]);
    if (onsets_) {
      const std::uint8_t* o = onsets_ + k * n;
      for (std::size_t i = 0; i < n; ++i) r.onsets_data()[i] = std::max(r.onsets_data()[i], o[i]);
    }
  }
  return r;
}

}  // namespace partita
