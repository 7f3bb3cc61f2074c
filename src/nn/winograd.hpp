// Winograd F(2x2, 3x3) convolution for training (private to src/nn; used by
// Conv2d for 3x3 stride-1 convolutions padded by one on every side, NHWC
// activations, HWIO weights).
//
// The output is cut into 2x2 tiles; tile (n, ty, tx) reads the 4x4 input patch
// at rows 2ty-1.., columns 2tx-1.. (zero outside). With the 4x4 transforms
//   V = B^T d B (input),  U = G w G^T (weights),  Y = A^T M A (output)
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1],
//   A^T = [1 1 1 0; 0 1 -1 -1]
// the convolution becomes 16 independent matrix products, one per transform
// position k: M_k (tiles x Cout) = V_k (tiles x Cin) * U_k (Cin x Cout):
// 16 multiply-adds per Cin x Cout pair and 4 outputs instead of 36 (2.25x fewer).
// Backward is the exact gradient of that computation: dM = A dY A^T,
// dU_k += V_k^T dM_k, dV_k = dM_k U_k^T, dx += B dV B^T (scattered: tiles
// overlap by two pixels), dW += G^T dU G.
//
// Tiles are processed in chunks of whole tile rows (n, ty), about
// `chunk_tiles` tiles each; with many chunks each thread takes whole chunks
// (one parallel region per layer, as Conv2d's im2col path), otherwise each
// chunk's transforms and products are threaded. The forward's results do not
// depend on the thread count; backward's may differ in rounding (the order in
// which overlapping tiles add into dx, per-thread dW partial sums).
#pragma once
#include <cstdint>

#include "partita/core/tensor.hpp"
#include "partita/nn/conv2d.hpp"

namespace partita::nn::detail {

/// A 3x3, stride-1 convolution padded 1/1/1/1 (TensorFlow "same" on any size).
bool winograd_applies(const ConvGeometry& g);

/// ConvAlgorithm::Auto takes Winograd when every channel count (input parts and
/// output) is at least this: below it the 16 products are too thin to beat im2col.
inline constexpr std::int64_t kWinogradMinChannels = 16;

/// The convolution's input: x (N, H, W, Cin), or the channel concatenation of
/// up2(low) and x (N, H, W, Cin - low_channels), low (N, H/2, W/2,
/// low_channels) upsampled x2 by nearest neighbour, without building it
/// (nn::UpConcatConv2d). The upsampled part's transform is zero at the 7
/// positions with a 2 in them, so those products skip its channels: per tile
/// 9 (Cl + Cx) + 7 Cx multiply-adds per output channel instead of 16 (Cl + Cx).
struct WinogradInput {
  const float* x = nullptr;
  const float* low = nullptr;
  std::int64_t low_channels = 0;
};

class Winograd3x3 {
 public:
  /// y (N, H, W, Cout) = conv(x) + b (b may be null). Transforms and keeps the
  /// weights: backward uses the weights of the last forward.
  /// g describes the whole convolution (g.cin counts both parts).
  void forward(const WinogradInput& in, const ConvGeometry& g, const float* w, const float* b,
               float* y);
  /// dw += dL/dw; dx = dL/dx and dlow = dL/dlow (overwritten; null for none:
  /// both or neither). Must follow a forward on the same input and geometry.
  /// The bias gradient is left to the caller.
  void backward(const WinogradInput& in, const float* dy, const ConvGeometry& g, float* dw,
                float* dx, float* dlow = nullptr);

  /// Tiles per chunk (rounded down to whole tile rows, at least one row).
  std::int64_t chunk_tiles = 512;

 private:
  std::int64_t rows_per_chunk(const ConvGeometry& g, bool low) const;
  void check(const WinogradInput& in, const ConvGeometry& g, const char* who) const;

  ConvGeometry geom_;
  bool have_forward_ = false;
  bool v_holds_all_ = false;  // forward ran as one chunk: v_ holds every tile's V
  Tensor u_;                  // 16 x Cin x Cout
  Tensor v_, m_, dv_;         // per-thread chunk buffers: 16 x tiles x C
  Tensor du_;                 // dU, per-thread partials when chunks run in parallel
};

}  // namespace partita::nn::detail
