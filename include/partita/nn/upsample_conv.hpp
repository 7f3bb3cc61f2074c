// UpsampleConv2d: a decoder's "nearest upsample x2, then a k x k convolution"
// as one layer, with the upsampling folded into the convolution.
//
//   y = conv_kxk_stride1_same(up2(x)) + bias
//
// x (N, S, T, Cin) is the low-resolution input, up2 nearest-neighbour
// upsampling, y (N, 2S, 2T, Cout), TensorFlow's "same" padding at stride 1:
// (k - 1) / 2 before, the rest after (1/1 for k = 3, 1/2 for k = 4, the GAN
// generator's decoder). W (k, k, Cin, Cout) HWIO: exactly the parameters
// Conv2d(params, name, Cin, Cout, k, 1, Padding::same()) declares
// ("<name>.weight", OIHW in files, and "<name>.bias", with Conv2d's
// initialisers), so weights move between the two unchanged.
//
// Why: the convolution of a nearest-upsampled image reads each low-res pixel
// several times with weights that only differ by which of 4 output phases
// (py, px) in {0,1}^2 the output pixel (2y + py, 2x + px) is. Along one axis
// (rows; columns alike), with pb = (k - 1) / 2 rows of padding before, output
// row 2y + p reads upsampled rows 2y + p - pb + j for taps j = 0 .. k-1, i.e.
// low-res rows y + d(p, j) with
//
//   d(p, j) = floor((p - pb + j) / 2).
//
// Upsampled rows outside [0, 2S) are exactly low-res rows outside [0, S), so
// the zero padding carries over. As j runs over 0 .. k-1, d(p, j) takes the
// consecutive values off(p) = floor((p - pb) / 2) .. floor((p - pb + k - 1) / 2):
// n(p) low-res taps, and low-res tap t (row y + off(p) + t) has the summed
// weight A[p][t] = sum of W's taps j in R(p, t) = {j : d(p, j) = off(p) + t},
// one or two adjacent taps. upsample_conv_taps() derives these for any k:
//
//   k  pad   phase 0: off, R(0, t)        phase 1: off, R(1, t)    taps/pixel
//   2  0/1    0: {0,1}                     0: {0} {1}               2.25 of 4
//   3  1/1   -1: {0} {1,2}                 0: {0,1} {2}             4    of 9
//   4  1/2   -1: {0} {1,2} {3}             0: {0,1} {2,3}           6.25 of 16
//   5  2/2   -1: {0,1} {2,3} {4}          -1: {0} {1,2} {3,4}       9    of 25
//
// So phase (py, px) is an n(py) x n(px) convolution on the low-res image,
// stride 1, with weights Wp[ty][tx] = sum_{ky in R(py,ty), kx in R(px,tx)}
// W[ky][kx]; for k = 4 the four phases are 3x3, 3x2, 2x3 and 2x2: 6.25 taps
// per output pixel on average instead of 16, 2.56x fewer multiply-adds
// (((n(0) + n(1)) / 2)^2 of k^2 in general), forward and backward, and the
// upsampled image (4x the input) is never stored.
//
// Implementation (as UpConcatConv2d): per phase, an im2col over the output
// pixels of that phase (one row per low-res pixel (n, y, x), K = n(py) n(px)
// Cin columns), one gemm with the packed phase weights Wp (K x Cout, rebuilt
// from W every forward) and a scatter of the phase's rows into y (plus bias).
// Backward gathers dy's phase pixels into dP; dWp += cols^T dP; dcols = dP
// Wp^T and col2im into dx (low-res: the adjoint of up2 is in the tap sums);
// finally every dWp is scattered back onto W's taps (the adjoint of the tap
// sums).
//
// Few output channels (the GAN's head: Cout = 4) make those products thin:
// the gemm computes 32 columns at a time (core/gemm's register tile), so
// N = Cout = 4 costs what N = 32 does, and the four im2cols (25 Cin floats a
// low-res pixel for k = 4) outweigh the product. There the phases are stacked
// instead (UpsampleConvAlgorithm::Stacked): one im2col over the union of the
// phases' windows (3x3 low-res taps for k = 3, 4, 5; K = 9 Cin) and one gemm
// with N = 4 Cout, phase p's weights in columns p Cout .. (p + 1) Cout - 1
// and zero on the taps p does not read (the "sub-pixel convolution" form:
// 9 / 6.25 = 1.44x the multiply-adds of the phases for k = 4, but one column
// tile instead of four and 9 Cin floats of columns a pixel instead of 25).
// Without Winograd (below), Auto picks the form with the fewer multiply-adds
// counted with N rounded up to the gemm's tile: Stacked for Cout <= 16 at
// k = 4 (<= 8 at k = 3), the separate phases above. On the GAN's head (batch 64, 16x64 ->
// 32x128, 128 -> 4 channels) Stacked is 2.9x faster than the phases forward
// and 3.2x forward+backward; on its 64-channel level the phases are 1.7x
// faster forward+backward (benchmarks/bench_upsample_conv).
//
// When the phases' windows together are the 3x3 low-res window centred on the
// pixel (k = 3, 4, 5) the stacked product is a 3x3, stride-1 convolution padded
// by one, Cin -> 4 Cout, and runs as Winograd F(2x2, 3x3) (Conv2d's,
// src/nn/winograd.hpp; UpsampleConvAlgorithm::Winograd): 16 multiply-adds per
// 2x2 low-res tile and Cin x 4 Cout pair, i.e. 16 Cin Cout a low-res pixel
// where the separate phases take 25 (k = 4): 0.64x, forward and backward (its
// backward is the exact gradient of its forward; results differ from the
// phases' by rounding). The stacked weights' gradient goes back onto W's taps
// as above. Auto takes it where it applies and Cin and 4 Cout are at least 16
// (Conv2d's threshold). On the GAN generator's decoder levels at batch 64 it
// is 1.4-1.5x faster than the phases forward+backward, on its head (4 Cout =
// 16) 1.8x faster than the stacked product (benchmarks/bench_upsample_conv).
//
// The work is chunked over low-res rows so one product's column buffer stays
// near `column_budget` floats (a chunk still holds 512 low-res pixels). With
// 2+ threads, forward threads take (chunk, product) items; backward threads
// take whole chunks when there are enough (chunks c and c + 2 touch disjoint
// rows of dx: even chunks, then odd ones), else (chunk, product) items, each
// thread adding into its own copy of dx. Forward results do not depend on the
// thread count; backward ones only through the order of per-thread partial
// sums.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "partita/core/tensor.hpp"
#include "partita/nn/conv2d.hpp"
#include "partita/nn/parameters.hpp"

