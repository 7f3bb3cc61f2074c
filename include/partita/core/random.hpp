// Seeded random numbers: every stochastic call in partita takes a Generator or a seed.
//
// xoshiro256** seeded through splitmix64; the same seed gives the same stream on
// every platform (no std::distribution, whose output is implementation-defined).
#pragma once
#include <cstdint>

namespace partita {

class Generator {
 public:
  explicit Generator(std::uint64_t seed = 0) { reseed(seed); }
  void reseed(std::uint64_t seed);
  std::uint64_t next_u64();
  /// Uniform in [0, 1).
  double uniform();
  float uniform(float lo, float hi) { return lo + static_cast<float>(uniform()) * (hi - lo); }
  /// Uniform integer in [0, n).
  std::uint64_t below(std::uint64_t n);
  /// Standard normal (Box-Muller).
  double normal();
  /// Normal truncated to [-2, 2] standard deviations (as TensorFlow's truncated_normal).
  double truncated_normal();
  /// Derive an independent generator (for per-thread or per-sample streams).
  Generator split(std::uint64_t stream);

 private:
  std::uint64_t s_[4];
};

}  // namespace partita
