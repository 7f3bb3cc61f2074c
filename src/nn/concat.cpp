// ConcatChannels: interleave channel runs pixel by pixel, and split them back.
#include "partita/nn/concat.hpp"

#include <cstring>

#include "partita/core/error.hpp"

namespace partita::nn {

using std::int64_t;

const Tensor& ConcatChannels::forward(const Tensor& a, const Tensor& b) {
  if (a.rank() < 1 || a.rank() != b.rank())
    throw ShapeError("ConcatChannels::forward: inputs " + shape_str(a.shape()) + " and " +
                     shape_str(b.shape()) + " must have the same rank");
  for (int i = 0; i + 1 < a.rank(); ++i)
    if (a.shape()[i] != b.shape()[i])
      throw ShapeError("ConcatChannels::forward: inputs " + shape_str(a.shape()) + " and " +
                       shape_str(b.shape()) + " differ outside the channel axis");
  a_shape_ = a.shape();
  b_shape_ = b.shape();
  Shape os = a_shape_;
  const int64_t ca = a_shape_.back(), cb = b_shape_.back(), c = ca + cb;
  os.back() = c;
  y_.resize(os);
  const int64_t pixels = ca > 0 ? a.size() / ca : (cb > 0 ? b.size() / cb : 0);
  const float* ap = a.data();
  const float* bp = b.data();
  float* yp = y_.data();
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < pixels; ++p) {
    std::memcpy(yp + p * c, ap + p * ca, sizeof(float) * ca);
    std::memcpy(yp + p * c + ca, bp + p * cb, sizeof(float) * cb);
  }
  return y_;
}

ConcatChannels::Grads ConcatChannels::backward(const Tensor& dy) {
  if (a_shape_.empty()) throw InvalidArgument("ConcatChannels::backward: called before forward");
  dy.expect_shape(y_.shape(), "ConcatChannels::backward");
  da_.resize(a_shape_);
  db_.resize(b_shape_);
  const int64_t ca = a_shape_.back(), cb = b_shape_.back(), c = ca + cb;
  const int64_t pixels = c > 0 ? dy.size() / c : 0;
  const float* d = dy.data();
  float* ga = da_.data();
  float* gb = db_.data();
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < pixels; ++p) {
    std::memcpy(ga + p * ca, d + p * c, sizeof(float) * ca);
    std::memcpy(gb + p * cb, d + p * c + ca, sizeof(float) * cb);
  }
  return {da_, db_};
}

}  // namespace partita::nn
