// The Transformer-XL's continuations against real music (transformer_eval.hpp).
#include "partita/models/transformer_eval.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "partita/core/error.hpp"
#include "partita/core/random.hpp"

namespace partita::models {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Tokens as a one-track Score at one tick per step (a quarter = 1 s at 60 qpm).
Score step_score(const std::vector<std::int32_t>& tokens, const EventOptions& ev) {
  const std::vector<int> t(tokens.begin(), tokens.end());
  return decode_performance(t, ev, ev.steps_per_second, 60.0);
}

// An empty one-track Score on the same step grid.
Score empty_step_score(const EventOptions& ev) {
  Score s;
  s.ticks_per_quarter = ev.steps_per_second;
  s.tempos = {TempoChange{0, 60.0}};
  s.tracks.resize(1);
  return s;
}

// The notes of `from` (every track) starting in [begin, begin + length), moved to
// start at 0 and ended at `length` at the latest.
Score window(const Score& from, std::int64_t begin, std::int64_t length, const EventOptions& ev) {
  Score out = empty_step_score(ev);
  for (const Track& t : from.tracks)
    for (const Note& n : t.notes) {
      if (n.start < begin || n.start >= begin + length) continue;
      Note m = n;
      m.start = n.start - begin;
      m.end = std::min(n.end, begin + length) - begin;
      out.tracks[0].notes.push_back(m);
    }
  out.sort();
  return out;
}

// Sample standard deviation (n - 1); 0 for fewer than two values.
double stddev(const std::vector<double>& x) {
  if (x.size() < 2) return 0.0;
  double m = 0.0;
  for (double v : x) m += v;
  m /= static_cast<double>(x.size());
  double s = 0.0;
  for (double v : x) s += (v - m) * (v - m);
  return std::sqrt(s / static_cast<double>(x.size() - 1));
}

double scott(const std::vector<double>& x) {
  return stddev(x) * std::pow(static_cast<double>(x.size()), -0.2);
}

// Gaussian kernel density of `x` with bandwidth h on the grid lo + i * dx.
std::vector<double> kde(const std::vector<double>& x, double h, double lo, double dx, int grid) {
  std::vector<double> p(static_cast<std::size_t>(grid), 0.0);
  const double norm = 1.0 / (static_cast<double>(x.size()) * h * 2.5066282746310002);  // sqrt(2 pi)
  const double reach = 8.0 * h;  // exp(-32): nothing left beyond
  for (double v : x) {
    const int a = std::max(0, static_cast<int>(std::floor((v - reach - lo) / dx)));
    const int b = std::min(grid - 1, static_cast<int>(std::ceil((v + reach - lo) / dx)));
    for (int i = a; i <= b; ++i) {
      const double z = (lo + i * dx - v) / h;
      p[static_cast<std::size_t>(i)] += norm * std::exp(-0.5 * z * z);
    }
  }
  return p;
}

bool finite_all(const std::vector<double>& v) {
  for (double x : v)
    if (!std::isfinite(x)) return false;
  return true;
}

}  // namespace

// ---------------------------------------------------------------- features

const std::array<double, kNoteLengthBins - 1>& note_length_bin_edges() {
  static const std::array<double, kNoteLengthBins - 1> edges = [] {
    std::array<double, kNoteLengthBins - 1> e{};
    for (int i = 0; i < kNoteLengthBins - 1; ++i) e[static_cast<std::size_t>(i)] = std::pow(2.0, i - 3.5);
    return e;
  }();
  return edges;
}

const std::vector<std::string>& ContinuationFeatures::names() {
  static const std::vector<std::string> n{"pitch_class_histogram", "pitch_range", "note_length_histogram",
                                          "mean_ioi", "polyphony", "pitch_class_entropy",
                                          "note_count", "used_pitch_count"};
  return n;
}

std::vector<double> ContinuationFeatures::feature(std::size_t i) const {
  switch (i) {
    case 0: return {pitch_class_histogram.begin(), pitch_class_histogram.end()};
    case 1: return {pitch_range};
    case 2: return {note_length_histogram.begin(), note_length_histogram.end()};
    case 3: return {mean_ioi};
    case 4: return {polyphony};
    case 5: return {pitch_class_entropy};
    case 6: return {note_count};
    case 7: return {used_pitch_count};
    default: throw InvalidArgument("ContinuationFeatures::feature: no feature " + std::to_string(i));
  }
}

