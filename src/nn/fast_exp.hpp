// A vectorisable exp for softmax kernels (private to src/nn).
//
// glibc's expf is a scalar call per element; the attention softmax evaluates
// tens of millions of them per step. exp_inplace splits x = n ln2 + f with
// |f| <= ln2 / 2 (n by the round-to-nearest magic-number trick, ln2 in two parts
// for an exact reduction), evaluates exp(f) with Cephes' degree-6 polynomial and
// scales by 2^n through the exponent bits. Branch-free, so gcc vectorises the
// loop; exp_inplace (fast_exp.cpp) runs it compiled for the SIMD level in use
// (AVX-512: 16 lanes, AVX2: 8, the x86-64 baseline: 4). Relative error about 2e-7 for x in [-87, 88]; inputs
// below -87 give exp(-87) ~ 1.6e-38 instead of a denormal or 0, which no softmax
// can tell apart. Inputs above 88 would overflow: callers subtract the row max.
#pragma once
#include <cstdint>
#include <cstring>

namespace partita::nn::detail {

/// x[i] <- exp(x[i]) for i < n, with the loop vectorised for partita::simd_level().
void exp_inplace(float* x, std::int64_t n);

/// The loop itself, inlined into one function per level in fast_exp.cpp.
inline __attribute__((always_inline)) void exp_inplace_body(float* x, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) {
    float v = x[i] < -87.0f ? -87.0f : x[i];
    // n_f = round(v / ln2): adding 1.5 * 2^23 rounds to an integer in the low mantissa bits.
    const float shifted = v * 1.44269504088896341f + 12582912.0f;
    const float nf = shifted - 12582912.0f;
    float f = v - nf * 0.693359375f;
    f = f + nf * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * f + 1.3981999507e-3f;
    p = p * f + 8.3334519073e-3f;
    p = p * f + 4.1665795894e-2f;
    p = p * f + 1.6666665459e-1f;
    p = p * f + 5.0000001201e-1f;
    const float y = p * f * f + f + 1.0f;
    const std::int32_t e = (static_cast<std::int32_t>(nf) + 127) << 23;
    float scale;
    std::memcpy(&scale, &e, sizeof scale);
    x[i] = y * scale;
  }
}

}  // namespace partita::nn::detail
