// MaxPool2d: max pooling over NHWC activations (the AR-CNN encoder's 2x2 / 2).
//
// y[n, oy, ox, c] = max_{ky < k, kx < k} x[n, oy*s + ky, ox*s + kx, c] with
// "valid" windows (Ho = floor((H - k) / s) + 1, as Keras' default and
// PyTorch's ceil_mode=False). Forward remembers, for every output element, the
// position ky * k + kx of its maximum inside the window (the first one on
// ties; one byte each, windows up to 16x16); backward routes dy there:
// dx[argmax] += dy, zero elsewhere.
#pragma once
#include <cstdint>
#include <vector>

#include "partita/core/tensor.hpp"

namespace partita::nn {

class MaxPool2d {
 public:
  explicit MaxPool2d(int kernel = 2, int stride = 0);  // stride 0 = kernel

  const Tensor& forward(const Tensor& x);
  const Tensor& backward(const Tensor& dy);
  Shape output_shape(const Shape& input) const;

 private:
  int k_, s_;
  Shape in_shape_;
  Tensor y_, dx_;
  std::vector<std::uint8_t> argmax_;  // window position of each output's maximum
};

}  // namespace partita::nn
