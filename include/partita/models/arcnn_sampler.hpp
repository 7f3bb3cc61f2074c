// The AR-CNN editor's sampling loop, independent of the network.
//
// Each iteration asks a "logits function" (the model, or a fake in tests) for a
// score per cell of the current 128 x 128 window, turns them into
// p = softmax(logits / T) over all cells (T = creative risk), masks the moves
// the controls forbid, samples one cell and toggles it. Two counters follow the
// edit (as the AWS DeepComposer samples' AR-CNN does):
//   removing a note that was in the original   -> removed += 1
//   removing a note the editor had added       -> added   -= 1
//   adding a note that was not in the original -> added   += 1
//   restoring an original note                 -> removed -= 1
// Once removed >= max_remove (= int(pct * original notes / 100)), cells that are
// on now and were on originally get p = 0; once added > max_add, cells that are
// off now and were off originally get p = 0 (the reference's strict ">": up to
// max_add + 1 additions can happen). p is renormalised; the loop stops early
// when every cell has p = 0.
//
// A closing pass follows the requested iterations (resolve_iterations > 0): the
// same draw, restricted to the one-step notes (16th fragments) of the window,
// and to the off cells just before and after each. A toggle there either
// removes such a fragment or lengthens it, so the pass ends once none is left
// (or the counters mask every candidate); the model still picks which, at the
// same temperature, and the counters and their limits apply as in the
// iterations. The input's own one-step notes are candidates too unless
// keep_input_fragments is set (then the pass resolves only the fragments the
// edit made). Without the pass, 100 iterations leave a quarter to two fifths of
// a melody's notes as scattered 16th fragments.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "partita/core/random.hpp"
#include "partita/core/tensor.hpp"
#include "partita/music/pianoroll.hpp"

namespace partita::models {

/// The Music Studio's four controls plus the seed.
struct EditControls {
  double max_remove_pct = 100.0;  // maximum input notes to remove, percent, 0..100
  int max_add = 500;              // maximum notes to add, >= 0
  int iterations = 100;           // sampling iterations, 0..100000
  double creative_risk = 1.0;     // softmax temperature, (0, 100]
  std::uint64_t seed = 0;
  /// Most toggles of the closing pass that resolves the window's one-step notes
  /// (0: off), 0..100000; it stops earlier when none is left.
  int resolve_iterations = 500;
  /// Leave the input's own one-step notes to the iterations: the closing pass
  /// then resolves only the fragments the edit made.
  bool keep_input_fragments = false;
  /// Throws InvalidArgument naming `who` and the control if out of range.
  void validate(const char* who) const;
};

struct EditStats {
  int iterations_run = 0;  // toggles made in the requested iterations
  int resolve_run = 0;     // toggles made by the closing pass
  int removed = 0;         // final counters
  int added = 0;
  bool stopped_early = false;  // every cell was masked before the last iteration
};

/// Fills `logits` (1, steps, 128, 1) for `roll` (1, steps, 128, 1), values 0/1.
using LogitsFn = std::function<void(const Tensor& roll, Tensor& logits)>;

/// Edit `window` (any number of steps; the model needs 128) in place: its cells
/// (shared by every handle on the roll) become 0/1 and `binary` is set; a cell
/// is on when non-zero. Its onset channel, if any, is left as it was.
/// The closing pass's candidate cells of a (steps x 128) window: every on cell
/// whose pitch is off at the steps before and after (with keep_input_fragments,
/// only those that are not such a one-step note of `original` too), plus those
/// two off neighbours (within the window). 1 = candidate.
std::vector<std::uint8_t> resolve_candidates(const std::uint8_t* on_now, const std::uint8_t* original,
                                             std::int64_t steps, bool keep_input_fragments = false);

EditStats sample_edit(PianoRoll& window, const LogitsFn& logits_fn,
                      const EditControls& controls, Generator& rng);

}  // namespace partita::models