bool ContinuationFeatures::defined(std::size_t i) const { return finite_all(feature(i)); }

ContinuationFeatures continuation_features(const Score& score) {
  struct N {
    std::int64_t start, end;
    int pitch;
  };
  std::vector<N> notes;
  for (const Track& t : score.tracks)
    for (const Note& n : t.notes) notes.push_back({n.start, n.end, n.pitch});
  ContinuationFeatures f;
  f.note_count = static_cast<double>(notes.size());
  if (notes.empty()) {
    f.pitch_class_histogram.fill(kNaN);
    f.note_length_histogram.fill(kNaN);
    f.pitch_range = f.mean_ioi = f.polyphony = f.pitch_class_entropy = kNaN;
    f.used_pitch_count = 0.0;
    return f;
  }
  const double n = static_cast<double>(notes.size());
  int lo = 127, hi = 0;
  std::array<bool, 128> used{};
  const auto& edges = note_length_bin_edges();
  std::vector<std::int64_t> onsets;
  for (const N& x : notes) {
    lo = std::min(lo, x.pitch);
    hi = std::max(hi, x.pitch);
    used[static_cast<std::size_t>(std::clamp(x.pitch, 0, 127))] = true;
    f.pitch_class_histogram[static_cast<std::size_t>(((x.pitch % 12) + 12) % 12)] += 1.0 / n;
    const double len = score.seconds(x.end) - score.seconds(x.start);
    const std::size_t bin = static_cast<std::size_t>(std::upper_bound(edges.begin(), edges.end(), len) - edges.begin());
    f.note_length_histogram[bin] += 1.0 / n;
    onsets.push_back(x.start);
  }
  f.pitch_range = hi - lo;
  f.used_pitch_count = static_cast<double>(std::count(used.begin(), used.end(), true));
  for (double p : f.pitch_class_histogram)
    if (p > 0.0) f.pitch_class_entropy -= p * std::log2(p);

  std::sort(onsets.begin(), onsets.end());
  onsets.erase(std::unique(onsets.begin(), onsets.end()), onsets.end());
  f.mean_ioi = onsets.size() < 2 ? kNaN
                                 : (score.seconds(onsets.back()) - score.seconds(onsets.front())) /
                                       static_cast<double>(onsets.size() - 1);

  // Sweep the note starts (+1) and ends (-1) in time.
  std::vector<std::pair<std::int64_t, int>> ev;
  for (const N& x : notes) {
    ev.emplace_back(x.start, +1);
    ev.emplace_back(x.end, -1);
  }
  std::sort(ev.begin(), ev.end());
  double weighted = 0.0, sounding_time = 0.0;
  int count = 0;
  for (std::size_t i = 0; i < ev.size(); ++i) {
    if (i > 0 && count > 0) {
      const double dt = score.seconds(ev[i].first) - score.seconds(ev[i - 1].first);
      weighted += count * dt;
      sounding_time += dt;
    }
    count += ev[i].second;
  }
  // Only zero-length notes: each sounds alone for no time; count the notes at one onset.
  f.polyphony = sounding_time > 0.0 ? weighted / sounding_time : n / static_cast<double>(onsets.size());
  return f;
}

// ---------------------------------------------------------- overlapping area

double overlap_area(const std::vector<double>& a, const std::vector<double>& b, int grid) {
  if (a.empty() || b.empty()) return kNaN;
  if (grid < 16) throw InvalidArgument("overlap_area: grid must be >= 16, got " + std::to_string(grid));
  std::vector<double> both(a);
  both.insert(both.end(), b.begin(), b.end());
  const double pooled = scott(both);
  if (!(pooled > 0.0)) return 1.0;  // every value the same
  double ha = scott(a), hb = scott(b);
  if (!(ha > 0.0)) ha = pooled;
  if (!(hb > 0.0)) hb = pooled;
  const auto [mn, mx] = std::minmax_element(both.begin(), both.end());
  const double h = std::max(ha, hb);
  const double lo = *mn - 5.0 * h, hi = *mx + 5.0 * h;
  const double dx = (hi - lo) / (grid - 1);
  const std::vector<double> p = kde(a, ha, lo, dx, grid), q = kde(b, hb, lo, dx, grid);
  double area = 0.0;
  for (int i = 0; i < grid; ++i) {
    const double m = std::min(p[static_cast<std::size_t>(i)], q[static_cast<std::size_t>(i)]);
    area += (i == 0 || i == grid - 1) ? 0.5 * m : m;
  }
  return std::clamp(area * dx, 0.0, 1.0);
}

