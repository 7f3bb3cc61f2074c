// Performance-event corpora (see performance_corpus.hpp).
#include "partita/data/performance_corpus.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "data/midi_files.hpp"
#include "partita/core/error.hpp"
#include "partita/core/random.hpp"
#include "partita/music/midi.hpp"
#include "partita/music/pianoroll.hpp"

namespace partita::data {
namespace {

std::int64_t note_ons(const std::vector<std::int32_t>& t, const EventOptions& o) {
  std::int64_t n = 0;
  for (std::int32_t x : t) n += o.is_note_on(x);
  return n;
}

double token_seconds(const std::vector<std::int32_t>& t, const EventOptions& o) {
  std::int64_t steps = 0;
  for (std::int32_t x : t) steps += o.shift_steps(x);
  return static_cast<double>(steps) / o.steps_per_second;
}

void add_piece(PerformanceSplit& s, std::vector<std::int32_t>&& tokens, std::string name, const EventOptions& o) {
  s.seconds += token_seconds(tokens, o);
  s.streams.pieces.push_back(std::move(tokens));
  s.names.push_back(std::move(name));
}

void append_split(PerformanceSplit& to, PerformanceSplit&& from) {
  for (auto& p : from.streams.pieces) to.streams.pieces.push_back(std::move(p));
  for (auto& n : from.names) to.names.push_back(std::move(n));
  to.seconds += from.seconds;
}

}  // namespace

void PerformanceCorpus::append(PerformanceCorpus&& other) {
  append_split(train, std::move(other.train));
  append_split(valid, std::move(other.valid));
  append_split(test, std::move(other.test));
}

std::vector<std::int32_t> performance_tokens(const Score& score, int track, const EventOptions& options) {
  const std::vector<int> ev = encode_performance(score, track, options);
  std::vector<std::int32_t> out;
  out.reserve(ev.size() + 1);
  out.push_back(EventOptions::kStart);
  out.insert(out.end(), ev.begin(), ev.end());
  return out;
}

PerformanceCorpus jsb_performances(const JsbChorales& jsb, const PerformanceCorpusOptions& options) {
  options.events.validate("jsb_performances");
  if (!(options.jsb_qpm > 0.0) || options.jsb_velocity < 1 || options.jsb_velocity > 127)
    throw InvalidArgument("jsb_performances: jsb_qpm must be > 0 and jsb_velocity in 1..127");
  PerformanceCorpus c;
  const auto one = [&](const std::vector<PianoRoll>& rolls, PerformanceSplit& s, const char* split) {
    for (size_t i = 0; i < rolls.size(); ++i) {
      FromRollOptions fo;
      fo.tempo = options.jsb_qpm;
      fo.velocity = options.jsb_velocity;
      std::vector<std::int32_t> t = performance_tokens(from_pianoroll(rolls[i], fo), -1, options.events);
      if (note_ons(t, options.events) < options.min_notes) continue;
      add_piece(s, std::move(t), std::string("jsb/") + split + "/" + std::to_string(i), options.events);
    }
  };
  one(jsb.train, c.train, "train");
  one(jsb.valid, c.valid, "valid");
  one(jsb.test, c.test, "test");
  return c;
}

PerformanceCorpus load_performance_folder(const std::string& folder, const PerformanceCorpusOptions& options,
                                          MidiFolderReport* report) {
  const char* who = "load_performance_folder";
  options.events.validate(who);
  namespace fs = std::filesystem;
  const fs::path root(folder);
  std::error_code ec;
  const bool presplit = fs::is_directory(root / "train", ec) && fs::is_directory(root / "valid", ec) &&
                        fs::is_directory(root / "test", ec);
  struct Item {
    std::string path;
    std::vector<std::int32_t> tokens;
  };
  const auto read = [&](const std::string& dir) {
    return detail::load_midi_files<Item>(dir, who, report, [&](const std::string& p, Item& it) -> std::string {
      const Score s = read_midi(p);
      it.path = p;
      it.tokens = performance_tokens(s, -1, options.events);
      const std::int64_t n = note_ons(it.tokens, options.events);
      if (n < options.min_notes)
        return std::to_string(n) + " notes in the codec's pitch range (" + std::to_string(options.min_notes) +
               " needed)";
      return {};
    });
  };
  PerformanceCorpus c;
  if (presplit) {
    PerformanceSplit* to[3] = {&c.train, &c.valid, &c.test};
    const char* names[3] = {"train", "valid", "test"};
    for (int k = 0; k < 3; ++k) {
      std::vector<Item> items;
      try {
        items = read((root / names[k]).string());
      } catch (const InvalidArgument&) {
        if (k == 0) throw;  // an empty valid/ or test/ is allowed
      }
      for (auto& it : items) add_piece(*to[k], std::move(it.tokens), it.path, options.events);
    }
    return c;
  }
  std::vector<Item> items = read(folder);
  for (size_t i = 0; i < items.size(); ++i) {
    PerformanceSplit& s = items.size() >= 10 && i % 10 == 4   ? c.valid
                          : items.size() >= 10 && i % 10 == 9 ? c.test
                                                              : c.train;
    add_piece(s, std::move(items[i].tokens), items[i].path, options.events);
  }
  return c;
}

std::vector<std::int32_t> stretch_and_transpose(const std::vector<std::int32_t>& tokens, double stretch,
                                                int semitones, const EventOptions& options) {
  if (!(stretch > 0.0) || stretch > 100.0)
    throw InvalidArgument("stretch_and_transpose: stretch must be in (0, 100], got " + std::to_string(stretch));
  const std::vector<int> ev(tokens.begin(), tokens.end());
  Score s = decode_performance(ev, options, 480, 120.0);
  s.tempos = {TempoChange{0, 120.0 / stretch}};
  for (Track& tr : s.tracks)
    for (Note& n : tr.notes) n.pitch += semitones;
  for (Track& tr : s.tracks)  // pitches outside MIDI's range cannot be encoded at all
    tr.notes.erase(std::remove_if(tr.notes.begin(), tr.notes.end(),
                                  [](const Note& n) { return n.pitch < 0 || n.pitch > 127; }),
                   tr.notes.end());
  std::vector<std::int32_t> out = performance_tokens(s, -1, options);
  if (tokens.empty() || tokens.front() != EventOptions::kStart) out.erase(out.begin());
  return out;
}

PerformanceSplit augment_performances(const PerformanceSplit& split, const AugmentOptions& a,
                                      const EventOptions& options) {
  if (a.copies < 0 || !(a.min_stretch > 0.0) || a.max_stretch < a.min_stretch || a.max_transpose < 0)
    throw InvalidArgument("augment_performances: need copies >= 0, 0 < min_stretch <= max_stretch, max_transpose >= 0");
  PerformanceSplit out;
  const size_t n = split.streams.pieces.size();
  for (size_t i = 0; i < n; ++i) {
    out.streams.pieces.push_back(split.streams.pieces[i]);
    out.names.push_back(split.names[i]);
  }
  out.seconds = split.seconds;
  for (int c = 0; c < a.copies; ++c)
    for (size_t i = 0; i < n; ++i) {
      Generator g(a.seed * 0x9E3779B97F4A7C15ULL + (static_cast<std::uint64_t>(i) << 20) + static_cast<std::uint64_t>(c) + 1);
      const double stretch = a.min_stretch + (a.max_stretch - a.min_stretch) * g.uniform();
      const int shift = static_cast<int>(g.below(static_cast<std::uint64_t>(2 * a.max_transpose + 1))) - a.max_transpose;
      std::vector<std::int32_t> t = stretch_and_transpose(split.streams.pieces[i], stretch, shift, options);
      char tag[64];
      std::snprintf(tag, sizeof tag, " (x%.3f, %+d)", stretch, shift);
      add_piece(out, std::move(t), split.names[i] + tag, options);
    }
  return out;
}

}  // namespace partita::data
