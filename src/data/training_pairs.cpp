// Training pair generation (removal, addition, XOR label, transposition).
#include "partita/data/training_pairs.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "partita/core/error.hpp"

namespace partita::data {

static constexpr int kPitchCount = static_cast<int>(kPitches);

void PairOptions::validate(const char* who) const {
  if (variants < 1)
    throw InvalidArgument(std::string(who) + ": variants must be >= 1, got " +
                          std::to_string(variants));
  if (!(min_add_fraction >= 0 && min_add_fraction <= max_add_fraction && max_add_fraction <= 1))
    throw InvalidArgument(std::string(who) +
                          ": need 0 <= min_add_fraction <= max_add_fraction <= 1");
  if (max_transpose < 0 || max_transpose > 127)
    throw InvalidArgument(std::string(who) + ": max_transpose must be in 0..127, got " +
                          std::to_string(max_transpose));
}

// Choose `k` distinct entries of `pool` at random (partial Fisher-Yates, in place):
// they end up in pool[0, k).
static void choose(std::vector<std::int32_t>& pool, std::int64_t k, Generator& rng) {
  const std::int64_t n = static_cast<std::int64_t>(pool.size());
  for (std::int64_t i = 0; i < k && i < n; ++i) {
    auto j = i + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(n - i)));
    std::swap(pool[i], pool[j]);
  }
}

int make_training_pair(const std::uint8_t* target, std::int64_t steps, const PairOptions& opt,
                       Generator& rng, float* input, float* label) {
  const std::int64_t cells = steps * kPitchCount;
  // Transposition: the shift range that keeps the lowest and highest notes in range.
  int shift = 0;
  if (opt.max_transpose > 0) {
    int lo_p = kPitchCount, hi_p = -1;
    for (std::int64_t i = 0; i < cells; ++i)
      if (target[i]) {
        int p = static_cast<int>(i % kPitchCount);
        lo_p = std::min(lo_p, p);
        hi_p = std::max(hi_p, p);
      }
    if (hi_p >= 0) {
      int lo = std::max(-opt.max_transpose, -lo_p);
      int hi = std::min(opt.max_transpose, kPitchCount - 1 - hi_p);
      shift = lo + static_cast<int>(rng.below(static_cast<std::uint64_t>(hi - lo + 1)));
    }
  }
  // input := shifted target for now; collect on and off cells.
  std::vector<std::int32_t> on, off;
  on.reserve(1024);
  off.reserve(static_cast<size_t>(cells));
  for (std::int64_t t = 0; t < steps; ++t)
    for (int p = 0; p < kPitchCount; ++p) {
      int src = p - shift;
      bool v = src >= 0 && src < kPitchCount && target[t * kPitchCount + src];
      auto idx = static_cast<std::int32_t>(t * kPitchCount + p);
      input[idx] = v ? 1.0f : 0.0f;
      (v ? on : off).push_back(idx);
    }
  std::fill(label, label + cells, 0.0f);
  // Remove floor(u * notes) of the note cells, u ~ U[0, 1).
  auto n_remove = static_cast<std::int64_t>(rng.uniform() * static_cast<double>(on.size()));
  choose(on, n_remove, rng);
  for (std::int64_t i = 0; i < n_remove; ++i) input[on[i]] = 0.0f, label[on[i]] = 1.0f;
  // Add round(f * empty) cells among the target's empty ones, f ~ U[min, max].
  double f = opt.min_add_fraction + rng.uniform() * (opt.max_add_fraction - opt.min_add_fraction);
  auto n_add = static_cast<std::int64_t>(std::llround(f * static_cast<double>(off.size())));
  choose(off, n_add, rng);
  for (std::int64_t i = 0; i < n_add; ++i) input[off[i]] = 1.0f, label[off[i]] = 1.0f;
  return shift;
}

PairBatcher::PairBatcher(const WindowSet& windows, PairOptions opt, std::uint64_t seed,
                         bool shuffle)
    : windows_(windows), opt_(opt), seed_(seed), shuffle_(shuffle) {
  opt_.validate("PairBatcher");
  if (windows.count() == 0) throw InvalidArgument("PairBatcher: no windows to make pairs from");
  start_epoch(0);
}

std::int64_t PairBatcher::pairs_per_epoch() const { return windows_.count() * opt_.variants; }

std::int64_t PairBatcher::batches_per_epoch(std::int64_t batch_size) const {
  if (batch_size < 1) throw InvalidArgument("PairBatcher: batch_size must be >= 1");
  return (pairs_per_epoch() + batch_size - 1) / batch_size;
}

void PairBatcher::start_epoch(std::int64_t epoch) {
  epoch_ = epoch;
  order_.resize(static_cast<size_t>(pairs_per_epoch()));
  std::iota(order_.begin(), order_.end(), 0);
  if (shuffle_) {
    Generator rng(seed_ ^ (0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(epoch + 1)));
    for (std::int64_t i = static_cast<std::int64_t>(order_.size()) - 1; i > 0; --i)
      std::swap(order_[i], order_[rng.below(static_cast<std::uint64_t>(i + 1))]);
  }
}

std::int64_t PairBatcher::batch(std::int64_t index, std::int64_t batch_size, Tensor& input,
                                Tensor& label) {
  const std::int64_t nb = batches_per_epoch(batch_size);
  if (index < 0 || index >= nb)
    throw InvalidArgument("PairBatcher::batch: index " + std::to_string(index) +
                          " out of range (" + std::to_string(nb) + " batches)");
  const std::int64_t begin = index * batch_size;
  const std::int64_t n = std::min(batch_size, pairs_per_epoch() - begin);
  const std::int64_t steps = windows_.steps(), cells = windows_.window_cells();
  input.resize({n, steps, kPitchCount, 1});
  label.resize({n, steps, kPitchCount, 1});
  for (std::int64_t b = 0; b < n; ++b) {
    const std::int64_t pair = order_[static_cast<size_t>(begin + b)];
    // One generator per (seed, epoch, pair): reproducible regardless of batching.
    Generator rng(seed_ + 0x632be59bd9b4e019ULL * static_cast<std::uint64_t>(epoch_) +
                  0xd1b54a32d192ed03ULL * static_cast<std::uint64_t>(pair + 1));
    make_training_pair(windows_.window(pair / opt_.variants), steps, opt_, rng,
                       input.data() + b * cells, label.data() + b * cells);
  }
  return n;
}

}  // namespace partita::data
