// ARCNN editing: a Score or a roll of any length, window by window, through the
// sampler. A Score goes through partita's one quantizer (to_pianoroll at 16th
// notes, binary) and back (from_pianoroll at the Score's ticks per quarter).
#include <algorithm>
#include <cstring>
#include <memory>

#include "partita/core/error.hpp"
#include "models/arcnn_impl.hpp"
#include "models/arcnn_infer.hpp"
#include "partita/core/threads.hpp"

namespace partita::models {

static constexpr std::int64_t kWindow = 128;

PianoRoll ARCNN::edit_roll(const PianoRoll& roll, const EditControls& controls,
                           std::vector<EditStats>* stats) {
  controls.validate("ARCNN::edit");
  if (roll.grid.resolution != 4)
    throw InvalidArgument("ARCNN::edit_roll: the model works on 16th notes (resolution 4), this roll has resolution " +
                          std::to_string(roll.grid.resolution) + "; convert the Score with resolution 4");
  if (roll.steps() == 0) throw InvalidArgument("ARCNN::edit: the piano roll has no time steps");
  const auto steps = static_cast<std::int64_t>(roll.steps());
  const auto pitches = static_cast<std::int64_t>(kPitches);
  const bool was = impl_->training;
  impl_->set_training(false);
  // The eval-mode network, folded and evaluated incrementally (arcnn_infer.hpp):
  // each sampling step toggles one cell, and the engine recomputes only what
  // that cell reaches. On a CPU without AVX2 (or with PARTITA_SIMD=generic)
  // the editor uses the training network's forward instead.
  std::unique_ptr<ArcnnInference> engine;
  if (infer::simd_kernel_available())
    engine = std::make_unique<ArcnnInference>(*impl_, kWindow, pitches, num_threads());
  LogitsFn model = [this, &engine](const Tensor& x, Tensor& logits) {
    logits.resize(x.shape());
    if (engine) {
      std::memcpy(logits.data(), engine->logits(x.data()), sizeof(float) * static_cast<size_t>(x.size()));
      return;
    }
    logits.copy_from(impl_->forward(x));
  };
  const std::int64_t n_windows = (steps + kWindow - 1) / kWindow;
  PianoRoll result(roll.steps(), roll.grid);
  result.info = roll.info;
  result.binary = true;
  Generator base(controls.seed);
  if (stats) stats->clear();
  try {
    for (std::int64_t w = 0; w < n_windows; ++w) {
      const std::int64_t t0 = w * kWindow, len = std::min(kWindow, steps - t0);
      PianoRoll win(static_cast<std::size_t>(kWindow), roll.grid);  // the last window is padded with silence
      std::memcpy(win.data(), roll.data() + t0 * pitches, static_cast<size_t>(len * pitches));
      Generator rng = base.split(static_cast<std::uint64_t>(w));
      EditStats st = sample_edit(win, model, controls, rng);
      if (stats) stats->push_back(st);
      std::memcpy(result.data() + t0 * pitches, win.data(), static_cast<size_t>(len * pitches));
    }
  } catch (...) {
    impl_->set_training(was);
    throw;
  }
  impl_->set_training(was);
  return result;
}

Score ARCNN::edit(const Score& melody, const EditControls& controls, int track,
                  std::vector<EditStats>* stats) {
  controls.validate("ARCNN::edit");
  if (melody.tracks.empty()) throw InvalidArgument("ARCNN::edit: the score has no tracks");
  if (track < -1 || track >= static_cast<int>(melody.tracks.size()))
    throw InvalidArgument("ARCNN::edit: track " + std::to_string(track) + " out of range (" +
                          std::to_string(melody.tracks.size()) + " tracks)");
  if (track == -1) {
    for (size_t i = 0; i < melody.tracks.size(); ++i)
      if (!melody.tracks[i].notes.empty() && !melody.tracks[i].is_drum) {
        track = static_cast<int>(i);
        break;
      }
    if (track == -1) throw InvalidArgument("ARCNN::edit: no (non-drum) track has notes");
  } else if (melody.tracks[track].notes.empty()) {
    throw InvalidArgument("ARCNN::edit: track " + std::to_string(track) + " has no notes");
  }
  if (melody.ticks_per_quarter <= 0)
    throw InvalidArgument("ARCNN::edit: ticks per quarter " +
                          std::to_string(melody.ticks_per_quarter) + " is not positive");
  // The track's length in 16ths (the quantizer's rule), before building its roll.
  std::int64_t last_end = 0;
  for (const Note& n : melody.tracks[track].notes) last_end = std::max(last_end, n.end);
  const std::int64_t last_step = tick_to_step(last_end, 4, melody.ticks_per_quarter);
  if (last_step > kMaxEditSteps)
    throw InvalidArgument("ARCNN::edit: track " + std::to_string(track) + " lasts " +
                          std::to_string(last_step) + " 16th steps (its last note ends at tick " +
                          std::to_string(last_end) + "); the editor takes at most " +
                          std::to_string(kMaxEditSteps) + " (4096 bars of 4/4)");
  ToRollOptions to;
  to.resolution = 4;
  to.track = track;
  to.binarize = true;
  const PianoRoll roll = to_pianoroll(melody, to);
  // Keep the input's length, rounded up to a whole quarter (4 steps).
  const std::size_t steps = std::max<std::size_t>(4, (roll.steps() + 3) / 4 * 4);
  const PianoRoll edited = edit_roll(roll.with_length(steps), controls, stats);

  const Track& in = melody.tracks[track];
  Score out;
  out.ticks_per_quarter = melody.ticks_per_quarter;
  out.tempos = melody.tempos;
  out.time_signatures = melody.time_signatures;
  out.key_signatures = melody.key_signatures;
  Track t;
  t.name = in.name.empty() ? std::string("AR-CNN") : in.name;
  t.program = in.program;
  t.channel = in.channel;
  FromRollOptions from;
  from.ticks_per_quarter = melody.ticks_per_quarter;
  from.velocity = 100;
  t.notes = from_pianoroll(edited, from).tracks.at(0).notes;
  out.tracks.push_back(std::move(t));
  return out;
}

}  // namespace partita::models
