// Score: tempo-map arithmetic (ticks <-> seconds) and housekeeping.
#include "partita/music/score.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "partita/core/error.hpp"

namespace partita {

std::int64_t TempoChange::microseconds_per_quarter() const {
  return static_cast<std::int64_t>(std::llround(60'000'000.0 / qpm));
}

double Score::seconds(std::int64_t tick) const {
  const double tpq = ticks_per_quarter > 0 ? ticks_per_quarter : 480;
  double t = 0.0, qpm = 120.0;
  std::int64_t last = 0;
  for (const auto& tc : tempos) {
    if (tc.tick >= tick) break;
    t += (tc.tick - last) / tpq * 60.0 / qpm;
    last = tc.tick;
    qpm = tc.qpm;
  }
  return t + (tick - last) / tpq * 60.0 / qpm;
}

double Score::ticks(double seconds) const {
  const double tpq = ticks_per_quarter > 0 ? ticks_per_quarter : 480;
  double t = 0.0, qpm = 120.0;
  std::int64_t last = 0;
  for (const auto& tc : tempos) {
    double seg = (tc.tick - last) / tpq * 60.0 / qpm;
    if (t + seg > seconds) break;
    t += seg;
    last = tc.tick;
    qpm = tc.qpm;
  }
  return last + (seconds - t) * qpm / 60.0 * tpq;
}

std::int64_t Score::nearest_tick(double seconds) const {
  if (!std::isfinite(seconds) || seconds < 0)
    throw InvalidArgument("Score::nearest_tick: seconds must be finite and >= 0, got " + std::to_string(seconds));
  return static_cast<std::int64_t>(std::llround(ticks(seconds)));
}

std::int64_t Score::end_tick() const {
  std::int64_t end = 0;
  for (const auto& tr : tracks)
    for (const auto& n : tr.notes) end = std::max(end, n.end);
  return end;
}

std::size_t Score::note_count() const {
  std::size_t n = 0;
  for (const auto& tr : tracks) n += tr.notes.size();
  return n;
}

void Score::sort() {
  auto by_tick = [](const auto& a, const auto& b) { return a.tick < b.tick; };
  std::stable_sort(tempos.begin(), tempos.end(), by_tick);
  std::stable_sort(time_signatures.begin(), time_signatures.end(), by_tick);
  std::stable_sort(key_signatures.begin(), key_signatures.end(), by_tick);
  for (auto& tr : tracks) {
    std::stable_sort(tr.notes.begin(), tr.notes.end(), [](const Note& a, const Note& b) {
      return a.start != b.start ? a.start < b.start : a.pitch < b.pitch;
    });
    std::stable_sort(tr.controls.begin(), tr.controls.end(), by_tick);
    std::stable_sort(tr.pitch_bends.begin(), tr.pitch_bends.end(), by_tick);
  }
}

}  // namespace partita
