// Elementwise activations and the softmax, each a small layer class with
// forward/backward: ReLU, LeakyReLU(alpha), Tanh, Sigmoid, Softmax (last axis).
//
// All of them cache their own output y (not the input), which is enough for
// the derivative:
//   ReLU       y = max(x, 0)               dx = dy * [y > 0]
//   LeakyReLU  y = x if x > 0 else a*x     dx = dy * (y > 0 ? 1 : a)   (a >= 0)
//   Tanh       y = tanh(x)                 dx = dy * (1 - y^2)
//   Sigmoid    y = 1 / (1 + e^-x)          dx = dy * y * (1 - y)
//   Softmax    y_i = e^(x_i - max) / sum   dx_i = y_i * (dy_i - sum_j dy_j y_j)
// The derivative at exactly x = 0 is taken as the left one (0 for ReLU, a for
// LeakyReLU), as PyTorch does. Any input shape is accepted; Softmax works on
// rows of the last axis.
#pragma once
#include "partita/core/tensor.hpp"

namespace partita::nn {

class ReLU {
 public:
  const Tensor& forward(const Tensor& x);
  const Tensor& backward(const Tensor& dy);

 private:
  Tensor y_, dx_;
};

class LeakyReLU {
 public:
  explicit LeakyReLU(float alpha = 0.2f);  // InvalidArgument if alpha < 0
  const Tensor& forward(const Tensor& x);
  const Tensor& backward(const Tensor& dy);
  float alpha() const { return alpha_; }

 private:
  float alpha_;
  Tensor y_, dx_;
};

class Tanh {
 public:
  const Tensor& forward(const Tensor& x);
  const Tensor& backward(const Tensor& dy);

 private:
  Tensor y_, dx_;
};

class Sigmoid {
 public:
  const Tensor& forward(const Tensor& x);
  const Tensor& backward(const Tensor& dy);

 private:
  Tensor y_, dx_;
};

/// Softmax over the last axis (numerically stable: the row maximum is subtracted).
class Softmax {
 public:
  const Tensor& forward(const Tensor& x);
  const Tensor& backward(const Tensor& dy);

 private:
  Tensor y_, dx_;
};

}  // namespace partita::nn
