// Counter-based uniform numbers for fused dropout in the attention layers.
//
// hash_uniform(seed, i) is the splitmix64 finaliser of seed + i * golden ratio,
// reduced to 24 bits in [0, 1). The same (seed, index) gives the same number on
// any thread, so a fused dropout mask does not depend on how work is split, and
// backward can recompute a mask instead of storing it. Private to src/nn.
#pragma once
#include <cstdint>

namespace partita::nn::detail {

inline float hash_uniform(std::uint64_t seed, std::uint64_t index) {
  std::uint64_t z = seed + index * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<float>(z >> 40) * (1.0f / 16777216.0f);
}

}  // namespace partita::nn::detail
