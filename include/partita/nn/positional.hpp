// Sinusoidal relative position embedding R of Transformer-XL (Dai et al. 2019).
//
// Row r of R encodes the relative distance klen-1-r (positions run klen-1 .. 0,
// so row 0 is the farthest key and the last row is distance 0):
//   inv_freq[i] = 1 / 10000^(2i/d),  i = 0 .. d/2-1
//   R[r] = [sin(pos * inv_freq), cos(pos * inv_freq)]   (sines first, then cosines)
// R has no parameters; the attention layer projects it with its own r_net.
#pragma once
#include <cstdint>

#include "partita/core/tensor.hpp"

namespace partita::nn {

/// Fills `out` (resized to (klen, d)) with R; d must be even and >= 2, klen >= 1.
void sinusoidal_positions(std::int64_t klen, std::int64_t d, Tensor& out);
/// Same, returned as a new tensor.
Tensor sinusoidal_positions(std::int64_t klen, std::int64_t d);

}  // namespace partita::nn
