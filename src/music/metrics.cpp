// Music metrics on piano rolls (see include/partita/music/metrics.hpp for each
// definition and its source). Plain loops over the (time, 128) cells: every
// metric is one or two passes over the roll.
#include "partita/music/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <utility>

#include "partita/core/error.hpp"

namespace partita {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kPi = 3.14159265358979323846;

// Major and natural-minor scales on C, as pitch-class masks.
constexpr bool kMajor[12] = {1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1};
constexpr bool kMinor[12] = {1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0};

std::int64_t resolve_bar(const PianoRoll& roll, std::int64_t bar_steps, const char* where) {
  if (bar_steps > 0) return bar_steps;
  if (bar_steps < 0)
    throw InvalidArgument(std::string(where) + ": bar_steps must be > 0 (0: the roll's bar), got " +
                          std::to_string(bar_steps));
  return roll.grid.bar_steps();
}

// Does step t sound on pitch p / any pitch; on-cells in step t.
bool any_on(const PianoRoll& r, std::size_t t) {
  const std::uint8_t* row = r.data() + t * kPitches;
  for (std::size_t p = 0; p < kPitches; ++p)
    if (row[p]) return true;
  return false;
}

int count_on(const PianoRoll& r, std::size_t t) {
  const std::uint8_t* row = r.data() + t * kPitches;
  int n = 0;
  for (std::size_t p = 0; p < kPitches; ++p) n += row[p] != 0;
  return n;
}

template <class F>
std::vector<double> per_track(const MultiTrackRoll& roll, F f) {
  std::vector<double> out;
  out.reserve(roll.num_tracks());
  for (std::size_t k = 0; k < roll.num_tracks(); ++k) out.push_back(f(roll.track(k)));
  return out;
}

double rate(std::int64_t num, std::int64_t den) {
  return den > 0 ? static_cast<double>(num) / static_cast<double>(den) : kNaN;
}

}  // namespace

std::vector<RollNote> roll_notes(const PianoRoll& roll) {
  std::vector<RollNote> notes;
  const std::size_t T = roll.steps();
  const std::uint8_t* on = roll.has_onsets() ? roll.onsets_data() : nullptr;
  for (std::size_t p = 0; p < kPitches; ++p) {
    std::int64_t start = -1;
    for (std::size_t t = 0; t <= T; ++t) {
      const bool cell = t < T && roll(t, p) != 0;
      const bool split = cell && start >= 0 && on && on[t * kPitches + p] != 0;
      if (start >= 0 && (!cell || split)) {
        notes.push_back({static_cast<int>(p), start, static_cast<std::int64_t>(t) - start});
        start = -1;
      }
      if (cell && start < 0) start = static_cast<std::int64_t>(t);
    }
  }
  std::sort(notes.begin(), notes.end(), [](const RollNote& a, const RollNote& b) {
    return a.start != b.start ? a.start < b.start : a.pitch < b.pitch;
  });
  return notes;
}

// ---- MuseGAN ----------------------------------------------------------------

double empty_bar_rate(const PianoRoll& roll, std::int64_t bar_steps) {
  const std::int64_t B = resolve_bar(roll, bar_steps, "empty_bar_rate");
  const std::int64_t T = static_cast<std::int64_t>(roll.steps());
  const std::int64_t bars = (T + B - 1) / B;
  std::int64_t empty = 0;
  for (std::int64_t b = 0; b < bars; ++b) {
    bool sound = false;
    for (std::int64_t t = b * B; t < std::min(T, (b + 1) * B) && !sound; ++t) sound = any_on(roll, t);
    empty += !sound;
  }
  return rate(empty, bars);
}

std::vector<double> empty_bar_rate(const MultiTrackRoll& roll, std::int64_t bar_steps) {
  return per_track(roll, [&](const PianoRoll& r) { return empty_bar_rate(r, bar_steps); });
}

double used_pitch_classes(const PianoRoll& roll, std::int64_t bar_steps) {
  const std::int64_t B = resolve_bar(roll, bar_steps, "used_pitch_classes");
  const std::int64_t T = static_cast<std::int64_t>(roll.steps());
  std::int64_t bars = 0, used = 0;
  for (std::int64_t b = 0; b * B < T; ++b) {
    bool pc[12] = {};
    for (std::int64_t t = b * B; t < std::min(T, (b + 1) * B); ++t)
      for (std::size_t p = 0; p < kPitches; ++p)
        if (roll(t, p)) pc[p % 12] = true;
    const int n = static_cast<int>(std::count(pc, pc + 12, true));
    if (n > 0) {
      ++bars;
      used += n;
    }
  }
  return rate(used, bars);
}

std::vector<double> used_pitch_classes(const MultiTrackRoll& roll, std::int64_t bar_steps) {
  return per_track(roll, [&](const PianoRoll& r) { return used_pitch_classes(r, bar_steps); });
}

