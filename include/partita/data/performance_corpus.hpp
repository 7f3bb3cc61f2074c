// Performance-event corpora for the Transformer-XL: pieces as token streams
// (music/events.hpp), each beginning with <S>, ready for data::SegmentBatcher.
//
// Sources:
//  - the JSB chorales (jsb_chorales.hpp, the standard split), each chorale's
//    four voices merged as on its 16th-note grid, played at a fixed tempo
//    (jsb_qpm, 100 quarter notes a minute by default: a 16th is 150 ms, exactly 15
//    time steps, and the tempo of the bundled sample melodies) and one velocity;
//  - any folder of MIDI files (read with partita's own reader, every non-drum
//    track merged). A folder with train/, valid/ and test/ subfolders keeps that
//    split (scripts/make_txl_corpus.py writes one from music21's corpus);
//    otherwise file i (sorted by path) goes to valid when i % 10 == 4, to test
//    when i % 10 == 9, else to train (folders of fewer than 10 files: all train).
//
// Augmentation (training split only): each piece once as written plus `copies`
// variants, each stretched in time by a factor drawn uniformly from
// [min_stretch, max_stretch] and transposed by a whole number of semitones drawn
// uniformly from [-max_transpose, max_transpose], both from (seed, piece, copy).
// A variant is made by decoding the tokens, changing the Score and encoding it
// again, so it obeys every rule of the codec (notes moved out of 21..108 drop).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "partita/data/jsb_chorales.hpp"
#include "partita/data/midi_folder.hpp"
#include "partita/data/token_streams.hpp"
#include "partita/music/events.hpp"

namespace partita::data {

struct PerformanceCorpusOptions {
  EventOptions events;
  double jsb_qpm = 100.0;  // tempo at which the JSB 16th-note grid is played
  int jsb_velocity = 80;   // the velocity of every JSB note
  std::int64_t min_notes = 2;  // pieces with fewer notes are skipped
};

/// The token streams of a split, with where each piece came from.
struct PerformanceSplit {
  TokenStreams streams;
  std::vector<std::string> names;  // one per piece: "jsb/train/12" or the file path
  double seconds = 0.0;            // total duration of the pieces
};

struct PerformanceCorpus {
  PerformanceSplit train, valid, test;
  /// Append another corpus's splits (e.g. JSB + a MIDI folder).
  void append(PerformanceCorpus&& other);
};

/// <S> followed by the events of `score` (all non-drum tracks merged, or `track`).
std::vector<std::int32_t> performance_tokens(const Score& score, int track = -1,
                                             const EventOptions& options = {});

/// The JSB chorales as performances (see the top of this file).
PerformanceCorpus jsb_performances(const JsbChorales& jsb, const PerformanceCorpusOptions& options = {});

/// Every usable MIDI file under `folder` (see the top of this file); unusable
/// files (unreadable, fewer than min_notes notes in range) go to `report`.
/// IoError if `folder` is not a directory; InvalidArgument if no file is usable.
PerformanceCorpus load_performance_folder(const std::string& folder, const PerformanceCorpusOptions& options = {},
                                          MidiFolderReport* report = nullptr);

struct AugmentOptions {
  int copies = 0;  // variants per piece besides the piece itself
  double min_stretch = 0.95, max_stretch = 1.05;
  int max_transpose = 3;
  std::uint64_t seed = 0;
};

/// One variant of a token stream: time stretched by `stretch` (> 0; 1.05 = 5 %
/// slower) and transposed by `semitones`; starts with <S> if `tokens` did.
std::vector<std::int32_t> stretch_and_transpose(const std::vector<std::int32_t>& tokens, double stretch,
                                                int semitones, const EventOptions& options = {});

/// The pieces of `split` and `copies` seeded variants of each (see the top).
PerformanceSplit augment_performances(const PerformanceSplit& split, const AugmentOptions& augment,
                                      const EventOptions& options = {});

}  // namespace partita::data
