// Sinusoidal relative position table (see positional.hpp for the formula).
#include "partita/nn/positional.hpp"

#include <cmath>
#include <string>

#include "partita/core/error.hpp"

namespace partita::nn {

void sinusoidal_positions(std::int64_t klen, std::int64_t d, Tensor& out) {
  if (klen < 1 || d < 2 || d % 2 != 0)
    throw InvalidArgument("sinusoidal_positions: need klen >= 1 and an even d >= 2, got klen=" +
                          std::to_string(klen) + " d=" + std::to_string(d));
  out.resize({klen, d});
  const std::int64_t half = d / 2;
  for (std::int64_t i = 0; i < half; ++i) {
    // Same float32 rounding path as torch: inv_freq in float, then pos * inv_freq in float.
    const float inv_freq =
        1.0f / std::pow(10000.0f, static_cast<float>(2 * i) / static_cast<float>(d));
    for (std::int64_t r = 0; r < klen; ++r) {
      const float pos = static_cast<float>(klen - 1 - r);
      const float a = pos * inv_freq;
      out[r * d + i] = std::sin(a);
      out[r * d + half + i] = std::cos(a);
    }
  }
}

Tensor sinusoidal_positions(std::int64_t klen, std::int64_t d) {
  Tensor t;
  sinusoidal_positions(klen, d, t);
  return t;
}

}  // namespace partita::nn