double qualified_note_rate(const PianoRoll& roll, std::int64_t min_steps) {
  if (min_steps < 1)
    throw InvalidArgument("qualified_note_rate: min_steps must be >= 1, got " + std::to_string(min_steps));
  const auto notes = roll_notes(roll);
  const auto q = std::count_if(notes.begin(), notes.end(),
                               [&](const RollNote& n) { return n.steps >= min_steps; });
  return rate(q, static_cast<std::int64_t>(notes.size()));
}

std::vector<double> qualified_note_rate(const MultiTrackRoll& roll, std::int64_t min_steps) {
  return per_track(roll, [&](const PianoRoll& r) { return qualified_note_rate(r, min_steps); });
}

std::array<double, 6> tonal_centroid(const std::array<double, 12>& chroma) {
  std::array<double, 6> z{};
  double total = 0.0;
  for (double c : chroma) total += c;
  if (total == 0.0) return z;
  const double radius[3] = {1.0, 1.0, 0.5};
  const double angle[3] = {7.0 * kPi / 6.0, 3.0 * kPi / 2.0, 2.0 * kPi / 3.0};
  for (int l = 0; l < 12; ++l) {
    const double w = chroma[l] / total;
    for (int k = 0; k < 3; ++k) {
      z[2 * k] += w * radius[k] * std::sin(l * angle[k]);
      z[2 * k + 1] += w * radius[k] * std::cos(l * angle[k]);
    }
  }
  return z;
}

double tonal_distance(const PianoRoll& a, const PianoRoll& b, std::int64_t frame_steps) {
  if (a.steps() != b.steps())
    throw ShapeError("tonal_distance: the rolls have " + std::to_string(a.steps()) + " and " +
                     std::to_string(b.steps()) + " steps");
  if (frame_steps < 0)
    throw InvalidArgument("tonal_distance: frame_steps must be > 0 (0: one beat), got " +
                          std::to_string(frame_steps));
  const std::int64_t F = frame_steps > 0 ? frame_steps : a.grid.resolution;
  const std::int64_t T = static_cast<std::int64_t>(a.steps());
  double sum = 0.0;
  std::int64_t frames = 0;
  for (std::int64_t f = 0; f * F < T; ++f) {
    std::array<double, 12> ca{}, cb{};
    for (std::int64_t t = f * F; t < std::min(T, (f + 1) * F); ++t)
      for (std::size_t p = 0; p < kPitches; ++p) {
        ca[p % 12] += a(t, p) != 0;
        cb[p % 12] += b(t, p) != 0;
      }
    double sa = 0.0, sb = 0.0;
    for (int l = 0; l < 12; ++l) {
      sa += ca[l];
      sb += cb[l];
    }
    if (sa == 0.0 || sb == 0.0) continue;
    const auto za = tonal_centroid(ca), zb = tonal_centroid(cb);
    double d2 = 0.0;
    for (int d = 0; d < 6; ++d) d2 += (za[d] - zb[d]) * (za[d] - zb[d]);
    sum += std::sqrt(d2);
    ++frames;
  }
  return frames > 0 ? sum / static_cast<double>(frames) : kNaN;
}

std::vector<double> tonal_distance(const MultiTrackRoll& roll, std::int64_t frame_steps) {
  std::vector<double> out;
  for (std::size_t i = 0; i < roll.num_tracks(); ++i)
    for (std::size_t j = i + 1; j < roll.num_tracks(); ++j)
      out.push_back(tonal_distance(roll.track(i), roll.track(j), frame_steps));
  return out;
}

InScale in_scale_rate(const PianoRoll& roll, std::optional<int> root) {
  if (root && (*root < 0 || *root > 11))
    throw InvalidArgument("in_scale_rate: root must be a pitch class 0..11, got " + std::to_string(*root));
  std::array<std::int64_t, 12> pcs{};
  std::int64_t total = 0;
  for (std::size_t t = 0; t < roll.steps(); ++t)
    for (std::size_t p = 0; p < kPitches; ++p)
      if (roll(t, p)) {
        ++pcs[p % 12];
        ++total;
      }
  auto in_scale = [&](int r) {
    std::int64_t n = 0;
    for (int l = 0; l < 12; ++l)
      if (kMajor[(l - r + 12) % 12]) n += pcs[l];
    return n;
  };
  InScale out;
  if (root) {
    out.root = *root;
    out.rate = rate(in_scale(*root), total);
    return out;
  }
  std::int64_t best = -1;
  for (int r = 0; r < 12; ++r) {
    const std::int64_t n = in_scale(r);
    if (n > best) {  // ties: the lowest root
      best = n;
      out.root = r;
    }
  }
  out.rate = rate(best, total);
  return out;
}

// ---- muspy ------------------------------------------------------------------

double pitch_class_entropy(const PianoRoll& roll) {
  const auto notes = roll_notes(roll);
  if (notes.empty()) return kNaN;
  double h[12] = {};
  for (const auto& n : notes) h[n.pitch % 12] += 1.0;
  double e = 0.0;
  for (double c : h)
    if (c > 0) {
      const double q = c / static_cast<double>(notes.size());
      e -= q * std::log2(q);
    }
  return e;
}

