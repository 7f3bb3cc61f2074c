// UpsampleNearest2d forward (replicate) and backward (block sums).
#include "partita/nn/upsample.hpp"

#include <cstring>
#include <string>

#include "partita/core/error.hpp"

namespace partita::nn {

using std::int64_t;

UpsampleNearest2d::UpsampleNearest2d(int factor) : f_(factor) {
  if (factor < 1)
    throw InvalidArgument("UpsampleNearest2d: factor must be >= 1, got " + std::to_string(factor));
}

Shape UpsampleNearest2d::output_shape(const Shape& in) const {
  if (in.size() != 4)
    throw ShapeError("UpsampleNearest2d: expected an NHWC input (N, H, W, C), got " +
                     shape_str(in));
  return {in[0], in[1] * f_, in[2] * f_, in[3]};
}

const Tensor& UpsampleNearest2d::forward(const Tensor& x) {
  const Shape os = output_shape(x.shape());
  in_shape_ = x.shape();
  y_.resize(os);
  const int64_t H = in_shape_[1], W = in_shape_[2], C = in_shape_[3];
  const int64_t Wo = os[2], rows = os[0] * os[1];
  const float* xp = x.data();
  float* yp = y_.data();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t n = r / os[1], i = r % os[1];
    const float* src = xp + (n * H + i / f_) * W * C;
    float* dst = yp + r * Wo * C;
    for (int64_t j = 0; j < W; ++j)
      for (int b = 0; b < f_; ++b) std::memcpy(dst + (j * f_ + b) * C, src + j * C, sizeof(float) * C);
  }
  return y_;
}

const Tensor& UpsampleNearest2d::backward(const Tensor& dy) {
  if (in_shape_.empty()) throw InvalidArgument("UpsampleNearest2d::backward: called before forward");
  dy.expect_shape(y_.shape(), "UpsampleNearest2d::backward");
  dx_.resize(in_shape_);
  const int64_t H = in_shape_[1], W = in_shape_[2], C = in_shape_[3];
  const int64_t Wo = W * f_, rows = in_shape_[0] * H;
  const float* d = dy.data();
  float* g = dx_.data();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    float* dst = g + r * W * C;
    std::memset(dst, 0, sizeof(float) * W * C);
    for (int a = 0; a < f_; ++a) {
      const float* src = d + (r * f_ + a) * Wo * C;
      for (int64_t j = 0; j < W; ++j)
        for (int b = 0; b < f_; ++b) {
          const float* s = src + (j * f_ + b) * C;
          float* t = dst + j * C;
          for (int64_t c = 0; c < C; ++c) t[c] += s[c];
        }
    }
  }
  return dx_;
}

}  // namespace partita::nn
