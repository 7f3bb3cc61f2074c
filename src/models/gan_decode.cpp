// The monophonic reading of a generated part (see gan_decode.hpp).
//
// Max-plus dynamic programming over 2 x pitches states (a pitch sounds; a rest
// after that pitch). The transition into pitch q, max_p u[p] - leap * |p - q|,
// is a distance transform with a linear cost: one sweep up and one down give it
// for every q in O(pitches) instead of O(pitches^2).
#include "models/gan_decode.hpp"

#include <algorithm>
#include <limits>

#include "partita/core/error.hpp"

namespace partita::models {

namespace {
constexpr float kOff = -std::numeric_limits<float>::infinity();
}

VoiceDecoder::VoiceDecoder(std::int64_t steps, int pitches, int shift, float threshold, float leap_penalty)
    : P_(pitches), shift_(shift), thr_(threshold), leap_(leap_penalty) {
  if (pitches < 1 || pitches > 128 || steps < 1)
    throw InvalidArgument("VoiceDecoder: needs 1..128 pitches and at least one step, got " +
                          std::to_string(pitches) + " pitches, " + std::to_string(steps) + " steps");
  // States: 0..P-1 "pitch p sounds", P..2P-1 "a rest after pitch p".
  score_.assign(2 * static_cast<size_t>(P_), kOff);
  next_ = score_;
  fwd_.assign(static_cast<size_t>(P_), kOff);
  back_.assign(static_cast<size_t>(steps) * score_.size(), 0);
}

void VoiceDecoder::step(std::int64_t t, const float* row, std::int64_t stride) {
  const int P = P_;
  auto emit = [&](int p) { return row[p * stride]; };
  float* pitch = score_.data();
  float* rest = score_.data() + P;
  if (t == 0) {
    // Before the first note any pitch may follow (a rest "after" every pitch).
    for (int p = 0; p < P; ++p) {
      pitch[p] = emit(p);
      rest[p] = thr_;
    }
    return;
  }
  std::uint8_t* back = back_.data() + t * 2 * P;
  float* npitch = next_.data();
  float* nrest = next_.data() + P;
  // u[p] = the better of "p sounds" and "a rest after p"; a rest after p comes from it.
  for (int p = 0; p < P; ++p) {
    const bool from_rest = rest[p] > pitch[p];
    fwd_[p] = from_rest ? rest[p] : pitch[p];
    nrest[p] = fwd_[p] + thr_;
    back[P + p] = static_cast<std::uint8_t>(from_rest ? P + p : p);
  }
  // npitch[q] = max over p of u[p] - leap * |p - q| + emit(q): one sweep up and
  // one down (a distance transform with a linear cost).
  float run = kOff;
  int arg = 0;
  for (int q = 0; q < P; ++q) {
    run -= leap_;
    if (fwd_[q] >= run) {
      run = fwd_[q];
      arg = q;
    }
    npitch[q] = run;
    back[q] = static_cast<std::uint8_t>(arg);
  }
  run = kOff;
  arg = P - 1;
  for (int q = P - 1; q >= 0; --q) {
    run -= leap_;
    if (fwd_[q] > run) {
      run = fwd_[q];
      arg = q;
    }
    if (run > npitch[q]) {
      npitch[q] = run;
      back[q] = static_cast<std::uint8_t>(arg);
    }
  }
  for (int q = 0; q < P; ++q) {
    const int p = back[q];
    if (rest[p] > pitch[p]) back[q] = static_cast<std::uint8_t>(P + p);
    npitch[q] += emit(q);
  }
  score_.swap(next_);
}

float VoiceDecoder::score() const {
  float best = kOff;
  for (float v : score_) best = std::max(best, v);
  return best;
}

std::vector<int> VoiceDecoder::path(std::int64_t steps) const {
  std::vector<int> out(static_cast<size_t>(steps), -1);
  int state = 0;
  for (int s = 1; s < 2 * P_; ++s)
    if (score_[static_cast<size_t>(s)] > score_[static_cast<size_t>(state)]) state = s;
  for (std::int64_t t = steps - 1; t >= 0; --t) {
    out[static_cast<size_t>(t)] = state < P_ ? state : -1;
    if (t > 0) state = back_[static_cast<size_t>(t * 2 * P_ + state)];
  }
  return out;
}

void VoiceDecoder::finish(std::int64_t steps, std::uint8_t* cells) const {
  const std::vector<int> states = path(steps);
  for (std::int64_t t = 0; t < steps; ++t) {
    const int p = states[static_cast<size_t>(t)];
    if (p >= 0 && p - shift_ >= 0 && p - shift_ <= 127) cells[t * 128 + (p - shift_)] = 1;
  }
}

}  // namespace partita::models
