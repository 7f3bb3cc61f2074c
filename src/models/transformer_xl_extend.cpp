// TransformerXL::extend: a track continued by nucleus sampling on the
// generation cache (see transformer_xl.hpp).
#include <algorithm>
#include <chrono>
#include <cmath>

#include "models/melody_track.hpp"
#include "models/transformer_xl_impl.hpp"
#include "partita/core/error.hpp"
#include "partita/data/performance_corpus.hpp"
#include "partita/music/events.hpp"

namespace partita::models {

int sample_token(const float* logits, int n, double temperature, double top_p, int top_k, Generator& rng,
                 const std::vector<int>& banned, std::vector<std::pair<float, int>>& c) {
  const char* who = "sample_token";
  if (!(temperature > 0.0) || !std::isfinite(temperature))
    throw InvalidArgument(std::string(who) + ": temperature must be > 0, got " + std::to_string(temperature));
  if (!(top_p > 0.0 && top_p <= 1.0))
    throw InvalidArgument(std::string(who) + ": top_p must be in (0, 1], got " + std::to_string(top_p));
  if (top_k < 0) throw InvalidArgument(std::string(who) + ": top_k must be >= 0, got " + std::to_string(top_k));
  c.clear();
  const float inv = static_cast<float>(1.0 / temperature);
  for (int i = 0; i < n; ++i) {
    if (std::find(banned.begin(), banned.end(), i) != banned.end()) continue;
    if (std::isnan(logits[i])) throw InvalidArgument(std::string(who) + ": logit " + std::to_string(i) + " is NaN");
    c.emplace_back(logits[i] * inv, i);
  }
  if (c.empty()) throw InvalidArgument(std::string(who) + ": no token left to draw");
  const auto better = [](const std::pair<float, int>& a, const std::pair<float, int>& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  if (top_k > 0 && static_cast<std::size_t>(top_k) < c.size()) {
    std::partial_sort(c.begin(), c.begin() + top_k, c.end(), better);
    c.resize(static_cast<std::size_t>(top_k));
  } else {
    std::sort(c.begin(), c.end(), better);
  }
  // Probabilities (the first is the largest logit), then the nucleus.
  const float top = c.front().first;
  double total = 0.0;
  for (auto& e : c) {
    e.first = std::exp(e.first - top);
    total += e.first;
  }
  double kept = 0.0;
  std::size_t m = 0;
  while (m < c.size()) {
    kept += c[m].first;
    ++m;
    if (kept >= top_p * total) break;
  }
  double u = rng.uniform() * kept;
  for (std::size_t i = 0; i < m; ++i) {
    u -= c[i].first;
    if (u < 0.0) return c[i].second;
  }
  return c[m - 1].second;
}

Score TransformerXL::extend(const Score& score, const ExtendOptions& o, ExtendReport* report) {
  const char* who = "TransformerXL::extend";
  if (!(o.seconds >= 0.0) || o.seconds > 24.0 * 3600.0)
    throw InvalidArgument(std::string(who) + ": seconds must be in [0, 86400], got " + std::to_string(o.seconds));
  if (!(o.temperature > 0.0) || !(o.top_p > 0.0 && o.top_p <= 1.0) || o.top_k < 0 || o.max_tokens < 0)
    throw InvalidArgument(std::string(who) + ": need temperature > 0, 0 < top_p <= 1, top_k >= 0, max_tokens >= 0");
  const EventOptions ev;
  if (impl_->config.vocab != ev.vocab_size())
    throw InvalidArgument(std::string(who) + ": the model's vocabulary has " + std::to_string(impl_->config.vocab) +
                          " tokens, the performance codec " + std::to_string(ev.vocab_size()));
  const int track = choose_melody_track(score, o.track, who);
  ExtendReport rep;
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  const std::vector<std::int32_t> prime_tokens = data::performance_tokens(score, track, ev);
  std::int64_t prime_steps = 0;
  for (std::int32_t t : prime_tokens) prime_steps += ev.shift_steps(t);
  rep.prime_tokens = static_cast<std::int64_t>(prime_tokens.size());

  begin_generation(1);
  const Tensor* logits = &prime(prime_tokens);
  const auto t1 = clock::now();
  const std::int64_t target = std::llround(o.seconds * ev.steps_per_second);
  const std::int64_t max_tokens =
      o.max_tokens > 0 ? o.max_tokens : std::max<std::int64_t>(64, std::llround(o.seconds * 400.0));
  Generator rng(o.seed);
  const std::vector<int> banned{EventOptions::kStart, EventOptions::kPad};
  std::vector<std::pair<float, int>> scratch;
  std::vector<std::int32_t> generated;
  std::int64_t steps = 0;
  while (steps < target) {
    if (static_cast<std::int64_t>(generated.size()) >= max_tokens) {
      rep.hit_max_tokens = true;
      break;
    }
    int tok = sample_token(logits->data(), impl_->config.vocab, o.temperature, o.top_p, o.top_k, rng, banned, scratch);
    if (const int shift = ev.shift_steps(tok)) {
      const std::int64_t k = std::min<std::int64_t>(shift, target - steps);  // the last shift lands on time
      tok = ev.time_shift_token(static_cast<int>(k));
      steps += k;
    }
    generated.push_back(tok);
    if (steps >= target) break;
    logits = &next_logits({tok});
  }
  const auto t2 = clock::now();

  // Decode prime + continuation at one tick per step (qpm 120, 50 ticks a quarter),
  // keep the notes that start after the prime, place them on the input's tempo map.
  std::vector<int> all(prime_tokens.begin(), prime_tokens.end());
  all.insert(all.end(), generated.begin(), generated.end());
  const Score dec = decode_performance(all, ev, ev.steps_per_second / 2, 120.0);
  Score out = score;
  Track& tr = out.tracks[static_cast<std::size_t>(track)];
  const double step_s = 1.0 / ev.steps_per_second;
  for (const Track& d : dec.tracks)
    for (const Note& n : d.notes) {
      if (n.start < prime_steps) continue;
      Note m = n;
      m.start = out.nearest_tick(static_cast<double>(n.start) * step_s);
      m.end = std::max(m.start + 1, out.nearest_tick(static_cast<double>(n.end) * step_s));
      tr.notes.push_back(m);
      ++rep.notes_added;
    }
  std::stable_sort(tr.notes.begin(), tr.notes.end(), [](const Note& a, const Note& b) {
    return a.start < b.start || (a.start == b.start && a.pitch < b.pitch);
  });
  rep.generated_tokens = static_cast<std::int64_t>(generated.size());
  rep.generated_seconds = static_cast<double>(steps) * step_s;
  rep.prime_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  rep.generate_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
  if (report) *report = rep;
  return out;
}

}  // namespace partita::models
