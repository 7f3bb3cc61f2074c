// Accompaniment measured against real parts (gan_eval.hpp).
#include "partita/models/gan_eval.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "partita/core/error.hpp"
#include "partita/core/random.hpp"
#include "partita/music/metrics.hpp"
#include "models/melody_track.hpp"

namespace partita::models {

bool consonant_interval(int semitones) {
  switch (((semitones % 12) + 12) % 12) {
    case 0: case 3: case 4: case 5: case 7: case 8: case 9: return true;
    default: return false;
  }
}

std::vector<std::pair<std::string, double>> PartMetrics::values() const {
  return {{"empty_bar_rate", empty_bar_rate},
          {"used_pitch_classes", used_pitch_classes},
          {"qualified_note_rate", qualified_note_rate},
          {"pitch_class_entropy", pitch_class_entropy},
          {"scale_consistency", scale_consistency},
          {"polyphony", polyphony},
          {"pitch_range", pitch_range},
          {"empty_beat_rate", empty_beat_rate},
          {"groove_consistency", groove_consistency},
          {"tonal_distance_to_melody", tonal_distance_to_melody},
          {"consonance", consonance}};
}

namespace {

struct Mean {
  double sum = 0.0;
  std::int64_t n = 0;
  void add(double v) {
    if (std::isfinite(v)) sum += v, ++n;
  }
  double get() const { return n ? sum / static_cast<double>(n) : std::numeric_limits<double>::quiet_NaN(); }
};

// Copy of `k`-th track of a multitrack roll as its own roll (resolution of the grid).
PianoRoll track_copy(const MultiTrackRoll& r, std::size_t k) { return r.track(k).clone(); }

}  // namespace

std::vector<PartMetrics> measure_parts(const std::vector<MultiTrackRoll>& pieces, const Accompanist& accompanist,
                                       const std::vector<std::string>& names) {
  const char* who = "measure_parts";
  if (pieces.empty()) throw InvalidArgument(std::string(who) + ": no pieces");
  const size_t P = names.size();
  struct Acc {
    Mean ebr, upc, qn, pce, sc, poly, range, ebeat, groove, td;
    std::int64_t cons = 0, cells = 0, notes = 0;
  };
  std::vector<Acc> acc(P);
  for (size_t i = 0; i < pieces.size(); ++i) {
    const MultiTrackRoll& piece = pieces[i];
    if (piece.num_tracks() != P + 1)
      throw InvalidArgument(std::string(who) + ": piece " + std::to_string(i) + " has " +
                            std::to_string(piece.num_tracks()) + " tracks; expected the melody and " +
                            std::to_string(P) + " parts");
    const PianoRoll melody = track_copy(piece, 0);
    const MultiTrackRoll parts = accompanist(melody, i);
    if (parts.num_tracks() != P || parts.steps() != piece.steps())
      throw ShapeError(std::string(who) + ": the accompanist gave " + std::to_string(parts.num_tracks()) +
                       " tracks x " + std::to_string(parts.steps()) + " steps for piece " + std::to_string(i) +
                       "; expected " + std::to_string(P) + " x " + std::to_string(piece.steps()));
    const std::int64_t steps = static_cast<std::int64_t>(piece.steps());
    const std::vector<int> top = top_line(melody);
    for (size_t k = 0; k < P; ++k) {
      PianoRoll part = track_copy(parts, k);
      part.grid = piece.track(0).grid;
      part.binary = true;
      const RollMetrics m = roll_metrics(part);
      Acc& a = acc[k];
      a.ebr.add(m.empty_bar_rate);
      a.upc.add(m.used_pitch_classes);
      a.qn.add(m.qualified_note_rate);
      a.pce.add(m.pitch_class_entropy);
      a.sc.add(m.scale_consistency);
      a.poly.add(m.polyphony);
      if (m.fragments.notes > 0) a.range.add(m.pitch_range);
      a.ebeat.add(m.empty_beat_rate);
      a.groove.add(m.groove_consistency);
      a.td.add(tonal_distance(melody, part));
      a.notes += m.fragments.notes;
      for (std::int64_t t = 0; t < steps; ++t) {
        const int mt = top[static_cast<size_t>(t)];
        if (mt < 0) continue;
        for (int p = 0; p < 128; ++p)
          if (part(static_cast<size_t>(t), static_cast<size_t>(p))) {
            ++a.cells;
            if (consonant_interval(p - mt)) ++a.cons;
          }
      }
    }
  }
  std::vector<PartMetrics> out(P);
  for (size_t k = 0; k < P; ++k) {
    const Acc& a = acc[k];
    PartMetrics& m = out[k];
    m.part = names[k];
    m.empty_bar_rate = a.ebr.get();
    m.used_pitch_classes = a.upc.get();
    m.qualified_note_rate = a.qn.get();
    m.pitch_class_entropy = a.pce.get();
    m.scale_consistency = a.sc.get();
    m.polyphony = a.poly.get();
    m.pitch_range = a.range.get();
    m.empty_beat_rate = a.ebeat.get();
    m.groove_consistency = a.groove.get();
    m.tonal_distance_to_melody = a.td.get();
    m.consonance = a.cells ? static_cast<double>(a.cons) / static_cast<double>(a.cells)
                           : std::numeric_limits<double>::quiet_NaN();
    m.notes = a.notes;
  }
  return out;
}

Accompanist real_parts(const std::vector<MultiTrackRoll>& pieces) {
  return [&pieces](const PianoRoll&, std::size_t i) {
    const MultiTrackRoll& p = pieces.at(i);
    MultiTrackRoll parts(p.num_tracks() - 1, p.steps(), p.track(0).grid);
    const size_t per = p.steps() * kPitches;
    std::copy(p.data() + per, p.data() + per * p.num_tracks(), parts.data());
    return parts;
  };
}

Accompanist gan_parts(GAN& gan, const AccompanyOptions& options) {
  return [&gan, options](const PianoRoll& melody, std::size_t i) {
    AccompanyOptions o = options;
    o.seed = options.seed + i;
    PianoRoll m = melody;
    m.grid.resolution = 4;
    return gan.accompany_roll(m, o);
  };
}

Accompanist random_in_key_parts(const std::vector<MultiTrackRoll>& pieces, std::uint64_t seed) {
  return [&pieces, seed](const PianoRoll& melody, std::size_t i) {
    const MultiTrackRoll& piece = pieces.at(i);
    const size_t P = piece.num_tracks() - 1;
    const std::int64_t steps = static_cast<std::int64_t>(piece.steps());
    MultiTrackRoll parts(P, piece.steps(), piece.track(0).grid);
    const int root = in_scale_rate(melody).root;
    static const int kMajor[7] = {0, 2, 4, 5, 7, 9, 11};
    Generator g(seed * 1000003ULL + i);
    for (size_t k = 0; k < P; ++k) {
      const PianoRoll real = piece.track(k + 1);
      const std::vector<RollNote> notes = roll_notes(real);
      if (notes.empty()) continue;
      int lo = 127, hi = 0;
      std::int64_t sounding = 0;
      for (const RollNote& n : notes) lo = std::min(lo, n.pitch), hi = std::max(hi, n.pitch), sounding += n.steps;
      std::vector<int> scale;
      for (int p = lo; p <= hi; ++p)
        for (int d : kMajor)
          if ((p - root - d) % 12 == 0) scale.push_back(p);
      if (scale.empty()) scale.push_back(lo);
      const double rest_share = 1.0 - std::min(1.0, static_cast<double>(sounding) / static_cast<double>(steps));
      std::uint8_t* cells = parts.data() + k * piece.steps() * kPitches;
      std::int64_t t = 0;
      while (t < steps) {
        const RollNote& like = notes[static_cast<size_t>(g.next_u64() % notes.size())];
        const std::int64_t len = std::min<std::int64_t>(std::max<std::int64_t>(1, like.steps), 16);
        if (g.uniform() >= rest_share) {
          const int p = scale[static_cast<size_t>(g.next_u64() % scale.size())];
          for (std::int64_t s = t; s < std::min(steps, t + len); ++s) cells[s * 128 + p] = 1;
        }
        t += len + 1;  // a one-step gap keeps consecutive notes apart
      }
    }
    return parts;
  };
}

}  // namespace partita::models