double set_overlap_area(const std::vector<std::vector<double>>& real, const std::vector<std::vector<double>>& generated) {
  std::vector<const std::vector<double>*> r, g;
  std::size_t size = 0;
  for (const auto* set : {&real, &generated})
    for (const auto& v : *set) {
      if (size == 0) size = v.size();
      if (v.size() != size)
        throw InvalidArgument("set_overlap_area: feature vectors of sizes " + std::to_string(size) + " and " +
                              std::to_string(v.size()));
      if (finite_all(v)) (set == &real ? r : g).push_back(&v);
    }
  if (r.size() < 2 || g.empty()) return kNaN;
  const auto dist = [](const std::vector<double>& x, const std::vector<double>& y) {
    double s = 0.0;
    for (std::size_t i = 0; i < x.size(); ++i) s += (x[i] - y[i]) * (x[i] - y[i]);
    return std::sqrt(s);
  };
  std::vector<double> intra, inter;
  for (std::size_t i = 0; i < r.size(); ++i)
    for (std::size_t j = i + 1; j < r.size(); ++j) intra.push_back(dist(*r[i], *r[j]));
  for (const auto* x : g)
    for (const auto* y : r) inter.push_back(dist(*x, *y));
  return overlap_area(intra, inter);
}

// ------------------------------------------------------------------ Markov

MarkovEventModel::MarkovEventModel(int order, const EventOptions& events)
    : order_(order), vocab_(events.vocab_size()), events_(events) {
  events.validate("MarkovEventModel");
  if (order < 1 || order > kMaxOrder)
    throw InvalidArgument("MarkovEventModel: order must be in 1.." + std::to_string(kMaxOrder) + ", got " +
                          std::to_string(order));
  // key(h) * base + w + 1 < base^(order + 1) must fit 64 bits.
  const long double base = vocab_ + 1;
  if (std::pow(base, static_cast<long double>(order + 1)) >= 1.8e19L)
    throw InvalidArgument("MarkovEventModel: order " + std::to_string(order) + " is too high for " +
                          std::to_string(vocab_) + " tokens");
}

void MarkovEventModel::fit(const data::TokenStreams& streams) {
  const std::uint64_t base = static_cast<std::uint64_t>(vocab_) + 1;
  for (std::size_t p = 0; p < streams.pieces.size(); ++p) {
    const auto& t = streams.pieces[p];
    for (std::size_t i = 0; i < t.size(); ++i)
      if (t[i] < 0 || t[i] >= vocab_)
        throw InvalidArgument("MarkovEventModel::fit: piece " + std::to_string(p) + " token " + std::to_string(i) +
                              " is " + std::to_string(t[i]) + ", outside 0.." + std::to_string(vocab_ - 1));
    for (std::size_t i = 1; i < t.size(); ++i) {
      if (t[i] == EventOptions::kPad) continue;
      std::uint64_t key = 0, pow = 1;
      for (std::size_t j = 0; j <= static_cast<std::size_t>(order_) && j <= i; ++j) {
        if (j > 0) {
          key += (static_cast<std::uint64_t>(t[i - j]) + 1) * pow;
          pow *= base;
        }
        ++grams_[key * base + static_cast<std::uint64_t>(t[i]) + 1];
      }
    }
  }
  contexts_.clear();
  for (const auto& [g, c] : grams_) {
    Context& ctx = contexts_[g / base];
    ctx.total += c;
    ctx.next.emplace_back(static_cast<std::int32_t>(g % base) - 1, c);
  }
  for (auto& [k, ctx] : contexts_) std::sort(ctx.next.begin(), ctx.next.end());
}

int MarkovEventModel::histories(const std::int32_t* context, std::size_t n, const Context** out) const {
  const std::uint64_t base = static_cast<std::uint64_t>(vocab_) + 1;
  std::uint64_t key = 0, pow = 1;
  int found = 0;
  for (std::size_t j = 0; j <= static_cast<std::size_t>(order_) && j <= n; ++j) {
    if (j > 0) {
      key += (static_cast<std::uint64_t>(context[n - j]) + 1) * pow;
      pow *= base;
    }
    const auto it = contexts_.find(key);
    if (it == contexts_.end()) break;  // no longer history was seen either
    out[found++] = &it->second;
  }
  return found;
}

