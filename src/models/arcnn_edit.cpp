// ARCNN editing: a Score or a roll of any length, window by window, through the
// sampler. A Score goes through partita's one quantizer (to_pianoroll at 16th
// notes, binary) and back (from_pianoroll at the Score's ticks per quarter).
#include <algorithm>
#include <cstring>
#include <memory>

#include "partita/core/error.hpp"
#include "models/arcnn_impl.hpp"
#include "models/arcnn_infer.hpp"
#include "models/melody_track.hpp"
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
  track = choose_melody_track(melody, track, "ARCNN::edit");
  const PianoRoll roll = melody_roll(melody, track, kMaxEditSteps, "ARCNN::edit");
  const PianoRoll edited = edit_roll(roll, controls, stats);

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
