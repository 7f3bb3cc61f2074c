// Multitrack windows, the model layout conversion, and range-keeping transposition.
#include "partita/data/multitrack_windows.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "partita/core/error.hpp"

namespace partita::data {

MultiTrackWindows::MultiTrackWindows(std::int64_t tracks, std::int64_t steps)
    : tracks_(tracks), steps_(steps) {
  if (tracks < 1 || steps < 1)
    throw InvalidArgument("MultiTrackWindows: tracks and steps must be >= 1, got " +
                          std::to_string(tracks) + " and " + std::to_string(steps));
}

const std::uint8_t* MultiTrackWindows::window(std::int64_t i) const {
  if (i < 0 || i >= count())
    throw InvalidArgument("MultiTrackWindows::window: index " + std::to_string(i) +
                          " outside 0.." + std::to_string(count() - 1));
  return cells_.data() + i * window_cells();
}

void MultiTrackWindows::push(const std::uint8_t* cells) {
  const size_t n = static_cast<size_t>(window_cells());
  size_t at = cells_.size();
  cells_.resize(at + n);
  for (size_t k = 0; k < n; ++k) cells_[at + k] = cells[k] ? 1 : 0;
}

MultiTrackRoll MultiTrackWindows::roll(std::int64_t i) const {
  const std::uint8_t* w = window(i);
  MultiTrackRoll r(static_cast<size_t>(tracks_), static_cast<size_t>(steps_));
  r.binary = true;
  r.info.resize(static_cast<size_t>(tracks_));
  std::memcpy(r.data(), w, static_cast<size_t>(window_cells()));
  return r;
}

MultiTrackWindows make_multitrack_windows(const std::vector<MultiTrackRoll>& rolls,
                                          std::int64_t window, std::int64_t hop) {
  if (window < 1 || hop < 1)
    throw InvalidArgument("make_multitrack_windows: window and hop must be >= 1, got " +
                          std::to_string(window) + " and " + std::to_string(hop));
  if (rolls.empty()) return MultiTrackWindows(4, window);
  const size_t K = rolls.front().num_tracks();
  if (K == 0) throw InvalidArgument("make_multitrack_windows: a roll has no tracks");
  MultiTrackWindows out(static_cast<std::int64_t>(K), window);
  const size_t W = static_cast<size_t>(window);
  std::vector<std::uint8_t> buf(K * W * kPitches);
  for (size_t r = 0; r < rolls.size(); ++r) {
    const MultiTrackRoll& roll = rolls[r];
    if (roll.num_tracks() != K)
      throw InvalidArgument("make_multitrack_windows: roll " + std::to_string(r) + " has " +
                            std::to_string(roll.num_tracks()) + " tracks, roll 0 has " +
                            std::to_string(K));
    const size_t T = roll.steps();
    std::vector<size_t> starts;
    if (T < W) starts.push_back(0);
    else
      for (size_t s = 0; s + W <= T; s += static_cast<size_t>(hop)) starts.push_back(s);
    for (size_t s : starts) {
      std::fill(buf.begin(), buf.end(), 0);
      const size_t len = std::min(W, T - s);
      for (size_t k = 0; k < K; ++k)
        std::memcpy(buf.data() + k * W * kPitches, roll.data() + (k * T + s) * kPitches,
                    len * kPitches);
      bool melody = std::any_of(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(W * kPitches),
                                [](std::uint8_t c) { return c != 0; });
      if (melody) out.push(buf.data());
    }
  }
  return out;
}

std::vector<float> to_model_layout(const MultiTrackWindows& w) {
  const size_t N = static_cast<size_t>(w.count()), K = static_cast<size_t>(w.tracks()),
               T = static_cast<size_t>(w.steps());
  std::vector<float> out(N * T * kPitches * K);
  const std::uint8_t* src = w.data();
  for (size_t n = 0; n < N; ++n)
    for (size_t k = 0; k < K; ++k)
      for (size_t t = 0; t < T; ++t)
        for (size_t p = 0; p < kPitches; ++p)
          out[((n * T + t) * kPitches + p) * K + k] =
              src[((n * K + k) * T + t) * kPitches + p] ? 1.0f : -1.0f;
  return out;
}

PitchRange pitch_extent(const MultiTrackRoll& roll) {
  PitchRange e{-1, -1};
  const size_t rows = roll.num_tracks() * roll.steps();
  const std::uint8_t* c = roll.data();
  for (size_t r = 0; r < rows; ++r)
    for (size_t p = 0; p < kPitches; ++p)
      if (c[r * kPitches + p]) {
        int q = static_cast<int>(p);
        if (e.low < 0 || q < e.low) e.low = q;
        if (q > e.high) e.high = q;
      }
  return e;
}

namespace {
void check_range(const char* where, PitchRange range) {
  if (range.low < 0 || range.high > 127 || range.low > range.high)
    throw InvalidArgument(std::string(where) + ": pitch range " + std::to_string(range.low) +
                          ".." + std::to_string(range.high) + " is not inside 0..127");
}
bool fits(PitchRange e, int s, PitchRange range) {
  if (e.low < 0) return true;  // silent
  return e.low + s >= range.low && e.high + s <= range.high;
}
}  // namespace

MultiTrackRoll transpose_window(const MultiTrackRoll& roll, int semitones, PitchRange range) {
  check_range("transpose_window", range);
  PitchRange e = pitch_extent(roll);
  if (!fits(e, semitones, range))
    throw InvalidArgument("transpose_window: shifting notes " + std::to_string(e.low) + ".." +
                          std::to_string(e.high) + " by " + std::to_string(semitones) +
                          " leaves the pitch range " + std::to_string(range.low) + ".." +
                          std::to_string(range.high));
  MultiTrackRoll out(roll.num_tracks(), roll.steps(), roll.grid, roll.has_onsets());
  out.info = roll.info;
  out.binary = roll.binary;
  const size_t rows = roll.num_tracks() * roll.steps();
  auto shift = [&](const std::uint8_t* src, std::uint8_t* dst) {
    for (size_t r = 0; r < rows; ++r)
      for (size_t p = 0; p < kPitches; ++p)
        if (src[r * kPitches + p])
          dst[r * kPitches + static_cast<size_t>(static_cast<int>(p) + semitones)] =
              src[r * kPitches + p];
  };
  shift(roll.data(), out.data());
  if (roll.has_onsets()) shift(roll.onsets_data(), out.onsets_data());
  return out;
}

std::vector<int> allowed_transpositions(const MultiTrackRoll& roll, int max_semitones,
                                        PitchRange range) {
  check_range("allowed_transpositions", range);
  if (max_semitones < 0)
    throw InvalidArgument("allowed_transpositions: max_semitones must be >= 0, got " +
                          std::to_string(max_semitones));
  PitchRange e = pitch_extent(roll);
  std::vector<int> out;
  for (int s = -max_semitones; s <= max_semitones; ++s)
    if (fits(e, s, range)) out.push_back(s);
  return out;
}

Transposed random_transposition(const MultiTrackRoll& roll, int max_semitones,
                                std::mt19937_64& rng, PitchRange range) {
  std::vector<int> allowed = allowed_transpositions(roll, max_semitones, range);
  if (allowed.empty())
    throw InvalidArgument("random_transposition: the roll already leaves the pitch range " +
                          std::to_string(range.low) + ".." + std::to_string(range.high));
  // Uniform index by rejection on the raw 64-bit draw (same on every standard library).
  const std::uint64_t n = allowed.size();
  const std::uint64_t limit = std::mt19937_64::max() - std::mt19937_64::max() % n;
  std::uint64_t x;
  do x = rng(); while (x >= limit);
  int s = allowed[static_cast<size_t>(x % n)];
  return Transposed{transpose_window(roll, s, range), s};
}

}  // namespace partita::data