double MarkovEventModel::probability(const std::int32_t* context, std::size_t n, int token) const {
  const Context* h[kMaxOrder + 1];
  const int levels = histories(context, n, h);
  double p = 1.0 / vocab_;
  for (int j = 0; j < levels; ++j) {
    const Context& c = *h[j];
    const auto hit = std::lower_bound(c.next.begin(), c.next.end(),
                                      std::make_pair(static_cast<std::int32_t>(token), std::int64_t{0}));
    const double cw = (hit != c.next.end() && hit->first == token) ? static_cast<double>(hit->second) : 0.0;
    const double types = static_cast<double>(c.next.size());
    p = (cw + types * p) / (static_cast<double>(c.total) + types);
  }
  return p;
}

void MarkovEventModel::distribution(const std::int32_t* context, std::size_t n, std::vector<double>& out) const {
  const Context* h[kMaxOrder + 1];
  const int levels = histories(context, n, h);
  out.assign(static_cast<std::size_t>(vocab_), 1.0 / vocab_);
  for (int j = 0; j < levels; ++j) {
    const Context& c = *h[j];
    const double types = static_cast<double>(c.next.size());
    const double denom = static_cast<double>(c.total) + types;
    for (double& v : out) v *= types / denom;
    for (const auto& [w, cw] : c.next) out[static_cast<std::size_t>(w)] += static_cast<double>(cw) / denom;
  }
}

double MarkovEventModel::evaluate_nll(const data::TokenStreams& streams, std::int64_t* counted) const {
  double sum = 0.0;
  std::int64_t count = 0;
  for (const auto& t : streams.pieces)
    for (std::size_t i = 1; i < t.size(); ++i) {
      if (t[i] == EventOptions::kPad) continue;
      if (t[i] < 0 || t[i] >= vocab_)
        throw InvalidArgument("MarkovEventModel::evaluate_nll: token " + std::to_string(t[i]) + " outside 0.." +
                              std::to_string(vocab_ - 1));
      sum -= std::log(probability(t.data(), i, t[i]));
      ++count;
    }
  if (counted) *counted = count;
  return count > 0 ? sum / static_cast<double>(count) : 0.0;
}

std::vector<std::int32_t> MarkovEventModel::sample(const std::vector<std::int32_t>& prime, const ExtendOptions& o,
                                                   ExtendReport* report) const {
  const char* who = "MarkovEventModel::sample";
  if (!(o.seconds >= 0.0) || o.seconds > 24.0 * 3600.0)
    throw InvalidArgument(std::string(who) + ": seconds must be in [0, 86400], got " + std::to_string(o.seconds));
  if (o.max_tokens < 0) throw InvalidArgument(std::string(who) + ": max_tokens must be >= 0");
  const auto t0 = Clock::now();
  const std::int64_t target = std::llround(o.seconds * events_.steps_per_second);
  const std::int64_t max_tokens =
      o.max_tokens > 0 ? o.max_tokens : std::max<std::int64_t>(64, std::llround(o.seconds * 400.0));
  Generator rng(o.seed);
  const std::vector<int> banned{EventOptions::kStart, EventOptions::kPad};
  std::vector<std::pair<float, int>> scratch;
  std::vector<double> p;
  std::vector<float> logits(static_cast<std::size_t>(vocab_));
  std::vector<std::int32_t> context(prime);
  ExtendReport rep;
  rep.prime_tokens = static_cast<std::int64_t>(prime.size());
  std::int64_t steps = 0;
  while (steps < target) {
    if (rep.generated_tokens >= max_tokens) {
      rep.hit_max_tokens = true;
      break;
    }
    const std::size_t keep = std::min(context.size(), static_cast<std::size_t>(order_));
    distribution(context.data() + (context.size() - keep), keep, p);
    for (std::size_t i = 0; i < p.size(); ++i) logits[i] = static_cast<float>(std::log(p[i]));
    int tok = sample_token(logits.data(), vocab_, o.temperature, o.top_p, o.top_k, rng, banned, scratch);
    if (const int shift = events_.shift_steps(tok)) {
      const std::int64_t k = std::min<std::int64_t>(shift, target - steps);  // the last shift lands on time
      tok = events_.time_shift_token(static_cast<int>(k));
      steps += k;
    }
    context.push_back(tok);
    ++rep.generated_tokens;
  }
  rep.generated_seconds = static_cast<double>(steps) / events_.steps_per_second;
  rep.generate_ms = 1000.0 * since(t0);
  if (report) *report = rep;
  return std::vector<std::int32_t>(context.begin() + static_cast<std::ptrdiff_t>(prime.size()), context.end());
}

