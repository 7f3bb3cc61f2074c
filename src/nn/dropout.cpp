// Dropout: blockwise-seeded Bernoulli masks, inverted scaling.
#include "partita/nn/dropout.hpp"

#include <algorithm>
#include <string>

#include "partita/core/error.hpp"

namespace partita::nn {

using std::int64_t;

namespace {
constexpr int64_t kBlock = 1 << 14;
}

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
  const int64_t n = dy.size();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) g[i] = mp[i] ? d[i] * scale : 0.0f;
  return dx_;
}

}  // namespace partita::nn
