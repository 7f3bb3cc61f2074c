// Activations: elementwise loops over blocks (OpenMP), Eigen's vectorised
// tanh / logistic, and a row-wise stable softmax.
#include "partita/nn/activations.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "partita/core/error.hpp"

namespace partita::nn {

using std::int64_t;

namespace {

constexpr int64_t kBlock = 1 << 14;

// fn(begin, end) over [0, n) in blocks, in parallel.
template <class Fn>
void blocks(int64_t n, Fn&& fn) {
  const int64_t nb = (n + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < nb; ++b) fn(b * kBlock, std::min(n, (b + 1) * kBlock));
}

using ArrMap = Eigen::Map<Eigen::ArrayXf>;
using ConstArrMap = Eigen::Map<const Eigen::ArrayXf>;

ArrMap arr(Tensor& t, int64_t b, int64_t e) { return ArrMap(t.data() + b, e - b); }
ConstArrMap arr(const Tensor& t, int64_t b, int64_t e) { return ConstArrMap(t.data() + b, e - b); }

void check_backward(const Tensor& y, const Tensor& dy, const char* who) {
  if (y.empty() && dy.size() != 0) throw InvalidArgument(std::string(who) + ": called before forward");
  dy.expect_shape(y.shape(), who);
}

}  // namespace

const Tensor& ReLU::forward(const Tensor& x) {
  y_.resize(x.shape());
  blocks(x.size(), [&](int64_t b, int64_t e) { arr(y_, b, e) = arr(x, b, e).max(0.0f); });
  return y_;
}

const Tensor& ReLU::backward(const Tensor& dy) {
  check_backward(y_, dy, "ReLU::backward");
  dx_.resize(dy.shape());
  // A plain loop, not Eigen's select: the compiler makes it branch-free
  // vector code at any instruction-set level (Eigen's select on the x86-64
  // baseline is a scalar loop with a data-dependent branch).
  const float* y = y_.data();
  const float* g = dy.data();
  float* d = dx_.data();
  blocks(dy.size(), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const float gi = g[i];  // read unconditionally: a select, not a branch
      d[i] = y[i] > 0.0f ? gi : 0.0f;
    }
  });
  return dx_;
}

LeakyReLU::LeakyReLU(float alpha) : alpha_(alpha) {
  if (!(alpha >= 0.0f))
    throw InvalidArgument("LeakyReLU: alpha must be >= 0, got " + std::to_string(alpha));
}

const Tensor& LeakyReLU::forward(const Tensor& x) {
  y_.resize(x.shape());
  const float a = alpha_;
  const float* xs = x.data();
  float* y = y_.data();
  // max(x, 0) + a min(x, 0): the same values as x > 0 ? x : a x, as vector
  // code with no branch (the select form compiled to a scalar loop with a
  // data-dependent branch, mispredicted on every other sign change).
  blocks(x.size(), [a, xs, y](int64_t b, int64_t e) {
    const float slope = a;  // a local: a store to y[i] could alias the closure's float
    for (int64_t i = b; i < e; ++i) {
      const float xi = xs[i];
      y[i] = std::max(xi, 0.0f) + slope * std::min(xi, 0.0f);
    }
  });
  return y_;
}

const Tensor& LeakyReLU::backward(const Tensor& dy) {
  check_backward(y_, dy, "LeakyReLU::backward");
  dx_.resize(dy.shape());
  const float a = alpha_;
  const float* y = y_.data();
  const float* g = dy.data();
  float* d = dx_.data();
  blocks(dy.size(), [a, y, g, d](int64_t b, int64_t e) {
    // GCC keeps `y > 0 ? g : slope * g` a scalar loop with a branch (a multiply
    // on one side only may raise FP exceptions), so four lanes at a time in
    // GCC/Clang vector types (SSE2 on the x86-64 baseline), then the tail.
    typedef float F4 __attribute__((vector_size(16)));
    const float slope = a;
    int64_t i = b;
    for (; i + 4 <= e; i += 4) {
      F4 yv, gv;
      std::memcpy(&yv, y + i, sizeof yv);
      std::memcpy(&gv, g + i, sizeof gv);
      const F4 out = yv > 0.0f ? gv : gv * slope;
      std::memcpy(d + i, &out, sizeof out);
    }
    for (; i < e; ++i) d[i] = y[i] > 0.0f ? g[i] : slope * g[i];
  });
  return dx_;
}

const Tensor& Tanh::forward(const Tensor& x) {
  y_.resize(x.shape());
  blocks(x.size(), [&](int64_t b, int64_t e) { arr(y_, b, e) = arr(x, b, e).tanh(); });
  return y_;
}

const Tensor& Tanh::backward(const Tensor& dy) {
  check_backward(y_, dy, "Tanh::backward");
  dx_.resize(dy.shape());
  blocks(dy.size(), [&](int64_t b, int64_t e) {
    auto ys = arr(y_, b, e);
    arr(dx_, b, e) = arr(dy, b, e) * (1.0f - ys * ys);
  });
  return dx_;
}

const Tensor& Sigmoid::forward(const Tensor& x) {
  y_.resize(x.shape());
  blocks(x.size(), [&](int64_t b, int64_t e) { arr(y_, b, e) = arr(x, b, e).logistic(); });
  return y_;
}

const Tensor& Sigmoid::backward(const Tensor& dy) {
  check_backward(y_, dy, "Sigmoid::backward");
  dx_.resize(dy.shape());
  blocks(dy.size(), [&](int64_t b, int64_t e) {
    auto ys = arr(y_, b, e);
    arr(dx_, b, e) = arr(dy, b, e) * ys * (1.0f - ys);
  });
  return dx_;
}

const Tensor& Softmax::forward(const Tensor& x) {
  if (x.rank() < 1 || x.dim(-1) < 1)
    throw ShapeError("Softmax::forward: need a non-empty last axis, got " + shape_str(x.shape()));
  y_.resize(x.shape());
  const int64_t c = x.dim(-1), rows = x.size() / c;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    ConstArrMap xs(x.data() + r * c, c);
    ArrMap ys(y_.data() + r * c, c);
    ys = (xs - xs.maxCoeff()).exp();
    ys *= 1.0f / ys.sum();
  }
  return y_;
}

const Tensor& Softmax::backward(const Tensor& dy) {
  check_backward(y_, dy, "Softmax::backward");
  dx_.resize(dy.shape());
  const int64_t c = y_.dim(-1), rows = y_.size() / c;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    ConstArrMap ys(y_.data() + r * c, c), ds(dy.data() + r * c, c);
    ArrMap dxs(dx_.data() + r * c, c);
    const float dot = (ys * ds).sum();
    dxs = ys * (ds - dot);
  }
  return dx_;
}

}  // namespace partita::nn