// ---------------------------------------------------------------- protocol

bool cut_continuation(const std::vector<std::int32_t>& tokens, double prime_seconds, double continuation_seconds,
                      ContinuationCut& out, const EventOptions& ev) {
  if (!(prime_seconds > 0.0) || !(continuation_seconds > 0.0) || prime_seconds > 86400.0 ||
      continuation_seconds > 86400.0)
    throw InvalidArgument("cut_continuation: prime and continuation seconds must be in (0, 86400], got " +
                          std::to_string(prime_seconds) + " and " + std::to_string(continuation_seconds));
  const std::int64_t P = std::max<std::int64_t>(1, std::llround(prime_seconds * ev.steps_per_second));
  const std::int64_t C = std::max<std::int64_t>(1, std::llround(continuation_seconds * ev.steps_per_second));
  const int on0 = ev.note_on_token(ev.min_pitch), off_last = ev.note_off_token(ev.max_pitch);
  std::vector<bool> sounding(static_cast<std::size_t>(ev.max_pitch - ev.min_pitch + 1), false);
  std::int64_t time = 0, cut = -1;
  std::size_t cut_index = 0;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const int tok = tokens[i];
    if (const int shift = ev.shift_steps(tok)) {
      time += shift;
      if (cut < 0 && time >= P) cut = time, cut_index = i;
    } else if (cut < 0 && tok >= on0 && tok <= off_last) {
      sounding[static_cast<std::size_t>((tok - on0) / 2)] = (tok - on0) % 2 == 0;
    }
  }
  if (cut < 0 || time < cut + C) return false;
  out.prime.assign(tokens.begin(), tokens.begin() + static_cast<std::ptrdiff_t>(cut_index) + 1);
  for (std::size_t k = 0; k < sounding.size(); ++k)
    if (sounding[k]) out.prime.push_back(ev.note_off_token(ev.min_pitch + static_cast<int>(k)));
  out.cut_step = cut;
  out.piece_steps = time;
  out.real = window(step_score(tokens, ev), cut, C, ev);
  return true;
}

