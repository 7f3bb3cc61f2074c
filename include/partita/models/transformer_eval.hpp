// Measuring the Transformer-XL's continuations against real music, with two
// baselines (docs/transformer-eval.md has the protocol with its numbers).
//
// Continuation protocol. Each held-out piece's token stream (<S> first) is cut
// by time: the prime is <S> and the events up to the first event boundary at or
// after `prime_seconds` (the cut), followed by a NOTE_OFF for every note still
// sounding there, so the prime's notes end at the cut; the real continuation is
// the notes of the piece that start in [cut, cut + continuation_seconds), ended
// at the window's end at the latest. Pieces shorter than cut + continuation are
// skipped (counted). Three generators continue every prime by the same length:
//
//   model   TransformerXL::extend on the prime decoded to a Score (seed + piece);
//           its continuation starts at the prime's last note-off
//   repeat  the prime's last continuation_seconds, looped (the whole prime, looped,
//           when it is shorter)
//   markov  MarkovEventModel (order k, Witten-Bell interpolated) trained on the
//           training split, sampled after the prime's tokens with the model's
//           sampling controls and stop rule
//
// Features of a continuation (ContinuationFeatures; after Yang & Lerch 2018, "On
// the evaluation of generative models in music") are compared set against set
// with the overlapping area (set_overlap_area): the Gaussian kernel density of
// the intra-set distances among the real continuations against that of the
// inter-set distances between generated and real continuations; 1 when the
// generated continuations are spread around the real ones as the real ones are
// around each other, near 0 when they lie apart.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "partita/data/performance_corpus.hpp"
#include "partita/data/token_streams.hpp"
#include "partita/models/transformer_xl.hpp"
#include "partita/music/events.hpp"
#include "partita/music/score.hpp"

namespace partita::models {

/// Upper edges (seconds) of the note-length histogram's bins; the last bin is
/// open. Each bin spans a factor of two around a 32nd, 16th, 8th, quarter, half,
/// whole and double-whole note at 120 qpm (0.0625, 0.125, ... 4 s): edges at
/// 2^(i - 3.5) s.
constexpr int kNoteLengthBins = 7;
const std::array<double, kNoteLengthBins - 1>& note_length_bin_edges();

/// The features of a set of notes (every track of a Score; seconds from its
/// tempo map). A feature that needs notes is NaN without them (mean_ioi needs
/// two distinct onsets); set_overlap_area and the means leave NaN out.
struct ContinuationFeatures {
  std::array<double, 12> pitch_class_histogram{};      // notes per pitch class / notes
  double pitch_range = 0.0;                            // highest - lowest MIDI pitch
  std::array<double, kNoteLengthBins> note_length_histogram{};  // notes per length bin / notes
  double mean_ioi = 0.0;      // mean time (s) between consecutive distinct onsets
  double polyphony = 0.0;     // time-weighted mean of the notes sounding, over the time any sounds
  double pitch_class_entropy = 0.0;  // Shannon entropy (bits) of the pitch-class histogram, 0..log2 12
  double note_count = 0.0;
  double used_pitch_count = 0.0;     // distinct MIDI pitches

  /// The features in table order: pitch_class_histogram, pitch_range,
  /// note_length_histogram, mean_ioi, polyphony, pitch_class_entropy,
  /// note_count, used_pitch_count.
  static const std::vector<std::string>& names();
  /// Feature `i` (names() order) as a vector (size 12 or kNoteLengthBins for the
  /// histograms, else 1).
  std::vector<double> feature(std::size_t i) const;
  /// True when feature `i` is defined (no NaN in it).
  bool defined(std::size_t i) const;
};

ContinuationFeatures continuation_features(const Score& score);

/// The overlapping area of two samples' Gaussian kernel densities (bandwidth by
/// Scott's rule, sigma n^(-1/5), per sample): the integral of min(p, q) on a
/// `grid`-point trapezoid grid over both samples' range +-5 bandwidths. A
/// sample with no spread takes the bandwidth of both samples pooled; when that
/// has none either, both are one value and the area is 1. NaN when a sample
/// is empty.
double overlap_area(const std::vector<double>& a, const std::vector<double>& b, int grid = 2048);

/// Yang & Lerch's overlapping area of a feature: the Euclidean distances between
/// every two real vectors (intra-set) against those between every generated and
/// every real vector (inter-set), by overlap_area. Vectors holding NaN are left
/// out; NaN when fewer than two real or no generated vectors remain.
/// InvalidArgument when vector sizes differ.
double set_overlap_area(const std::vector<std::vector<double>>& real,
                        const std::vector<std::vector<double>>& generated);

/// An order-k Markov chain over performance events: P(w | the k tokens before)
/// with Witten-Bell interpolation down to a uniform distribution over the
/// vocabulary,
///
///   P_j(w | h_j) = (c(h_j w) + T(h_j) P_{j-1}(w | h_{j-1})) / (c(h_j) + T(h_j))
///   P_{-1}(w)    = 1 / vocab
///
/// (h_j: the last j tokens, j = 0..k; c: counts of the training targets, T(h):
/// the distinct tokens seen after h; an unseen h_j passes P_{j-1} on). A piece's
/// first targets have shorter histories (back to its <S>), as a language model
/// reading it from the start has.
class MarkovEventModel {
 public:
  static constexpr int kMaxOrder = 6;
  /// InvalidArgument for an order outside 1..kMaxOrder or a vocabulary whose
  /// (order+1)-grams do not fit the 64-bit keys (all orders do with 310 tokens).
  explicit MarkovEventModel(int order = 3, const EventOptions& events = {});

