// UpsampleNearest2d: nearest-neighbour upsampling of NHWC activations by an
// integer factor (2 in the U-Nets' decoders, as Keras UpSampling2D and
// PyTorch's nn.Upsample(scale_factor=2, mode="nearest")).
//
// y[n, i, j, c] = x[n, i / f, j / f, c]; backward sums each f x f block of dy:
// dx[n, i, j, c] = sum_{a, b < f} dy[n, i*f + a, j*f + b, c].
#pragma once
#include "partita/core/tensor.hpp"

namespace partita::nn {

class UpsampleNearest2d {
 public:
  explicit UpsampleNearest2d(int factor = 2);

  const Tensor& forward(const Tensor& x);
  const Tensor& backward(const Tensor& dy);
  Shape output_shape(const Shape& input) const;

 private:
  int f_;
  Shape in_shape_;
  Tensor y_, dx_;
};

}  // namespace partita::nn
