// GAN accompaniment: a melody of any length, key and register in; the generated
// parts out, window by window.
//
// The melody is quantized by partita's one quantizer (to_pianoroll at 16th
// notes, binary) and reduced to its top line (the highest pitch of each step,
// as the single-line melodies the model was trained on), moved by whole octaves
// so that the line's mean pitch lies within 6 semitones of the training
// melodies' (the parts are moved back by the same amount), and cut into windows of the model's length (the last padded with
// silence). Every window gets its own z from the seed; the windows run in
// batches through the generator in eval mode. With `monophonic` each part is
// read as one line through its values over the whole melody (gan_decode.hpp),
// else every cell above the threshold sounds; a part's consecutive cells of one
// pitch are one note, also across a window boundary (the windows are joined
// before notes are read).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "models/gan_decode.hpp"
#include "models/gan_impl.hpp"
#include "models/melody_track.hpp"
#include "partita/core/error.hpp"

namespace partita::models {

namespace {

void validate_options(const AccompanyOptions& o, const GanConfig& c, const char* who) {
  auto bad = [&](const std::string& m) { throw InvalidArgument(std::string(who) + ": " + m); };
  if (!o.programs.empty()) {
    if (o.programs.size() != static_cast<size_t>(c.tracks - 1))
      bad("programs needs one General MIDI program per part (" + std::to_string(c.tracks - 1) + "), got " +
          std::to_string(o.programs.size()));
    for (int p : o.programs)
      if (p < 0 || p > 127) bad("programs must be 0..127, got " + std::to_string(p));
  }
  if (o.velocity < 1 || o.velocity > 127) bad("velocity must be 1..127, got " + std::to_string(o.velocity));
  if (o.min_note_steps < 1) bad("min_note_steps must be >= 1, got " + std::to_string(o.min_note_steps));
  if (!(o.threshold > -1.0f && o.threshold < 1.0f))
    bad("threshold must be inside (-1, 1) (the generator's tanh range), got " + std::to_string(o.threshold));
  if (!(o.leap_penalty >= 0.0f && o.leap_penalty <= 100.0f))
    bad("leap_penalty must be in [0, 100], got " + std::to_string(o.leap_penalty));
}

// Clear runs of one pitch shorter than `min_steps` in a (steps x 128) part.
void drop_short_runs(std::uint8_t* cells, std::int64_t steps, int min_steps) {
  if (min_steps <= 1) return;
  for (int p = 0; p < 128; ++p) {
    std::int64_t t = 0;
    while (t < steps) {
      if (!cells[t * 128 + p]) {
        ++t;
        continue;
      }
      std::int64_t e = t;
      while (e < steps && cells[e * 128 + p]) ++e;
      if (e - t < min_steps)
        for (std::int64_t k = t; k < e; ++k) cells[k * 128 + p] = 0;
      t = e;
    }
  }
}

}  // namespace

MultiTrackRoll GAN::accompany_roll(const PianoRoll& melody, const AccompanyOptions& o, AccompanyReport* report) {
  const char* who = "GAN::accompany";
  GanImpl& m = *impl_;
  const GanConfig& c = m.config;
  validate_options(o, c, who);
  if (melody.grid.resolution != 4)
    throw InvalidArgument(std::string(who) + ": the model works on 16th notes (resolution 4), this roll has resolution " +
                          std::to_string(melody.grid.resolution));
  const auto steps = static_cast<std::int64_t>(melody.steps());
  if (steps == 0) throw InvalidArgument(std::string(who) + ": the melody roll has no time steps");
  if (steps > kMaxSteps)
    throw InvalidArgument(std::string(who) + ": the melody lasts " + std::to_string(steps) +
                          " 16th steps; at most " + std::to_string(kMaxSteps) + " (4096 bars of 4/4)");
  // The line the model hears: the highest sounding pitch of each step (the
  // training melodies are single lines; a melody track with chords or a second
  // voice is reduced to its top line).
  const std::vector<int> top = top_line(melody);
  // Register: whole octaves towards the training melodies' mean pitch.
  double sum = 0.0, cnt = 0.0;
  int lo = 128, hi = -1;
  for (int p : top)
    if (p >= 0) {
      sum += p;
      cnt += 1.0;
      lo = std::min(lo, p);
      hi = std::max(hi, p);
    }
  if (cnt == 0.0) throw InvalidArgument(std::string(who) + ": the melody has no notes");
  int shift = 12 * static_cast<int>(std::lround((c.melody_mean_pitch - sum / cnt) / 12.0));
  while (shift > 0 && hi + shift > c.pitches - 1) shift -= 12;
  while (shift < 0 && lo + shift < 0) shift += 12;
  if (hi + shift > c.pitches - 1 || lo + shift < 0)
    throw InvalidArgument(std::string(who) + ": the melody spans MIDI pitches " + std::to_string(lo) + ".." +
                          std::to_string(hi) + ", wider than the model's " + std::to_string(c.pitches) + " rows");

  const std::int64_t S = c.steps, P = c.pitches, T = c.tracks;
  const std::int64_t windows = (steps + S - 1) / S;
  Generator rng(o.seed);
  const Tensor z_all = sample_latent(windows, rng);
  const std::int64_t zper = z_all.size() / windows;

  MultiTrackRoll parts(static_cast<size_t>(T - 1), static_cast<size_t>(steps), melody.grid);
  parts.binary = true;
  for (std::int64_t k = 0; k + 1 < T; ++k) {
    parts.info[static_cast<size_t>(k)].name = c.part_names[static_cast<size_t>(k)];
    parts.info[static_cast<size_t>(k)].program =
        o.programs.empty() ? c.programs[static_cast<size_t>(k)] : o.programs[static_cast<size_t>(k)];
  }
  const bool was = m.training;
  m.set_training(false);
  try {
    // One window at a time through the packed engine when it runs (faster per
    // window than the layers on a batch of 16), else batches of 16.
    GanInference* engine = m.inference();
    m.engine_used = engine != nullptr;
    const std::int64_t kBatch = engine ? 1 : 16;
    Tensor x, z, y1;
    std::vector<VoiceDecoder> voices;
    if (o.monophonic)
      for (std::int64_t k = 1; k < T; ++k) voices.emplace_back(steps, static_cast<int>(P), shift, o.threshold, o.leap_penalty);
    for (std::int64_t w0 = 0; w0 < windows; w0 += kBatch) {
      const std::int64_t n = std::min(kBatch, windows - w0);
      x.resize({n, S, P, 1});
      x.fill(-1.0f);
      for (std::int64_t w = 0; w < n; ++w)
        for (std::int64_t s = 0; s < S; ++s) {
          const std::int64_t t = (w0 + w) * S + s;
          if (t >= steps) break;
          const int p = top[static_cast<size_t>(t)];
          if (p >= 0) x[(w * S + s) * P + (p + shift)] = 1.0f;
        }
      z.resize({n, S / 16, P / 16, c.latent_channels});
      std::memcpy(z.data(), z_all.data() + w0 * zper, sizeof(float) * static_cast<size_t>(n * zper));
      if (engine) {
        y1.resize({1, S, P, T});
        engine->run(x.data(), z.data(), y1.data());
      }
      const Tensor& y = engine ? y1 : m.gen->forward(x, z);
      for (std::int64_t w = 0; w < n; ++w)
        for (std::int64_t s = 0; s < S; ++s) {
          const std::int64_t t = (w0 + w) * S + s;
          if (t >= steps) break;
          const float* row = y.data() + ((w * S + s) * P) * T;
          for (std::int64_t k = 1; k < T; ++k) {
            if (o.monophonic) {
              voices[static_cast<size_t>(k - 1)].step(t, row + k, T);
              continue;
            }
            std::uint8_t* cell = parts.data() + ((k - 1) * steps + t) * 128;
            for (std::int64_t p = 0; p < P; ++p)
              if (row[p * T + k] > o.threshold && p - shift >= 0 && p - shift <= 127) cell[p - shift] = 1;
          }
        }
    }
    for (size_t k = 0; k < voices.size(); ++k)
      voices[k].finish(steps, parts.data() + static_cast<std::int64_t>(k) * steps * 128);
  } catch (...) {
    m.set_training(was);
    throw;
  }
  m.set_training(was);
  if (report) report->notes_per_part.assign(static_cast<size_t>(T - 1), 0);
  for (std::int64_t k = 0; k + 1 < T; ++k) {
    std::uint8_t* cells = parts.data() + k * steps * 128;
    drop_short_runs(cells, steps, o.min_note_steps);
    if (report) {
      std::int64_t notes = 0;
      for (int p = 0; p < 128; ++p)
        for (std::int64_t t = 0; t < steps; ++t)
          if (cells[t * 128 + p] && (t == 0 || !cells[(t - 1) * 128 + p])) ++notes;
      report->notes_per_part[static_cast<size_t>(k)] = notes;
    }
  }
  if (report) {
    report->octave_shift = shift;
    report->steps = steps;
    report->windows = windows;
  }
  return parts;
}

Score GAN::accompany(const Score& score, const AccompanyOptions& o, AccompanyReport* report) {
  const char* who = "GAN::accompany";
  const GanConfig& c = impl_->config;
  validate_options(o, c, who);
  const int track = choose_melody_track(score, o.track, who);
  // Meters: a bar must be a whole number of 16ths (denominators up to 16).
  for (const auto& ts : score.time_signatures)
    if (ts.denominator > 16 || ts.numerator < 1)
      throw InvalidArgument(std::string(who) + ": the meter " + std::to_string(ts.numerator) + "/" +
                            std::to_string(ts.denominator) + " at tick " + std::to_string(ts.tick) +
                            " is not a whole number of 16th notes; the model's grid is 16ths");
  const PianoRoll roll = melody_roll(score, track, kMaxSteps, who);
  AccompanyReport local;
  AccompanyReport& rep = report ? *report : local;
  const MultiTrackRoll parts = accompany_roll(roll, o, &rep);
  rep.melody_track = track;

  Score out;
  out.ticks_per_quarter = score.ticks_per_quarter;
  out.tempos = score.tempos;
  out.time_signatures = score.time_signatures;
  out.key_signatures = score.key_signatures;
  out.tracks.push_back(score.tracks[track]);  // the melody, unchanged
  const std::vector<int>& programs = o.programs.empty() ? c.programs : o.programs;
  for (size_t k = 0; k + 1 < static_cast<size_t>(c.tracks); ++k) {
    Track t;
    t.name = c.part_names[k];
    t.program = programs[k];
    FromRollOptions from;
    from.ticks_per_quarter = score.ticks_per_quarter;
    from.velocity = o.velocity;
    PianoRoll part = parts.track(k);
    t.notes = from_pianoroll(part, from).tracks.at(0).notes;
    out.tracks.push_back(std::move(t));
  }
  return out;
}

}  // namespace partita::models