  int order() const { return order_; }
  int vocab() const { return vocab_; }

  /// Count every target (token 1 .. L-1 of each piece) with its histories.
  /// Adds to earlier counts. InvalidArgument for a token outside the vocabulary.
  void fit(const data::TokenStreams& streams);

  /// P(token | the tokens before it): `context` holds the preceding tokens
  /// (only the last order() are used; fewer: a piece's start).
  double probability(const std::int32_t* context, std::size_t n, int token) const;
  /// The whole distribution (vocab() values, summing to 1) into `out`.
  void distribution(const std::int32_t* context, std::size_t n, std::vector<double>& out) const;

  /// Negative log-likelihood per target (nats) over every piece, targets as
  /// TransformerXL::evaluate_nll reads them (token i+1 given tokens 0..i,
  /// <PAD> targets left out). 0 when there is none; `counted` gets the count.
  double evaluate_nll(const data::TokenStreams& streams, std::int64_t* counted = nullptr) const;

  /// Tokens after `prime`, drawn one at a time by sample_token on the log
  /// probabilities with `options`' temperature, top_p, top_k and seed (<S> and
  /// <PAD> never drawn) until the time shifts add up to options.seconds (the
  /// last shift clamped to land on time), or options.max_tokens (0: 400 per
  /// second) are drawn. `report`, when given, gets the counts (its notes_added
  /// is 0: the caller decodes).
  std::vector<std::int32_t> sample(const std::vector<std::int32_t>& prime, const ExtendOptions& options,
                                   ExtendReport* report = nullptr) const;

 private:
  struct Context {
    std::int64_t total = 0;
    std::vector<std::pair<std::int32_t, std::int64_t>> next;  // sorted by token
  };
  // The contexts of the last 0, 1, .. tokens before position n that were seen in
  // training, shortest first, into out[0 ..] (room for kMaxOrder + 1); how many.
  int histories(const std::int32_t* context, std::size_t n, const Context** out) const;
  int order_;
  int vocab_;
  EventOptions events_;
  std::unordered_map<std::uint64_t, std::int64_t> grams_;  // key(h) * (vocab + 1) + w + 1 -> c(h w)
  std::unordered_map<std::uint64_t, Context> contexts_;  // key(h): tokens + 1 as base-(vocab + 1) digits, latest lowest
};

/// One piece cut for the protocol (see the top of this file). Scores are at one
/// tick per event step (steps_per_second ticks a quarter at 60 qpm).
struct ContinuationCut {
  std::vector<std::int32_t> prime;  // <S>, the events before the cut, NOTE_OFFs of the notes sounding there
  std::int64_t cut_step = 0;        // the cut (steps from the start)
  std::int64_t piece_steps = 0;     // the piece's length (steps)
  Score real;                       // the real continuation, times from the cut
};

/// Cut `tokens` (a piece, <S> first) at the first event boundary at or after
/// prime_seconds. False (and `out` unspecified) when the piece is shorter than
/// the cut + continuation_seconds. InvalidArgument for non-positive seconds.
bool cut_continuation(const std::vector<std::int32_t>& tokens, double prime_seconds, double continuation_seconds,
                      ContinuationCut& out, const EventOptions& events = {});

struct ContinuationOptions {
  /// 8 bars of 4/4 at 100 qpm, the tempo the JSB chorales are played at (and the
  /// sample melodies' tempo); the continuation: the next 4 bars.
  double prime_seconds = 19.2;
  double continuation_seconds = 9.6;
  int markov_order = 3;
  std::uint64_t seed = 0;       // piece i is continued with seed + i (model and Markov)
  std::int64_t max_pieces = 0;  // use the first this many long-enough pieces (0: all)
  /// Sampling controls of the model and the Markov chain (ExtendOptions' defaults).
  double temperature = 0.95;
  double top_p = 0.95;
  int top_k = 0;
};

/// One feature over the generators.
struct FeatureOverlap {
  std::string feature;
  std::vector<double> real_mean;                    // the mean real vector (defined ones)
  std::vector<std::vector<double>> generated_mean;  // per generator
  std::vector<double> overlap;                      // per generator: set_overlap_area against the real set
};

struct ContinuationReport {
  std::vector<std::string> generators;  // "model", "repeat", "markov"
  std::vector<FeatureOverlap> features; // ContinuationFeatures::names() order
  std::int64_t pieces_used = 0;
  std::int64_t pieces_skipped = 0;      // shorter than prime + continuation
  double prime_seconds = 0.0, continuation_seconds = 0.0;
  std::int64_t real_notes = 0;
  std::vector<std::int64_t> generated_notes;  // per generator
  std::vector<double> generator_seconds;      // wall time per generator
  double markov_fit_seconds = 0.0;
  std::int64_t model_tokens = 0;              // tokens the model drew
  std::int64_t model_hit_max_tokens = 0;      // pieces where it stopped at the token limit
  double seconds = 0.0;                       // wall time of the whole evaluation
};

/// Run the protocol on the pieces of `test` (each a <S>-first token stream)
/// with a trained Markov baseline (its order, not options.markov_order).
/// InvalidArgument for bad options or when no piece is long enough.
ContinuationReport evaluate_continuations(TransformerXL& model, const data::PerformanceSplit& test,
                                          const MarkovEventModel& markov, const ContinuationOptions& options = {});
/// The same with the Markov baseline (options.markov_order) trained on `train`
/// (its fitting time in markov_fit_seconds).
ContinuationReport evaluate_continuations(TransformerXL& model, const data::PerformanceSplit& test,
                                          const data::PerformanceSplit& train,
                                          const ContinuationOptions& options = {});

}  // namespace partita::models
