// MaxPool2d forward (with argmax) and backward (routing to the argmax).
#include "partita/nn/pool.hpp"

#include <string>

#include "core/simd_target.hpp"
#include "partita/core/cpu.hpp"
#include "partita/core/error.hpp"

namespace partita::nn {

using std::int64_t;

namespace {

struct PoolGeometry {
  int64_t H, W, C, Ho, Wo;
  int k, s;
};

// One output row r (sample r / Ho, row r % Ho) of the max pool with its argmax
// (the window position of the first maximum): compiled once per SIMD level
// (core/simd_target.hpp); comparisons and copies give the same result at each.
PARTITA_INLINE_BODY void pool_row_body(const PoolGeometry& g, int64_t r, const float* xp, float* yp,
                                       std::uint8_t* am) {
  const int64_t n = r / g.Ho, oy = r % g.Ho, C = g.C;
  for (int64_t ox = 0; ox < g.Wo; ++ox) {
    const int64_t o = (r * g.Wo + ox) * C;
    const int64_t first = ((n * g.H + oy * g.s) * g.W + ox * g.s) * C;
    for (int64_t c = 0; c < C; ++c) {
      yp[o + c] = xp[first + c];
      am[o + c] = 0;
    }
    for (int ky = 0; ky < g.k; ++ky)
      for (int kx = 0; kx < g.k; ++kx) {
        const int64_t base = ((n * g.H + oy * g.s + ky) * g.W + ox * g.s + kx) * C;
        const auto pos = static_cast<std::uint8_t>(ky * g.k + kx);
        for (int64_t c = 0; c < C; ++c) {
          const bool more = xp[base + c] > yp[o + c];
          yp[o + c] = more ? xp[base + c] : yp[o + c];
          am[o + c] = more ? pos : am[o + c];
        }
      }
  }
}
void pool_row_generic(const PoolGeometry& g, int64_t r, const float* xp, float* yp, std::uint8_t* am) {
  pool_row_body(g, r, xp, yp, am);
}
#if PARTITA_SIMD_X86
PARTITA_TARGET_AVX2 void pool_row_avx2(const PoolGeometry& g, int64_t r, const float* xp, float* yp,
                                       std::uint8_t* am) {
  pool_row_body(g, r, xp, yp, am);
}
PARTITA_TARGET_AVX512 void pool_row_avx512(const PoolGeometry& g, int64_t r, const float* xp, float* yp,
                                           std::uint8_t* am) {
  pool_row_body(g, r, xp, yp, am);
}
#endif
void pool_row(SimdLevel level, const PoolGeometry& g, int64_t r, const float* xp, float* yp, std::uint8_t* am) {
#if PARTITA_SIMD_X86
  if (level == SimdLevel::Avx512) return pool_row_avx512(g, r, xp, yp, am);
  if (level == SimdLevel::Avx2) return pool_row_avx2(g, r, xp, yp, am);
#endif
  pool_row_generic(g, r, xp, yp, am);
}

}  // namespace

MaxPool2d::MaxPool2d(int kernel, int stride) : k_(kernel), s_(stride == 0 ? kernel : stride) {
  if (kernel < 1 || s_ < 1 || kernel > 16)
    throw InvalidArgument("MaxPool2d: kernel must be in [1, 16] and stride >= 1, got kernel " +
                          std::to_string(kernel) + ", stride " + std::to_string(stride));
}

Shape MaxPool2d::output_shape(const Shape& in) const {
  if (in.size() != 4)
    throw ShapeError("MaxPool2d: expected an NHWC input (N, H, W, C), got " + shape_str(in));
  if (in[1] < k_ || in[2] < k_)
    throw ShapeError("MaxPool2d: input " + shape_str(in) + " is smaller than the " +
                     std::to_string(k_) + "x" + std::to_string(k_) + " window");
  return {in[0], (in[1] - k_) / s_ + 1, (in[2] - k_) / s_ + 1, in[3]};
}

const Tensor& MaxPool2d::forward(const Tensor& x) {
  const Shape os = output_shape(x.shape());
  in_shape_ = x.shape();
  y_.resize(os);
  argmax_.resize(static_cast<size_t>(y_.size()));
  const int64_t H = in_shape_[1], W = in_shape_[2], C = in_shape_[3];
  const int64_t rows = os[0] * os[1], Wo = os[2], Ho = os[1];
  const float* xp = x.data();
  float* yp = y_.data();
  std::uint8_t* am = argmax_.data();
  const PoolGeometry geo{H, W, C, Ho, Wo, k_, s_};
  const SimdLevel level = simd_level();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) pool_row(level, geo, r, xp, yp, am);
  return y_;
}

const Tensor& MaxPool2d::backward(const Tensor& dy) {
  if (in_shape_.empty()) throw InvalidArgument("MaxPool2d::backward: called before forward");
  dy.expect_shape(y_.shape(), "MaxPool2d::backward");
  dx_.resize(in_shape_);
  dx_.zero();
  const int64_t H = in_shape_[1], W = in_shape_[2], C = in_shape_[3];
  const int64_t Ho = y_.dim(1), Wo = y_.dim(2), rows = y_.dim(0) * Ho;
  const float* d = dy.data();
  float* g = dx_.data();
  const std::uint8_t* am = argmax_.data();
  // dx[n, oy*s + ky, ox*s + kx, c] += dy[n, oy, ox, c] at the recorded (ky, kx).
  // Non-overlapping windows (k <= s): every input has at most one writer, so
  // output rows run in parallel; overlapping ones share inputs within a
  // sample only, so samples run in parallel.
  auto route = [&](int64_t r) {
    const int64_t n = r / Ho, oy = r % Ho;
    for (int64_t ox = 0; ox < Wo; ++ox) {
      const int64_t o = (r * Wo + ox) * C;
      for (int64_t c = 0; c < C; ++c) {
        const int ky = am[o + c] / k_, kx = am[o + c] % k_;
        g[((n * H + oy * s_ + ky) * W + ox * s_ + kx) * C + c] += d[o + c];
      }
    }
  };
  if (k_ <= s_) {
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; ++r) route(r);
  } else {
    const int64_t n = y_.dim(0);
#pragma omp parallel for schedule(static)
    for (int64_t s = 0; s < n; ++s)
      for (int64_t r = s * Ho; r < (s + 1) * Ho; ++r) route(r);
  }
  return dx_;
}

}  // namespace partita::nn
