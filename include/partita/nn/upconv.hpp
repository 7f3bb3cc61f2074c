// UpConcatConv2d: a U-Net decoder's "upsample x2, concatenate the skip, 3x3
// convolution" as one layer, with the upsampling folded into the convolution.
//
//   y = conv3x3_same(concat(up2(a), b)) + bias
//
// a (N, S, T, Ca) is the low-resolution input, b (N, 2S, 2T, Cb) the skip,
// up2 nearest-neighbour upsampling, W (3, 3, Ca + Cb, Cout) HWIO: the very
// parameter a Conv2d over the concatenation holds ("<name>.weight", OIHW in
// files, and "<name>.bias"), so weights move between the two unchanged.
//
// Why: a 3x3 convolution of a nearest-upsampled image reads each low-res pixel
// up to 9 times with weights that only differ by which of 4 output phases
// (py, px) in {0,1}^2 the output pixel (2y + py, 2x + px) is. Along one axis,
// output row 2y + py reads upsampled rows 2y + py - 1 .. 2y + py + 1, which are
//   py = 0:  low-res rows y - 1 (tap 0) and y (taps 1 + 2),
//   py = 1:  low-res rows y (taps 0 + 1) and y + 1 (tap 2),
// i.e. low-res row y + py - 1 + t for t in {0, 1} with the summed weights
//   A[py][t] = sum of the taps k in R(py, t),  R(0,0) = {0}, R(0,1) = {1,2},
//                                              R(1,0) = {0,1}, R(1,1) = {2}.
// The high-res zero padding (rows -1 and 2S) is exactly low-res rows -1 and S,
// out of range as well. So for each phase the a-part is a 2x2 convolution on
// the low-res image with weights Wa[p][ty][tx] = sum_{ky in R(py,ty), kx in
// R(px,tx)} W[ky][kx][:Ca] (4 taps instead of 9 per output pixel: 2.25x fewer
// multiply-adds), while the b-part stays a 3x3 convolution of b at the phase's
// pixels (stride 2 in the output grid).
//
// Implementation: per phase, an im2col over the output pixels of that phase
// (one row per low-res pixel (n, y, x), K = 4 Ca + 9 Cb columns: the 2x2
// a-patch then the 3x3 b-patch), one gemm with the packed phase weights
// Wp[p] = [Wa[p]; W[:, :, Ca:]] (K x Cout, rebuilt from W every forward), and
// a scatter of the phase's rows into y. Backward gathers dy's phase pixels
// into dP, then dWa[p] += cols_a^T dP, dWb += cols_b^T dP (shared by the
// phases), dcols = dP Wp[p]^T and col2im into da (low-res: the 4 replicas of
// a pixel sum, as the adjoint of up2) and db; finally dWa[p] is scattered
// back onto W's taps (the adjoint of the sums above). As nn::Conv2d, the work
// is chunked over low-res rows so a column buffer stays near `column_budget`
// floats. With 2+ threads, forward threads take (chunk, phase) items; backward
// threads take whole chunks when there are enough (even chunks, then odd ones,
// so col2im never collides), else (chunk, phase) items, each thread adding
// into its own copy of da and db (the deep levels, where those are small).
//
// Cost (AR-CNN reference decoder, Ca = 2 Cb = 2 Cout): K = 4 Ca + 9 Cb = 17 Cb
// instead of 9 (Ca + Cb) = 27 Cb per output pixel, 0.63 of the plain
// convolution's multiply-adds, forward and backward; the upsampled
// concatenation is never stored.
//
// The default path (ConvAlgorithm::Auto with every channel count >= 16) is
// faster still: Winograd F(2x2, 3x3) on the virtual concatenation
// (src/nn/winograd.hpp). A 2x2 output tile is exactly one low-res pixel's four
// phases, and the upsampled part's input transform reads the 3x3 low-res patch
// and vanishes at 7 of the 16 transform positions, so a tile costs
// 9 (Ca + Cb) + 7 Cb = 34 Cb multiply-adds per output channel for 4 outputs:
// 8.5 Cb per output pixel, half the phase im2col's 17 Cb. The phase im2col
// path stays (ConvAlgorithm::Im2col) and both are tested against the plain
// composition and the reference convolution.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "partita/core/tensor.hpp"
#include "partita/nn/conv2d.hpp"
#include "partita/nn/parameters.hpp"

