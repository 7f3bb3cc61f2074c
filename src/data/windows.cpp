// Windowing and the seeded train/valid split.
#include "partita/data/windows.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>

#include "partita/core/error.hpp"
#include "partita/core/random.hpp"

namespace partita::data {

static constexpr auto kRow = static_cast<std::int64_t>(kPitches);  // cells per step

void WindowSet::push(const std::uint8_t* cells) {
  cells_.insert(cells_.end(), cells, cells + window_cells());
}

PianoRoll WindowSet::roll(std::int64_t i) const {
  if (i < 0 || i >= count())
    throw InvalidArgument("WindowSet::roll: index " + std::to_string(i) + " out of range (" +
                          std::to_string(count()) + " windows)");
  PianoRoll r(static_cast<std::size_t>(steps_));
  r.binary = true;
  std::memcpy(r.data(), window(i), static_cast<size_t>(window_cells()));
  return r;
}

WindowSet make_windows(const std::vector<PianoRoll>& rolls, std::int64_t window,
                       std::int64_t hop) {
  if (window <= 0 || hop <= 0)
    throw InvalidArgument("make_windows: window and hop must be positive, got " +
                          std::to_string(window) + " and " + std::to_string(hop));
  WindowSet out(window);
  std::vector<std::uint8_t> buf(static_cast<size_t>(window * kRow));
  // Copies `n` cells from `src` into the window buffer as 0/1 and pushes the
  // window unless it is silent.
  auto push_window = [&](const std::uint8_t* src, std::size_t n) {
    bool any = false;
    for (std::size_t c = 0; c < n; ++c) any |= (buf[c] = src[c] != 0) != 0;
    std::fill(buf.begin() + static_cast<std::ptrdiff_t>(n), buf.end(), 0);
    if (any) out.push(buf.data());
  };
  for (const PianoRoll& r : rolls) {
    const auto steps = static_cast<std::int64_t>(r.steps());
    if (steps <= 0) continue;
    if (steps < window) {  // one padded window
      push_window(r.data(), static_cast<std::size_t>(steps * kRow));
      continue;
    }
    for (std::int64_t s = 0; s + window <= steps; s += hop)
      push_window(r.data() + s * kRow, buf.size());
  }
  return out;
}

std::pair<WindowSet, WindowSet> split_windows(const WindowSet& all, double valid_fraction,
                                              std::uint64_t seed) {
  if (!(valid_fraction >= 0.0 && valid_fraction < 1.0))
    throw InvalidArgument("split_windows: valid_fraction must be in [0, 1), got " +
                          std::to_string(valid_fraction));
  const std::int64_t n = all.count();
  std::vector<std::int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  Generator rng(seed);
  for (std::int64_t i = n - 1; i > 0; --i)  // Fisher-Yates
    std::swap(order[i], order[rng.below(static_cast<std::uint64_t>(i + 1))]);
  std::int64_t n_valid = static_cast<std::int64_t>(valid_fraction * static_cast<double>(n) + 0.5);
  if (valid_fraction > 0 && n >= 2) n_valid = std::max<std::int64_t>(1, n_valid);
  n_valid = std::min(n_valid, n);
  // Keep the original order inside each part (stable, easier to inspect).
  std::vector<std::int64_t> valid(order.begin(), order.begin() + n_valid);
  std::vector<std::int64_t> train(order.begin() + n_valid, order.end());
  std::sort(valid.begin(), valid.end());
  std::sort(train.begin(), train.end());
  std::pair<WindowSet, WindowSet> out{WindowSet(all.steps()), WindowSet(all.steps())};
  for (auto i : train) out.first.push(all.window(i));
  for (auto i : valid) out.second.push(all.window(i));
  return out;
}

}  // namespace partita::data
