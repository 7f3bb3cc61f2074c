// AR-CNN sampling loop: tempered softmax over all cells, masks, one toggle per step.
#include "partita/models/arcnn_sampler.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "partita/core/error.hpp"

namespace partita::models {

void EditControls::validate(const char* who) const {
  auto bad = [&](const std::string& what) { throw InvalidArgument(std::string(who) + ": " + what); };
  if (!(max_remove_pct >= 0.0 && max_remove_pct <= 100.0))
    bad("max_remove_pct must be in [0, 100], got " + std::to_string(max_remove_pct));
  if (max_add < 0) bad("max_add must be >= 0, got " + std::to_string(max_add));
  if (iterations < 0 || iterations > 100000)
    bad("iterations must be in [0, 100000], got " + std::to_string(iterations));
  if (!(creative_risk > 0.0 && creative_risk <= 100.0))
    bad("creative_risk (temperature) must be in (0, 100], got " + std::to_string(creative_risk));
  if (resolve_iterations < 0 || resolve_iterations > 100000)
    bad("resolve_iterations must be in [0, 100000], got " + std::to_string(resolve_iterations));
}

std::vector<std::uint8_t> resolve_candidates(const std::uint8_t* on_now, const std::uint8_t* original,
                                             std::int64_t steps, bool keep_input_fragments) {
  const std::int64_t pitches = static_cast<std::int64_t>(kPitches);
  std::vector<std::uint8_t> allowed(static_cast<size_t>(steps * pitches), 0);
  auto at = [&](const std::uint8_t* r, std::int64_t t, std::int64_t q) {
    return t >= 0 && t < steps && r[t * pitches + q] != 0;
  };
  for (std::int64_t t = 0; t < steps; ++t)
    for (std::int64_t q = 0; q < pitches; ++q) {
      if (!at(on_now, t, q) || at(on_now, t - 1, q) || at(on_now, t + 1, q)) continue;  // not a one-step note
      if (keep_input_fragments && at(original, t, q) && !at(original, t - 1, q) && !at(original, t + 1, q))
        continue;  // the input's own
      allowed[static_cast<size_t>(t * pitches + q)] = 1;
      if (t > 0) allowed[static_cast<size_t>((t - 1) * pitches + q)] = 1;
      if (t + 1 < steps) allowed[static_cast<size_t>((t + 1) * pitches + q)] = 1;
    }
  return allowed;
}

EditStats sample_edit(PianoRoll& window, const LogitsFn& logits_fn,
                      const EditControls& c, Generator& rng) {
  c.validate("sample_edit");
  const auto steps = static_cast<std::int64_t>(window.steps());
  const std::int64_t cells = steps * static_cast<std::int64_t>(kPitches);
  if (cells == 0) throw InvalidArgument("sample_edit: empty window");
  std::uint8_t* const on_now = window.data();
  for (std::int64_t i = 0; i < cells; ++i) on_now[i] = on_now[i] != 0;
  window.binary = true;
  const std::vector<std::uint8_t> original(on_now, on_now + cells);
  std::int64_t original_notes = 0;
  for (auto v : original) original_notes += v;
  const auto max_remove =
      static_cast<std::int64_t>(c.max_remove_pct * static_cast<double>(original_notes) / 100.0);

  const std::int64_t pitches = static_cast<std::int64_t>(kPitches);
  Tensor roll({1, steps, pitches, 1});
  Tensor logits({1, steps, pitches, 1});
  for (std::int64_t i = 0; i < cells; ++i) roll[i] = on_now[i] ? 1.0f : 0.0f;
  std::vector<double> p(static_cast<size_t>(cells));
  const double inv_t = 1.0 / c.creative_risk;
  std::int64_t removed = 0, added = 0;
  EditStats st;

  // One draw from softmax(logits / T) over the cells the controls allow (and, in
  // the closing pass, only `only`'s cells); toggles it. False when nothing is allowed.
  auto step = [&](const std::vector<std::uint8_t>* only) {
    logits_fn(roll, logits);
    logits.expect_shape(roll.shape(), "sample_edit: logits function output");
    const bool block_remove = removed >= max_remove;
    const bool block_add = added > c.max_add;
    // softmax(logits / T) with the max subtracted; masked cells get 0.
    double mx = -INFINITY;
    for (std::int64_t i = 0; i < cells; ++i) mx = std::max(mx, static_cast<double>(logits[i]));
    if (!std::isfinite(mx)) throw InvalidArgument("sample_edit: logits are not finite");
    double sum = 0.0;
    for (std::int64_t i = 0; i < cells; ++i) {
      const bool on = on_now[i] != 0, orig = original[i] != 0;
      double q = std::exp((static_cast<double>(logits[i]) - mx) * inv_t);
      if ((block_remove && on && orig) || (block_add && !on && !orig)) q = 0.0;
      if (only && !(*only)[static_cast<size_t>(i)]) q = 0.0;
      p[static_cast<size_t>(i)] = q;
      sum += q;
    }
    if (!(sum > 0.0)) return false;
    // Inverse-CDF draw of one cell (renormalising by `sum`).
    const double u = rng.uniform() * sum;
    double acc = 0.0;
    std::int64_t pick = -1;
    for (std::int64_t i = 0; i < cells; ++i) {
      if (p[static_cast<size_t>(i)] == 0.0) continue;
      acc += p[static_cast<size_t>(i)];
      pick = i;
      if (u < acc) break;
    }
    const bool on = on_now[pick] != 0, orig = original[pick] != 0;
    if (on) removed += orig ? 1 : 0, added -= orig ? 0 : 1;
    else added += orig ? 0 : 1, removed -= orig ? 1 : 0;
    on_now[pick] = on ? 0 : 1;
    roll[pick] = on ? 0.0f : 1.0f;
    return true;
  };

  for (int it = 0; it < c.iterations; ++it) {
    if (!step(nullptr)) {
      st.stopped_early = true;
      break;
    }
    ++st.iterations_run;
  }
  // Closing pass: each toggle turns off, or extends, a one-step note, so it
  // ends when none is left (or the controls mask every such cell).
  for (int it = 0; it < c.resolve_iterations; ++it) {
    const std::vector<std::uint8_t> only = resolve_candidates(on_now, original.data(), steps, c.keep_input_fragments);
    if (!step(&only)) break;
    ++st.resolve_run;
  }
  st.removed = static_cast<int>(removed);
  st.added = static_cast<int>(added);
  return st;
}

}  // namespace partita::models
