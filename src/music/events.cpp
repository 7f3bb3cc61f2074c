// Performance events: encode a Score as DeepComposer / note_seq performance
// tokens and decode tokens back to a Score (see partita/music/events.hpp for
// the vocabulary and the rules). The pedal is applied in ticks (the tempo map
// is monotonic, so the order of events is the order in seconds); times are then
// rounded to steps of 1 / steps_per_second seconds.
#include "partita/music/events.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <string>
#include <tuple>

#include "partita/core/error.hpp"

namespace partita {

namespace {

[[noreturn]] void bad(const char* where, const std::string& what) {
  throw InvalidArgument(std::string(where) + ": " + what);
}

// note_seq's apply_sustain_control_changes on one track's notes (in ticks):
// while controller 64 is >= 64, a released note keeps sounding until the pedal
// is lifted or the same pitch starts again; a note ended at its own onset that
// way is removed. Returns the notes kept; counts lengthened notes in `sustained`.
std::vector<Note> apply_sustain(const Track& t, std::int64_t& sustained) {
  enum Kind { kSusOn = 0, kSusOff = 1, kOn = 2, kOff = 3 };
  struct Ev {
    std::int64_t tick;
    int kind;
    std::size_t idx;
  };
  std::vector<Note> notes = t.notes;
  std::vector<Ev> evs;
  evs.reserve(2 * notes.size() + t.controls.size());
  for (std::size_t i = 0; i < notes.size(); ++i) evs.push_back({notes[i].start, kOn, i});
  for (std::size_t i = 0; i < notes.size(); ++i) evs.push_back({notes[i].end, kOff, i});
  for (const auto& cc : t.controls)
    if (cc.number == 64) evs.push_back({cc.tick, cc.value >= 64 ? kSusOn : kSusOff, 0});
  std::stable_sort(evs.begin(), evs.end(),
                   [](const Ev& a, const Ev& b) { return std::tie(a.tick, a.kind) < std::tie(b.tick, b.kind); });
  std::vector<char> removed(notes.size(), 0);
  std::vector<std::size_t> active;
  bool down = false;
  std::int64_t time = 0;
  for (const Ev& e : evs) {
    time = e.tick;
    if (e.kind == kSusOn) {
      down = true;
    } else if (e.kind == kSusOff) {
      down = false;
      std::vector<std::size_t> keep;
      for (std::size_t i : active) {
        if (notes[i].end < time)
          notes[i].end = time;
        else
          keep.push_back(i);
      }
      active.swap(keep);
    } else if (e.kind == kOn) {
      if (down) {
        std::vector<std::size_t> keep;
        for (std::size_t i : active) {
          if (notes[i].pitch == notes[e.idx].pitch) {
            notes[i].end = time;
            if (notes[i].start == notes[i].end) removed[i] = 1;
          } else {
            keep.push_back(i);
          }
        }
        active.swap(keep);
      }
      active.push_back(e.idx);
    } else if (!down) {
      auto it = std::find(active.begin(), active.end(), e.idx);
      if (it != active.end()) active.erase(it);
    }
  }
  for (std::size_t i : active) notes[i].end = time;
  std::vector<Note> out;
  for (std::size_t i = 0; i < notes.size(); ++i) {
    if (removed[i]) continue;
    if (notes[i].end > t.notes[i].end) ++sustained;
    out.push_back(notes[i]);
  }
  return out;
}

struct StepNote {
  int pitch;
  int velocity;
  std::int64_t start;  // steps
  std::int64_t end;
  std::int64_t tick;   // unrounded onset, for note_seq's (onset time, pitch) order
};

// note_seq's quantize_to_step with its 0.5 cutoff: the nearest step, halves up.
std::int64_t to_step(double seconds, int steps_per_second) {
  return static_cast<std::int64_t>(std::floor(seconds * steps_per_second + 0.5));
}

}  // namespace

void EventOptions::validate(const char* where) const {
  if (steps_per_second < 1) bad(where, "steps_per_second must be >= 1, got " + std::to_string(steps_per_second));
  if (velocity_bins < 1 || velocity_bins > 127)
    bad(where, "velocity_bins must be in 1..127, got " + std::to_string(velocity_bins));
  if (max_shift_steps < 1) bad(where, "max_shift_steps must be >= 1, got " + std::to_string(max_shift_steps));
  if (min_pitch < 0 || max_pitch > 127 || min_pitch > max_pitch)
    bad(where, "pitch range must satisfy 0 <= min_pitch <= max_pitch <= 127, got " + std::to_string(min_pitch) +
                   ".." + std::to_string(max_pitch));
}

int EventOptions::velocity_bin(int velocity) const {
  const int v = std::clamp(velocity, 1, 127);
  return std::min((v - 1) / velocity_bin_size() + 1, velocity_bins);
}

std::vector<int> encode_performance(const Score& score, int track, const EventOptions& opt, EventStats* stats) {
  const char* where = "encode_performance";
  opt.validate(where);
  if (track < -1 || track >= static_cast<int>(score.tracks.size()))
    bad(where, "track " + std::to_string(track) + " out of range (-1 or 0.." +
                   std::to_string(static_cast<int>(score.tracks.size()) - 1) + ")");
  EventStats st;
  std::vector<StepNote> notes;
  for (std::size_t k = 0; k < score.tracks.size(); ++k) {
    const Track& t = score.tracks[k];
    if (track >= 0 ? static_cast<int>(k) != track : t.is_drum) continue;
    st.notes_in += static_cast<std::int64_t>(t.notes.size());
    const std::vector<Note> held = opt.sustain ? apply_sustain(t, st.sustained) : t.notes;
    for (const Note& n : held) {
      if (n.pitch < opt.min_pitch || n.pitch > opt.max_pitch) {
        ++st.dropped_out_of_range;
        continue;
      }
      StepNote q{n.pitch, n.velocity, to_step(score.seconds(n.start), opt.steps_per_second),
                 to_step(score.seconds(n.end), opt.steps_per_second), n.start};
      if (q.end <= q.start) {
        q.end = q.start + 1;
        ++st.lengthened_zero;
      }
      notes.push_back(q);
    }
  }
  std::stable_sort(notes.begin(), notes.end(), [](const StepNote& a, const StepNote& b) {
    return std::tie(a.tick, a.pitch) < std::tie(b.tick, b.pitch);
  });
  // One sounding note per pitch: a new onset ends the earlier note; two onsets
  // in one step are one note (the first velocity, the later end).
  {
    std::array<std::optional<std::size_t>, 128> last{};
    std::vector<StepNote> kept;
    kept.reserve(notes.size());
    for (const StepNote& n : notes) {
      auto& l = last[static_cast<std::size_t>(n.pitch)];
      if (l && kept[*l].start == n.start) {
        kept[*l].end = std::max(kept[*l].end, n.end);
        ++st.merged_duplicates;
        continue;
      }
      if (l && kept[*l].end > n.start) {
        kept[*l].end = n.start;
        ++st.truncated_overlaps;
      }
      l = kept.size();
      kept.push_back(n);
    }
    notes.swap(kept);
  }
  // note_seq orders the events by (step, note index, is-offset).
  struct Ev {
    std::int64_t step;
    std::size_t idx;
    bool off;
  };
  std::vector<Ev> evs;
  evs.reserve(2 * notes.size());
  for (std::size_t i = 0; i < notes.size(); ++i) {
    evs.push_back({notes[i].start, i, false});
    evs.push_back({notes[i].end, i, true});
  }
  std::sort(evs.begin(), evs.end(),
            [](const Ev& a, const Ev& b) { return std::tie(a.step, a.idx, a.off) < std::tie(b.step, b.idx, b.off); });
  std::vector<int> out;
  out.reserve(evs.size() * 2);
  std::int64_t now = 0;
  int bin = 0;
  for (const Ev& e : evs) {
    while (e.step > now) {
      const int shift = static_cast<int>(std::min<std::int64_t>(e.step - now, opt.max_shift_steps));
      out.push_back(opt.time_shift_token(shift));
      now += shift;
    }
    const StepNote& n = notes[e.idx];
    if (e.off) {
      out.push_back(opt.note_off_token(n.pitch));
    } else {
      const int b = opt.velocity_bin(n.velocity);
      if (b != bin) {
        out.push_back(opt.velocity_token(b));
        bin = b;
      }
      out.push_back(opt.note_on_token(n.pitch));
    }
  }
  st.notes_encoded = static_cast<std::int64_t>(notes.size());
  if (stats) *stats = st;
  return out;
}

Score decode_performance(const std::vector<int>& tokens, const EventOptions& opt, int ticks_per_quarter, double qpm) {
  const char* where = "decode_performance";
  opt.validate(where);
  if (ticks_per_quarter < 1) bad(where, "ticks_per_quarter must be >= 1, got " + std::to_string(ticks_per_quarter));
  if (!(qpm > 0.0) || !std::isfinite(qpm)) bad(where, "qpm must be positive and finite, got " + std::to_string(qpm));
  Score s;
  s.ticks_per_quarter = ticks_per_quarter;
  s.tempos.push_back(TempoChange{0, qpm});
  Track t;
  const double sps = opt.steps_per_second;
  const auto add = [&](int pitch, std::int64_t start, std::int64_t end, int velocity) {
    Note n;
    n.pitch = pitch;
    n.velocity = velocity;
    n.start = s.nearest_tick(static_cast<double>(start) / sps);
    n.end = s.nearest_tick(static_cast<double>(end) / sps);
    t.notes.push_back(n);
  };
  struct On {
    std::int64_t start;
    int velocity;
  };
  std::array<std::optional<On>, 128> on{};
  const int first_note = opt.note_on_token(opt.min_pitch);
  const int first_velocity = opt.velocity_token(1);
  const int vocab = opt.vocab_size();
  std::int64_t step = 0;
  int velocity = 100;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const int tok = tokens[i];
    if (tok < 0 || tok >= vocab)
      bad(where, "token " + std::to_string(tok) + " at position " + std::to_string(i) + " is outside [0, " +
                     std::to_string(vocab) + ")");
    if (tok == EventOptions::kStart || tok == EventOptions::kPad) continue;
    if (tok < first_note) {
      step += tok - 1;
    } else if (tok < first_velocity) {
      const int k = tok - first_note;
      const int pitch = opt.min_pitch + k / 2;
      auto& cur = on[static_cast<std::size_t>(pitch)];
      if (cur) {
        if (step > cur->start) add(pitch, cur->start, step, cur->velocity);  // zero length: dropped
        cur.reset();
      }
      if (k % 2 == 0) cur = On{step, velocity};
    } else {
      velocity = opt.bin_velocity(tok - first_velocity + 1);
    }
  }
  for (int p = 0; p < 128; ++p)
    if (on[static_cast<std::size_t>(p)]) {
      const On& o = *on[static_cast<std::size_t>(p)];
      add(p, o.start, std::max(step, o.start + 1), o.velocity);
    }
  s.tracks.push_back(std::move(t));
  s.sort();
  return s;
}

}  // namespace partita
