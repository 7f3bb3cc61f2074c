// Winograd F(2x2, 2x2) for 4x4, stride-2 convolutions padded by one before
// (TensorFlow "same" on even sizes: the GAN's encoder and critic; private to
// src/nn, used by Conv2d; NHWC activations, HWIO weights).
//
// Along one axis, output o of y = conv(x) reads x[2o - 1 .. 2o + 2] with taps
// w0 .. w3. Split x by parity, e[i] = x[2i] and f[i] = x[2i + 1]:
//   y[o] = w1 e[o] + w3 e[o + 1] + w0 f[o - 1] + w2 f[o],
// two 2-tap stride-1 convolutions ("streams"). Each is Winograd F(2, 2): two
// outputs o = 2a, 2a + 1 from three inputs d (e[2a .. 2a + 2], i.e. x rows 4a,
// 4a + 2, 4a + 4; or f[2a - 1 .. 2a + 1], x rows 4a - 1, 4a + 1, 4a + 3) with
//   B^T = [1 -1 0; 0 1 0; 0 -1 1],  G = [1 0; 1 1; 0 1],  A^T = [1 1 0; 0 1 1]
// (V = B^T d, U = G g, y = A^T (U . V)). In two dimensions the four streams
// (row parity x column parity) of a 2x2 output tile each give a 3x3 V; stacked
// as 4 Cin channels the convolution is 9 independent matrix products, one per
// transform position k: M_k (tiles x Cout) = V_k (tiles x 4 Cin) U_k (4 Cin x
// Cout), 9 x 4 = 36 multiply-adds per Cin x Cout pair and 2x2 tile where the
// direct convolution takes 64 (1.78x fewer). Backward is the exact gradient
// of that computation: dM = A dY A^T, dU_k += V_k^T dM_k, dV_k = dM_k U_k^T,
// dx += B dV B^T (scattered: tiles overlap by one input row and column),
// dW += G^T dU G on each stream's taps.
//
// The driver chunks and threads as Winograd3x3 (winograd.hpp) does: whole
// chunks per thread when there are many, else each chunk's transforms and
// products threaded. Forward results do not depend on the thread count.
#pragma once
#include <cstdint>

#include "partita/core/tensor.hpp"
#include "partita/nn/conv2d.hpp"

namespace partita::nn::detail {

/// A 4x4, stride-2 convolution whose padding starts with one row and one
/// column (any padding after: reads past the input are zero either way).
bool winograd_s2_applies(const ConvGeometry& g);

class WinogradS2 {
 public:
  /// y (N, Ho, Wo, Cout) = conv(x) + b (b may be null). Keeps the transformed
  /// weights for backward.
  void forward(const float* x, const ConvGeometry& g, const float* w, const float* b, float* y);
  /// dw += dL/dw (null: not computed); dx = dL/dx (overwritten; null: not
  /// computed). Must follow a
  /// forward on the same geometry (and input x). The bias gradient is left to
  /// the caller.
  void backward(const float* x, const float* dy, const ConvGeometry& g, float* dw, float* dx);

  /// 2x2 output tiles per chunk (rounded down to whole tile rows, at least one).
  std::int64_t chunk_tiles = 512;

 private:
  std::int64_t rows_per_chunk(const ConvGeometry& g) const;

  ConvGeometry geom_;
  bool have_forward_ = false;
  Tensor u_;           // 9 x 4 Cin x Cout
  Tensor v_, m_, dv_;  // per-thread chunk buffers: 9 x tiles x C
  Tensor du_;          // dU, per-thread partials when chunks run in parallel
};

}  // namespace partita::nn::detail