namespace partita::nn {

/// Along one axis, how output phase p in {0, 1} of a k-tap stride-1 "same"
/// convolution of a x2 nearest-upsampled signal reads the low-res signal:
/// low-res tap t (offset `offset + t` from the output's low-res position)
/// carries the sum of the original taps first[t] .. last[t].
struct UpsampleConvTaps {
  int offset = 0;
  std::vector<int> first, last;
  int count() const { return static_cast<int>(first.size()); }
};

/// The tap sets of the header comment's derivation (kernel >= 1, phase 0 or 1).
UpsampleConvTaps upsample_conv_taps(int kernel, int phase);

/// How UpsampleConv2d computes (see the header comment): the four phases as
/// four products (Phases), the phases stacked as 4 Cout output channels of one
/// product over the union window (Stacked), that stacked product as a Winograd
/// F(2x2, 3x3) convolution (Winograd: kernels 3, 4 and 5, whose union window is
/// 3x3 and centred), or Auto: Winograd where it applies and the channels are
/// many enough, else whichever of the other two costs less. All give the same
/// result up to rounding.
enum class UpsampleConvAlgorithm { Auto, Phases, Stacked, Winograd };

class UpsampleConv2d {
 public:
  /// Declares "<name>.weight" (k, k, in_channels, out_channels; Layout::ConvHWIO)
  /// and "<name>.bias" (out_channels), initialised as
  /// Conv2d(params, name, in_channels, out_channels, kernel) with `init` would be
  /// (Conv2dSpec's default init is GlorotUniform, Keras' default).
  UpsampleConv2d(ParameterSet& params, const std::string& name, std::int64_t in_channels,
                 std::int64_t out_channels, int kernel,
                 WeightInit init = WeightInit::GlorotUniform,
                 std::int64_t column_budget = std::int64_t{1} << 20);
  ~UpsampleConv2d();
  UpsampleConv2d(UpsampleConv2d&&) noexcept;