namespace partita::nn {

class UpConcatConv2d {
 public:
  /// Gradients of the two inputs, views of member buffers.
  struct Grads {
    const Tensor& a;
    const Tensor& b;
  };

  /// Declares "<name>.weight" (3, 3, a_channels + b_channels, out_channels;
  /// Layout::ConvHWIO) and "<name>.bias" (out_channels), initialised as a
  /// Conv2d with the same spec would be.
  UpConcatConv2d(ParameterSet& params, const std::string& name, std::int64_t a_channels,
                 std::int64_t b_channels, std::int64_t out_channels,
                 WeightInit init = WeightInit::GlorotUniform,
                 std::int64_t column_budget = std::int64_t{1} << 20,
                 ConvAlgorithm algorithm = ConvAlgorithm::Auto);
  ~UpConcatConv2d();
  UpConcatConv2d(UpConcatConv2d&&) noexcept;
  UpConcatConv2d& operator=(UpConcatConv2d&&) noexcept;

  /// y = conv3x3_same(concat(up2(a), b)) + bias, (N, 2S, 2T, Cout). Keeps views
  /// of a and b: their storage must stay alive and unchanged until backward.
  const Tensor& forward(const Tensor& a, const Tensor& b);
  /// Adds dW and dbias into the parameter grads; returns da (N, S, T, Ca) and
  /// db (N, 2S, 2T, Cb).
  Grads backward(const Tensor& dy);

  Parameter& weight() { return *weight_; }
  Parameter& bias() { return *bias_; }
  /// Winograd path: 2x2 output tiles (low-res pixels) per chunk, whole low-res
  /// rows, at least two (default 512; tests use small values for many chunks).
  void set_winograd_chunk_tiles(std::int64_t tiles);
  std::int64_t a_channels() const { return ca_; }
  std::int64_t b_channels() const { return cb_; }
  std::int64_t out_channels() const { return cout_; }

 private:
  std::int64_t k() const { return 4 * ca_ + 9 * cb_; }
  std::int64_t rows_per_chunk() const;
  ConvGeometry winograd_geometry() const;
  void pack_weights();
  void im2col(int phase, std::int64_t r0, std::int64_t r1, float* cols) const;
  void col2im_add(int phase, const float* dcols, std::int64_t r0, std::int64_t r1, float* da,
                  float* db) const;
  void scatter_rows(int phase, const float* p, std::int64_t r0, std::int64_t r1);
  void gather_rows(int phase, const float* dy, std::int64_t r0, std::int64_t r1, float* p) const;
  void run_phase_backward(int phase, const float* dy, std::int64_t r0, std::int64_t r1,
                          float* cols, float* dp, float* dwa, float* dwb, float* da,
                          float* db) const;
  void add_weight_grad(const float* dwa, const float* dwb);

  std::string name_;
  std::int64_t ca_, cb_, cout_, budget_;
  Parameter* weight_ = nullptr;
  Parameter* bias_ = nullptr;
  Tensor a_, b_;  // views of the last forward's inputs
  bool have_x_ = false;
  std::int64_t n_ = 0, s_ = 0, t_ = 0;  // low-res batch, height, width
  Tensor wp_;                           // (4, K, Cout) packed phase weights
  Tensor y_, da_, db_, cols_, pbuf_, dwa_, dwb_;  // dcols reuse cols_
  Tensor dab_;  // per-thread da, db copies (threads beyond the first; few-chunk backward)
  ConvAlgorithm algorithm_;
  std::unique_ptr<detail::Winograd3x3> wino_;
  bool wino_active_ = false;  // the last forward ran Winograd
  std::int64_t wino_chunk_tiles_ = 512;
};

}  // namespace partita::nn