double scale_consistency(const PianoRoll& roll) {
  const auto notes = roll_notes(roll);
  if (notes.empty()) return kNaN;
  std::int64_t pcs[12] = {};
  for (const auto& n : notes) ++pcs[n.pitch % 12];
  std::int64_t best = 0;
  for (const bool* scale : {kMajor, kMinor})
    for (int r = 0; r < 12; ++r) {
      std::int64_t in = 0;
      for (int l = 0; l < 12; ++l)
        if (scale[(l - r + 12) % 12]) in += pcs[l];
      best = std::max(best, in);
    }
  return rate(best, static_cast<std::int64_t>(notes.size()));
}

double polyphony(const PianoRoll& roll) {
  std::int64_t cells = 0, active = 0;
  for (std::size_t t = 0; t < roll.steps(); ++t) {
    const int n = count_on(roll, t);
    cells += n;
    active += n > 0;
  }
  return rate(cells, active);
}

double polyphony_rate(const PianoRoll& roll, int threshold) {
  if (threshold < 0)
    throw InvalidArgument("polyphony_rate: threshold must be >= 0, got " + std::to_string(threshold));
  std::int64_t poly = 0;
  for (std::size_t t = 0; t < roll.steps(); ++t) poly += count_on(roll, t) > threshold;
  return rate(poly, static_cast<std::int64_t>(roll.steps()));
}

int pitch_range(const PianoRoll& roll) {
  int lo = 128, hi = -1;
  for (std::size_t t = 0; t < roll.steps(); ++t)
    for (std::size_t p = 0; p < kPitches; ++p)
      if (roll(t, p)) {
        lo = std::min(lo, static_cast<int>(p));
        hi = std::max(hi, static_cast<int>(p));
      }
  return hi < 0 ? 0 : hi - lo;
}

double empty_beat_rate(const PianoRoll& roll) {
  roll.grid.validate("empty_beat_rate");
  const std::int64_t R = roll.grid.resolution;
  const std::int64_t T = static_cast<std::int64_t>(roll.steps());
  const std::int64_t beats = (T + R - 1) / R;
  std::int64_t empty = 0;
  for (std::int64_t b = 0; b < beats; ++b) {
    bool sound = false;
    for (std::int64_t t = b * R; t < std::min(T, (b + 1) * R) && !sound; ++t) sound = any_on(roll, t);
    empty += !sound;
  }
  return rate(empty, beats);
}

double groove_consistency(const PianoRoll& roll, std::int64_t bar_steps) {
  const std::int64_t B = resolve_bar(roll, bar_steps, "groove_consistency");
  const std::int64_t T = static_cast<std::int64_t>(roll.steps());
  const std::int64_t bars = (T + B - 1) / B;
  if (bars < 2) return kNaN;
  std::vector<std::uint8_t> groove(static_cast<std::size_t>(bars * B), 0);
  for (const auto& n : roll_notes(roll)) groove[static_cast<std::size_t>(n.start)] = 1;
  std::int64_t hamming = 0;
  for (std::int64_t i = 0; i + B < bars * B; ++i) hamming += groove[i] != groove[i + B];
  return 1.0 - static_cast<double>(hamming) / static_cast<double>(B * (bars - 1));
}

// ---- Fragments ----------------------------------------------------------------

double FragmentStats::share() const { return rate(one_step, notes); }
double FragmentStats::added_share() const { return rate(added_one_step, added); }

FragmentStats fragment_stats(const PianoRoll& roll) {
  FragmentStats s;
  for (const auto& n : roll_notes(roll)) {
    ++s.notes;
    s.one_step += n.steps == 1;
  }
  return s;
}

FragmentStats fragment_stats(const PianoRoll& edited, const PianoRoll& original) {
  std::set<std::pair<std::int64_t, int>> before;
  for (const auto& n : roll_notes(original)) before.insert({n.start, n.pitch});
  FragmentStats s;
  for (const auto& n : roll_notes(edited)) {
    ++s.notes;
    s.one_step += n.steps == 1;
    if (!before.count({n.start, n.pitch})) {
      ++s.added;
      s.added_one_step += n.steps == 1;
    }
  }
  return s;
}

RollMetrics roll_metrics(const PianoRoll& roll, const PianoRoll* original) {
  RollMetrics m;
  m.empty_bar_rate = empty_bar_rate(roll);
  m.used_pitch_classes = used_pitch_classes(roll);
  m.qualified_note_rate = qualified_note_rate(roll);
  m.in_scale = in_scale_rate(roll);
  m.pitch_class_entropy = pitch_class_entropy(roll);
  m.scale_consistency = scale_consistency(roll);
  m.polyphony = polyphony(roll);
  m.polyphony_rate = polyphony_rate(roll);
  m.pitch_range = pitch_range(roll);
  m.empty_beat_rate = empty_beat_rate(roll);
  m.groove_consistency = groove_consistency(roll);
  m.fragments = original ? fragment_stats(roll, *original) : fragment_stats(roll);
  return m;
}

}  // namespace partita