  /// y = conv_kxk_same(up2(x)) + bias, (N, 2S, 2T, Cout). Keeps a view of x:
  /// its storage must stay alive and unchanged until backward.
  const Tensor& forward(const Tensor& x);
  /// Adds dW and dbias into the parameter grads; returns dx (N, S, T, Cin),
  /// or an empty tensor when the input gradient is disabled.
  const Tensor& backward(const Tensor& dy);

  /// The first layer of a network needs no dx: set false to skip computing it.
  void set_input_grad(bool enabled) { input_grad_ = enabled; }
  /// Choose the algorithm (default Auto) for the next forward; a backward
  /// needs a forward after this call.
  void set_algorithm(UpsampleConvAlgorithm algorithm);
  /// The algorithm in use: Phases, Stacked or Winograd (Auto resolved).
  UpsampleConvAlgorithm algorithm() const {
    return winograd_ ? UpsampleConvAlgorithm::Winograd
                     : stacked_ ? UpsampleConvAlgorithm::Stacked : UpsampleConvAlgorithm::Phases;
  }

  /// (N, 2S, 2T, Cout) for an input (N, S, T, Cin); ShapeError otherwise.
  Shape output_shape(const Shape& input) const;
  Parameter& weight() { return *weight_; }
  Parameter& bias() { return *bias_; }
  std::int64_t in_channels() const { return cin_; }
  std::int64_t out_channels() const { return cout_; }
  int kernel() const { return k_; }

 private:
  // A product: the low-res window it reads (offsets oy, ox of its first taps,
  // ny x nx taps), K = ny nx Cin, and its N output columns: one phase
  // (N = Cout) or, stacked, all four (N = 4 Cout, phase p at columns p Cout).
  struct Product {
    int oy = 0, ny = 0, ox = 0, nx = 0;
    int phase = 0;  // the phase, or -1: all four, stacked
    std::int64_t k = 0, n = 0;
    std::int64_t w_off = 0;  // offset of its packed (K x N) weights in wp_ and dwp_
  };
  void plan(bool stacked);
  std::int64_t rows_per_chunk() const;
  void check_input(const Shape& input, const std::string& who) const;
  void pack_weights();
  void im2col(const Product& pr, std::int64_t r0, std::int64_t r1, float* cols) const;
  void col2im_add(const Product& pr, const float* dcols, std::int64_t r0, std::int64_t r1,
                  float* dx) const;
  void scatter_rows(const Product& pr, const float* p, std::int64_t r0, std::int64_t r1);
  void gather_rows(const Product& pr, const float* dy, std::int64_t r0, std::int64_t r1,
                   float* p) const;
  void run_backward(const Product& pr, const float* dy, std::int64_t r0, std::int64_t r1,
                    float* cols, float* dp, float* dwp, float* dx) const;
  void add_weight_grad(const float* dwp);

  std::string name_;
  std::int64_t cin_, cout_, budget_;
  int k_;
  UpsampleConvTaps taps_[2];  // per phase along one axis (rows and columns alike)
  int reach_lo_ = 0, reach_hi_ = 0;  // low-res offsets the phases read, together
  bool stacked_ = false;
  bool winograd_ = false;  // stacked, run as Winograd F(2x2, 3x3)
  Product products_[4];
  int n_products_ = 0;
  std::int64_t wp_size_ = 0;  // sum of K * N over the products
  std::int64_t k_max_ = 0, n_max_ = 0;
  Parameter* weight_ = nullptr;
  Parameter* bias_ = nullptr;
  bool input_grad_ = true;
  Tensor x_;  // view of the last forward's input
  bool have_x_ = false;
  std::int64_t n_ = 0, s_ = 0, t_ = 0;  // low-res batch, height, width
  Tensor wp_;                           // packed product weights
  Tensor y_, dx_, cols_, pbuf_, dwp_;   // dcols reuse cols_
  Tensor dxpart_;  // per-thread dx copies (threads beyond the first; few-chunk backward)
  std::unique_ptr<detail::Winograd3x3> wino_;
  ConvGeometry wino_geometry() const;  // the stacked 3x3 convolution on the current input
};

}  // namespace partita::nn
