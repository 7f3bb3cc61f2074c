// xoshiro256** with splitmix64 seeding; portable, reproducible distributions.
#include "partita/core/random.hpp"

#include <cmath>

namespace partita {

static std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static inline std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void Generator::reseed(std::uint64_t seed) {
  std::uint64_t x = seed;
  for (auto& s : s_) s = splitmix64(x);
}

std::uint64_t Generator::next_u64() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Generator::uniform() { return (next_u64() >> 11) * 0x1.0p-53; }

std::uint64_t Generator::below(std::uint64_t n) {
  if (n == 0) return 0;
  // Lemire's nearly divisionless method with rejection for exact uniformity.
  std::uint64_t threshold = (0 - n) % n;
  for (;;) {
    std::uint64_t r = next_u64();
    if (r >= threshold) return r % n;
  }
}

double Generator::normal() {
  double u1 = uniform();
  double u2 = uniform();
  if (u1 < 1e-300) u1 = 1e-300;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

double Generator::truncated_normal() {
  for (;;) {
    double z = normal();
    if (z >= -2.0 && z <= 2.0) return z;
  }
}

Generator Generator::split(std::uint64_t stream) {
  std::uint64_t x = next_u64() ^ (stream * 0xd1b54a32d192ed03ULL);
  return Generator(splitmix64(x));
}

}  // namespace partita
