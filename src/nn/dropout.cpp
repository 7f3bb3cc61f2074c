// Dropout: blockwise-seeded Bernoulli masks, inverted scaling.
#include "partita/nn/dropout.hpp"

#include <algorithm>
#include <string>

#include "core/simd_target.hpp"
#include "partita/core/cpu.hpp"
#include "partita/core/error.hpp"

namespace partita::nn {

using std::int64_t;

namespace {
constexpr int64_t kBlock = 1 << 14;

// g[i] = d[i] * scale where the mask keeps element i, else 0: compiled once per
// SIMD level (core/simd_target.hpp); every level computes the same products.
PARTITA_INLINE_BODY void apply_mask_body(float* g, const float* d, const std::uint8_t* m, float scale,
                                         int64_t n) {
  for (int64_t i = 0; i < n; ++i) g[i] = m[i] ? d[i] * scale : 0.0f;
}
void apply_mask_generic(float* g, const float* d, const std::uint8_t* m, float scale, int64_t n) {
  apply_mask_body(g, d, m, scale, n);
}
#if PARTITA_SIMD_X86
PARTITA_TARGET_AVX2 void apply_mask_avx2(float* g, const float* d, const std::uint8_t* m, float scale, int64_t n) {
  apply_mask_body(g, d, m, scale, n);
}
PARTITA_TARGET_AVX512 void apply_mask_avx512(float* g, const float* d, const std::uint8_t* m, float scale,
                                             int64_t n) {
  apply_mask_body(g, d, m, scale, n);
}
#endif
void apply_mask(SimdLevel level, float* g, const float* d, const std::uint8_t* m, float scale, int64_t n) {
#if PARTITA_SIMD_X86
  if (level == SimdLevel::Avx512) return apply_mask_avx512(g, d, m, scale, n);
  if (level == SimdLevel::Avx2) return apply_mask_avx2(g, d, m, scale, n);
#endif
  apply_mask_generic(g, d, m, scale, n);
}
}  // namespace

Dropout::Dropout(float rate, std::uint64_t seed) : rate_(rate), rng_(seed) {
  if (!(rate >= 0.0f && rate < 1.0f))
    throw InvalidArgument("Dropout: rate must be in [0, 1), got " + std::to_string(rate));
}

const Tensor& Dropout::forward(const Tensor& x) {
  fwd_active_ = active();
  shape_ = x.shape();
  if (!fwd_active_) return x;
  y_.resize(x.shape());
  mask_.resize(static_cast<size_t>(x.size()));
  const std::uint64_t key = rng_.next_u64();
  // keep an element when a uniform 32-bit draw is below (1 - rate) * 2^32
  const auto threshold = static_cast<std::uint64_t>(static_cast<double>(1.0f - rate_) * 4294967296.0);
  const float scale = 1.0f / (1.0f - rate_);
  const int64_t n = x.size(), nb = (n + kBlock - 1) / kBlock;
  const float* xp = x.data();
  float* yp = y_.data();
  std::uint8_t* mp = mask_.data();
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < nb; ++b) {
    Generator g(key ^ (static_cast<std::uint64_t>(b + 1) * 0x9e3779b97f4a7c15ULL));
    const int64_t e = std::min(n, (b + 1) * kBlock);
    for (int64_t i = b * kBlock; i < e; i += 2) {
      const std::uint64_t u = g.next_u64();
      const std::uint8_t m0 = (u & 0xffffffffULL) < threshold;
      mp[i] = m0;
      yp[i] = m0 ? xp[i] * scale : 0.0f;
      if (i + 1 < e) {
        const std::uint8_t m1 = (u >> 32) < threshold;
        mp[i + 1] = m1;
        yp[i + 1] = m1 ? xp[i + 1] * scale : 0.0f;
      }
    }
  }
  return y_;
}

const Tensor& Dropout::backward(const Tensor& dy) {
  dy.expect_shape(shape_, "Dropout::backward");
  if (!fwd_active_) return dy;
  dx_.resize(dy.shape());
  const float scale = 1.0f / (1.0f - rate_);
  const std::uint8_t* mp = mask_.data();
  const float* d = dy.data();
  float* g = dx_.data();
  const int64_t n = dy.size(), nb = (n + kBlock - 1) / kBlock;
  const SimdLevel level = simd_level();
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < nb; ++b) {
    const int64_t i = b * kBlock;
    apply_mask(level, g + i, d + i, mp + i, scale, std::min(kBlock, n - i));
  }
  return dx_;
}

}  // namespace partita::nn
