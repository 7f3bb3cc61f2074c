// MaxPool2d forward (with argmax) and backward (routing to the argmax).
#include "partita/nn/pool.hpp"

#include <string>

#include "partita/core/error.hpp"

namespace partita::nn {

using std::int64_t;

MaxPool2d::MaxPool2d(int kernel, int stride) : k_(kernel), s_(stride == 0 ? kernel : stride) {
  if (kernel < 1 || s_ < 1)
    throw InvalidArgument("MaxPool2d: kernel and stride must be >= 1, got kernel " +
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
  int64_t* am = argmax_.data();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t n = r / Ho, oy = r % Ho;
    for (int64_t ox = 0; ox < Wo; ++ox) {
      const int64_t o = (r * Wo + ox) * C;
      const int64_t first = ((n * H + oy * s_) * W + ox * s_) * C;
      for (int64_t c = 0; c < C; ++c) {
        yp[o + c] = xp[first + c];
        am[o + c] = first + c;
      }
      for (int ky = 0; ky < k_; ++ky)
        for (int kx = 0; kx < k_; ++kx) {
          const int64_t base = ((n * H + oy * s_ + ky) * W + ox * s_ + kx) * C;
          for (int64_t c = 0; c < C; ++c)
            if (xp[base + c] > yp[o + c]) {
              yp[o + c] = xp[base + c];
              am[o + c] = base + c;
            }
        }
    }
  }
  return y_;
}

const Tensor& MaxPool2d::backward(const Tensor& dy) {
  if (in_shape_.empty()) throw InvalidArgument("MaxPool2d::backward: called before forward");
  dy.expect_shape(y_.shape(), "MaxPool2d::backward");
  dx_.resize(in_shape_);
  dx_.zero();
  const int64_t n = in_shape_[0], per = y_.size() / n;
  const float* d = dy.data();
  float* g = dx_.data();
  const int64_t* am = argmax_.data();
  if (k_ <= s_) {
    // Windows do not overlap: every input element has at most one writer.
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < dy.size(); ++i) g[am[i]] += d[i];
  } else {
    // Overlapping windows share inputs within a sample, never across samples.
#pragma omp parallel for schedule(static)
    for (int64_t s = 0; s < n; ++s)
      for (int64_t i = s * per; i < (s + 1) * per; ++i) g[am[i]] += d[i];
  }
  return dx_;
}

}  // namespace partita::nn
