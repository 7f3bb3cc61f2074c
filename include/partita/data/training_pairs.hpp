// AR-CNN training pairs: corrupted windows and the cells that repair them.
//
// From a target window the reference makes (AWS DeepComposer sample): remove a uniformly
// drawn 0-100 % of its note cells, add a uniformly drawn 1-1.5 % of its empty
// cells; the input is the corrupted window and the label is XOR(input, target),
// i.e. exactly the cells the editor should toggle. Each window gives `variants`
// different pairs per epoch. Optional transposition augmentation shifts the
// whole target by a random number of semitones that keeps every note inside
// 0..127. Every pair is a pure function of (seed, epoch, pair index), so a run
// resumed at an epoch sees the same data, whatever the batch order or threads.
#pragma once
#include <cstdint>
#include <vector>

#include "partita/core/random.hpp"
#include "partita/core/tensor.hpp"
#include "partita/data/windows.hpp"

namespace partita::data {

struct PairOptions {
  int variants = 8;                  // pairs made from each window per epoch
  double min_add_fraction = 0.01;    // fraction of empty cells switched on ...
  double max_add_fraction = 0.015;   // ... drawn uniformly in [min, max]
  int max_transpose = 0;             // semitones; 0 = no transposition
  void validate(const char* who) const;
};

/// Make one pair from `target` (steps * 128 cells). Writes `input` and `label`
/// (steps * 128 floats each, 0 or 1). Returns the transposition applied.
int make_training_pair(const std::uint8_t* target, std::int64_t steps, const PairOptions& opt,
                       Generator& rng, float* input, float* label);

/// Serves shuffled batches of pairs, epoch by epoch. Tensors are NHWC
/// (batch, steps, 128, 1), resized in place (no reallocation once warm).
class PairBatcher {
 public:
  /// `shuffle` false keeps window order (validation: the same pairs every epoch
  /// when start_epoch(0) is used).
  PairBatcher(const WindowSet& windows, PairOptions opt, std::uint64_t seed, bool shuffle = true);
  std::int64_t pairs_per_epoch() const;
  std::int64_t batches_per_epoch(std::int64_t batch_size) const;  // last one may be short
  void start_epoch(std::int64_t epoch);
  /// Batch `index` of the current epoch; returns its size (<= batch_size).
  std::int64_t batch(std::int64_t index, std::int64_t batch_size, Tensor& input, Tensor& label);

 private:
  const WindowSet& windows_;
  PairOptions opt_;
  std::uint64_t seed_;
  bool shuffle_;
  std::int64_t epoch_ = 0;
  std::vector<std::int64_t> order_;
};

}  // namespace partita::data
