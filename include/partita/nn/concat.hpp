// ConcatChannels: concatenation of two NHWC tensors along the channel axis
// (the U-Nets' skip connections; the GAN critic's concat(x, condition)).
//
// y[n, h, w, :] = [a[n, h, w, :Ca], b[n, h, w, :Cb]]; backward splits dy
// into the two channel ranges. a and b must agree on N, H and W.
#pragma once
#include "partita/core/tensor.hpp"

namespace partita::nn {

class ConcatChannels {
 public:
  /// Gradients of the two inputs, views of member buffers.
  struct Grads {
    const Tensor& a;
    const Tensor& b;
  };

  const Tensor& forward(const Tensor& a, const Tensor& b);
  Grads backward(const Tensor& dy);

 private:
  Shape a_shape_, b_shape_;
  Tensor y_, da_, db_;
};

}  // namespace partita::nn
