// Reading a generated part as one line: the monophonic decoding of
// GAN::accompany (AccompanyOptions::leap_penalty).
#pragma once

#include <cstdint>
#include <vector>

namespace partita::models {

/// A Viterbi path through one part's generated values. A step's pitch p scores
/// its generated value, a rest scores the threshold; the next pitch after p costs
/// leap_penalty * |p - q| (also across rests: a rest remembers the pitch before
/// it; the first note of the part is free). With leap_penalty 0 the path is each
/// step's highest value above the threshold. The path is found in the model's
/// rows; finish() drops its notes whose MIDI number (p - shift) falls outside
/// 0..127, as the plain binarization does. The forward pass runs one step at a
/// time as the windows come; back pointers take 2 * pitches bytes a step
/// (pitches <= 128).
class VoiceDecoder {
 public:
  VoiceDecoder(std::int64_t steps, int pitches, int shift, float threshold, float leap_penalty);

  /// Step t (0, 1, 2, ... in order): the part's value at pitch p is row[p * stride].
  void step(std::int64_t t, const float* row, std::int64_t stride);

  /// The best path after `steps` steps, written into `cells` (steps x 128, MIDI
  /// pitches p - shift; cells on the path set to 1, others left as they are).
  void finish(std::int64_t steps, std::uint8_t* cells) const;

  /// The path's states (pitch row, or -1 for a rest), steps long; and its score.
  std::vector<int> path(std::int64_t steps) const;
  float score() const;

 private:
  int P_, shift_;
  float thr_, leap_;
  std::vector<float> score_, next_, fwd_;
  std::vector<std::uint8_t> back_;
};

}  // namespace partita::models
