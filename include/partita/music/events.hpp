// Performance events: a Score as the token sequence of a performance language
// model (Transformer-XL) and back.
//
// The vocabulary is the one of the AWS DeepComposer samples' Transformer-XL
// (transformer-xl/utils/performance_vocab.txt), itself note_seq's performance
// encoding (Oore et al., "This Time with Feeling", 2018) at 100 steps per
// second and 32 velocity bins, pitches 21..108:
//
//   0          <S>          (start of sequence; ignored by decode)
//   1          <PAD>        (ignored by decode)
//   2..101     TIME_SHIFT 1..100 steps (10 ms .. 1 s)
//   102..277   NOTE_ON p = 102 + 2 (p - 21), NOTE_OFF p = NOTE_ON p + 1
//   278..309   VELOCITY bin 1..32, bin = (velocity - 1) / 4 + 1
//
// Encoding follows note_seq's Performance: the sustain pedal (controller 64,
// value >= 64 down) lengthens released notes to the pedal release or the next
// onset of the same pitch; note times are rounded to the nearest step; a note
// that rounds to zero length gets one step; a note that starts while the same
// pitch sounds ends the earlier note there; notes outside the pitch range are
// dropped (counted in EventStats); a VELOCITY token precedes a NOTE_ON only when
// the bin changes; gaps over max_shift_steps take several TIME_SHIFT tokens.
#pragma once
#include <cstdint>
#include <vector>

#include "partita/music/score.hpp"

namespace partita {

/// The layout of the performance vocabulary (defaults: the DeepComposer one).
struct EventOptions {
  int steps_per_second = 100;
  int velocity_bins = 32;
  int min_pitch = 21;
  int max_pitch = 108;
  int max_shift_steps = 100;
  bool sustain = true;  // apply controller 64 before encoding

  /// Throws InvalidArgument naming `where` for a value out of its domain
  /// (steps, bins, shift >= 1; 0 <= min_pitch <= max_pitch <= 127; bins <= 127).
  void validate(const char* where) const;

  static constexpr int kStart = 0;  // <S>
  static constexpr int kPad = 1;    // <PAD>
  int time_shift_token(int steps) const { return 1 + steps; }
  int note_on_token(int pitch) const { return 2 + max_shift_steps + 2 * (pitch - min_pitch); }
  int note_off_token(int pitch) const { return note_on_token(pitch) + 1; }
  int velocity_token(int bin) const { return note_on_token(max_pitch + 1) + bin - 1; }
  /// The steps of a TIME_SHIFT token (1..max_shift_steps); 0 for any other token.
  int shift_steps(int token) const {
    return token > time_shift_token(0) && token <= time_shift_token(max_shift_steps) ? token - time_shift_token(0) : 0;
  }
  /// True for a NOTE_ON token.
  bool is_note_on(int token) const {
    return token >= note_on_token(min_pitch) && token <= note_on_token(max_pitch) && (token - note_on_token(min_pitch)) % 2 == 0;
  }
  /// Number of tokens (310 with the defaults).
  int vocab_size() const { return velocity_token(velocity_bins + 1); }
  /// Width of a velocity bin: ceil(127 / velocity_bins) (4 with 32 bins).
  int velocity_bin_size() const { return (127 + velocity_bins - 1) / velocity_bins; }
  /// Bin 1..velocity_bins of a MIDI velocity 1..127.
  int velocity_bin(int velocity) const;
  /// The velocity a bin decodes to: 1 + (bin - 1) * velocity_bin_size(), at most 127.
  int bin_velocity(int bin) const {
    const int v = 1 + (bin - 1) * velocity_bin_size();
    return v < 127 ? v : 127;
  }
};

/// What encode_performance did to the notes it was given.
struct EventStats {
  std::int64_t notes_in = 0;            // notes of the encoded track(s)
  std::int64_t notes_encoded = 0;       // NOTE_ON tokens written
  std::int64_t dropped_out_of_range = 0;// pitch outside [min_pitch, max_pitch]
  std::int64_t sustained = 0;           // notes lengthened by the pedal
  std::int64_t truncated_overlaps = 0;  // notes ended early by a new onset of their pitch
  std::int64_t lengthened_zero = 0;     // notes given one step after rounding to zero length
  std::int64_t merged_duplicates = 0;   // same pitch, same onset step: kept as one note
};

/// Tokens of `score`'s track `track` (-1: every non-drum track merged), seconds
/// from the score's tempo map. Throws InvalidArgument for a bad track index or
/// options. `stats`, when given, receives the counts above.
std::vector<int> encode_performance(const Score& score, int track = -1, const EventOptions& options = {},
                                    EventStats* stats = nullptr);

/// A one-track Score (at `ticks_per_quarter`, one tempo `qpm`) from tokens.
/// <S> and <PAD> are skipped; a NOTE_OFF without a sounding note is ignored; a
/// NOTE_ON of a sounding pitch ends the earlier note there; a NOTE_OFF in the
/// step of its NOTE_ON drops the note (zero length, as note_seq); notes still
/// on at the end end at the last step (one step when that is their onset).
/// NOTE_ONs before any VELOCITY token take velocity 100 (note_seq's default). Throws InvalidArgument
/// naming the position of a token outside [0, vocab_size()).
Score decode_performance(const std::vector<int>& tokens, const EventOptions& options = {},
                         int ticks_per_quarter = 480, double qpm = 120.0);

}  // namespace partita