ContinuationReport evaluate_continuations(TransformerXL& model, const data::PerformanceSplit& test,
                                          const MarkovEventModel& markov, const ContinuationOptions& o) {
  const char* who = "evaluate_continuations";
  const auto t_all = Clock::now();
  if (o.max_pieces < 0) throw InvalidArgument(std::string(who) + ": max_pieces must be >= 0");
  if (!(o.temperature > 0.0) || !(o.top_p > 0.0 && o.top_p <= 1.0) || o.top_k < 0)
    throw InvalidArgument(std::string(who) + ": need temperature > 0, 0 < top_p <= 1, top_k >= 0");
  const EventOptions ev;
  if (markov.vocab() != ev.vocab_size())
    throw InvalidArgument(std::string(who) + ": the Markov model's vocabulary is not the performance codec's");
  const std::int64_t C = std::max<std::int64_t>(1, std::llround(o.continuation_seconds * ev.steps_per_second));

  ContinuationReport rep;
  rep.generators = {"model", "repeat", "markov"};
  const std::size_t G = rep.generators.size();
  rep.prime_seconds = o.prime_seconds;
  rep.continuation_seconds = o.continuation_seconds;
  rep.generated_notes.assign(G, 0);
  rep.generator_seconds.assign(G, 0.0);
  std::vector<ContinuationFeatures> real;
  std::vector<std::vector<ContinuationFeatures>> gen(G);
  ExtendOptions xo;
  xo.seconds = o.continuation_seconds;
  xo.temperature = o.temperature;
  xo.top_p = o.top_p;
  xo.top_k = o.top_k;

  ContinuationCut cut;
  for (std::size_t i = 0; i < test.streams.pieces.size(); ++i) {
    if (o.max_pieces > 0 && rep.pieces_used >= o.max_pieces) break;
    if (!cut_continuation(test.streams.pieces[i], o.prime_seconds, o.continuation_seconds, cut, ev)) {
      ++rep.pieces_skipped;
      continue;
    }
    const Score prime = step_score(cut.prime, ev);
    if (prime.note_count() == 0) {  // nothing for the model to continue
      ++rep.pieces_skipped;
      continue;
    }
    ++rep.pieces_used;
    xo.seed = o.seed + i;
    std::vector<Score> out;

    auto t0 = Clock::now();
    ExtendReport xr;
    const Score extended = model.extend(prime, xo, &xr);
    out.push_back(window(extended, prime.end_tick(), C, ev));
    rep.model_tokens += xr.generated_tokens;
    rep.model_hit_max_tokens += xr.hit_max_tokens ? 1 : 0;
    rep.generator_seconds[0] += since(t0);

    t0 = Clock::now();
    {
      const std::int64_t L = std::min(C, cut.cut_step);
      const Score loop = window(prime, cut.cut_step - L, L, ev);
      Score r = empty_step_score(ev);
      for (std::int64_t shift = 0; shift < C; shift += L)
        for (const Note& n : loop.tracks[0].notes) {
          if (n.start + shift >= C) continue;
          Note m = n;
          m.start += shift;
          m.end = std::min(n.end + shift, C);
          r.tracks[0].notes.push_back(m);
        }
      r.sort();
      out.push_back(std::move(r));
    }
    rep.generator_seconds[1] += since(t0);

    t0 = Clock::now();
    {
      std::vector<std::int32_t> all = cut.prime;
      const std::vector<std::int32_t> more = markov.sample(cut.prime, xo);
      all.insert(all.end(), more.begin(), more.end());
      out.push_back(window(step_score(all, ev), cut.cut_step, C, ev));
    }
    rep.generator_seconds[2] += since(t0);

    real.push_back(continuation_features(cut.real));
    rep.real_notes += static_cast<std::int64_t>(cut.real.note_count());
    for (std::size_t g = 0; g < G; ++g) {
      gen[g].push_back(continuation_features(out[g]));
      rep.generated_notes[g] += static_cast<std::int64_t>(out[g].note_count());
    }
  }
  if (rep.pieces_used == 0)
    throw InvalidArgument(std::string(who) + ": no piece is longer than " + std::to_string(o.prime_seconds) + " + " +
                          std::to_string(o.continuation_seconds) + " s (" + std::to_string(rep.pieces_skipped) +
                          " skipped)");

  const auto mean_of = [](const std::vector<std::vector<double>>& vs) {
    std::vector<double> m;
    std::int64_t n = 0;
    for (const auto& v : vs) {
      if (!finite_all(v)) continue;
      if (m.empty()) m.assign(v.size(), 0.0);
      for (std::size_t k = 0; k < v.size(); ++k) m[k] += v[k];
      ++n;
    }
    for (double& x : m) x /= static_cast<double>(n);
    return m;  // empty when none is defined
  };
  const auto& names = ContinuationFeatures::names();
  for (std::size_t f = 0; f < names.size(); ++f) {
    FeatureOverlap fo;
    fo.feature = names[f];
    std::vector<std::vector<double>> r;
    for (const auto& x : real) r.push_back(x.feature(f));
    fo.real_mean = mean_of(r);
    for (std::size_t g = 0; g < G; ++g) {
      std::vector<std::vector<double>> v;
      for (const auto& x : gen[g]) v.push_back(x.feature(f));
      fo.generated_mean.push_back(mean_of(v));
      fo.overlap.push_back(set_overlap_area(r, v));
    }
    rep.features.push_back(std::move(fo));
  }
  rep.seconds = since(t_all);
  return rep;
}

ContinuationReport evaluate_continuations(TransformerXL& model, const data::PerformanceSplit& test,
                                          const data::PerformanceSplit& train, const ContinuationOptions& o) {
  const auto t0 = Clock::now();
  MarkovEventModel markov(o.markov_order);
  markov.fit(train.streams);
  const double fit_s = since(t0);
  ContinuationReport rep = evaluate_continuations(model, test, markov, o);
  rep.markov_fit_seconds = fit_s;
  rep.seconds += fit_s;
  return rep;
}

}  // namespace partita::models
