// Conv2d: 2-D convolution over NHWC activations, the workhorse of the AR-CNN
// U-Net and of the GAN's generator and critic.
//
// Input x is (N, H, W, Cin); the weight is stored HWIO (kh, kw, Cin, Cout) in
// memory (OIHW in weight files, as PyTorch's nn.Conv2d; see nn::Layout), the
// bias is (Cout). Output y is (N, Ho, Wo, Cout) with
//
//   y[n, oy, ox, co] = b[co] + sum_{ky, kx, ci} x[n, oy*sh - pt + ky, ox*sw - pl + kx, ci]
//                                               * w[ky, kx, ci, co]
//
// (out-of-range input pixels read as zero). Padding is TensorFlow "same"
// (total = max((ceil(in/s) - 1)*s + k - in, 0), `total/2` before and the rest
// after: 1/1 for 3x3 stride 1 and for 4x4 stride 2 on even sizes, 1/2 for 4x4
// stride 1), "valid" (none) or explicit amounts.
//
// The fast path is im2col + partita::gemm. In NHWC every output pixel's patch
// is kh*kw contiguous runs of Cin floats (one run of kw*Cin when the stride is
// 1), gathered into a column matrix of K = kh*kw*Cin columns, one row per
// output pixel; then Y = cols * W with W viewed as a (K x Cout) row-major
// matrix. Backward: dW += cols^T * dY, db += column sums of dY, and
// dX = col2im(dY * W^T). The batch is processed in chunks of output rows so
// the column buffer stays within `column_budget` floats (AR-CNN's full
// 32 x 128 x 128 x 288 column matrix would be 600 MB); columns are rebuilt in
// backward rather than kept, unless the whole batch fit in one chunk (the deep,
// small layers), whose columns backward reuses. 1x1 stride-1 unpadded
// convolutions skip im2col.
// 3x3 stride-1 convolutions padded by one on every side (the AR-CNN's) take
// another path by default: Winograd F(2x2, 3x3) (src/nn/winograd.hpp), 2.25x
// fewer multiply-adds, forward and backward (see ConvAlgorithm); 4x4 stride-2
// convolutions padded by one before (the GAN's encoder and critic) Winograd
// F(2x2, 2x2) on the input's row and column parity streams
// (src/nn/winograd_s2.hpp), 1.78x fewer.
// A direct-loop reference (double accumulation) lives beside it for tests.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "partita/core/tensor.hpp"
#include "partita/nn/parameters.hpp"

namespace partita::nn {

namespace detail {
class Winograd3x3;
class WinogradS2;
}

/// Spatial padding of a convolution.
struct Padding {
  enum class Mode { Same, Valid, Explicit };
  Mode mode = Mode::Same;
  int top = 0, bottom = 0, left = 0, right = 0;  // used by Explicit

  /// TensorFlow "same": output size ceil(in / stride), extra padding after.
  static Padding same() { return {}; }
  /// No padding: output size floor((in - k) / stride) + 1.
  static Padding valid() { return {Mode::Valid, 0, 0, 0, 0}; }
  /// Explicit amounts (PyTorch's `padding=` is explicit(p, p, p, p)).
  static Padding explicit_amounts(int top, int bottom, int left, int right) {
    return {Mode::Explicit, top, bottom, left, right};
  }
};

/// TensorFlow "same" padding along one axis: before = total / 2, after = rest.
void same_padding(std::int64_t in, int kernel, int stride, int& before, int& after);

/// Everything needed to index one convolution on one input size.
struct ConvGeometry {
  std::int64_t n = 0, h = 0, w = 0, cin = 0;  // input
  std::int64_t ho = 0, wo = 0, cout = 0;      // output
  int kh = 1, kw = 1, sh = 1, sw = 1;         // kernel, stride
  int pt = 0, pb = 0, pl = 0, pr = 0;         // padding top/bottom/left/right
  std::int64_t k() const { return static_cast<std::int64_t>(kh) * kw * cin; }  // patch length
};

/// Resolve the geometry for input shape (N, H, W, Cin); throws ShapeError if the
/// input is too small for the kernel or has the wrong channel count.
ConvGeometry conv_geometry(const Shape& input, std::int64_t cin, std::int64_t cout, int kh, int kw,
                           int sh, int sw, const Padding& padding, const char* who);

/// How a convolution's weights are initialised (biases start at zero, except
/// TorchDefault, which draws them like PyTorch: U(+-1/sqrt(fan_in))).
enum class WeightInit { GlorotUniform, HeNormal, TorchDefault };

/// How Conv2d computes. Auto: Winograd where it applies and the channels are
/// many enough, im2col + gemm otherwise: F(2x2, 3x3) for 3x3, stride-1
/// convolutions padded 1 on every side (both channel counts at least 16),
/// F(2x2, 2x2) on the parity streams for 4x4, stride-2 convolutions padded 1
/// before (both channel counts at least 16: below, e.g. the GAN critic's first
/// layer with 6 input channels, im2col is as fast forward and faster backward). Winograd's results differ from
/// im2col's by rounding only (relative error ~1e-6 of the largest terms); its
/// backward is the exact gradient of its forward. Winograd on a convolution
/// it does not apply to throws InvalidArgument at forward.
enum class ConvAlgorithm { Auto, Im2col, Winograd };

struct Conv2dSpec {
  std::int64_t in_channels = 1, out_channels = 1;
  int kernel_h = 3, kernel_w = 3;
  int stride_h = 1, stride_w = 1;
  Padding padding = Padding::same();
  bool bias = true;
  WeightInit init = WeightInit::GlorotUniform;  // Keras' default
  /// Target size of the im2col buffer, in floats; a chunk still holds at least
  /// 512 output pixels (whole output rows) so the GEMM's M stays long. 256K
  /// floats = 1 MB, the size of a Zen 4 core's L2, where the columns stay hot
  /// between im2col and the product (docs/performance.md has the measurements).
  std::int64_t column_budget = std::int64_t{1} << 18;
  ConvAlgorithm algorithm = ConvAlgorithm::Auto;
  /// Winograd: 2x2 output tiles per chunk (whole tile rows, at least one).
  std::int64_t winograd_chunk_tiles = 512;
};

/// The initialisers Conv2d gives "<name>.weight" and "<name>.bias" for `spec`
/// (layers that declare a Conv2d's parameters themselves, such as
/// UpsampleConv2d, use them so the same seed gives the same values).
Initializer conv2d_weight_init(const Conv2dSpec& spec);
Initializer conv2d_bias_init(const Conv2dSpec& spec);

class Conv2d {
 public:
  /// Declares "<name>.weight" (kh, kw, in, out; Layout::ConvHWIO) and, with a
  /// bias, "<name>.bias" (out).
  Conv2d(ParameterSet& params, const std::string& name, const Conv2dSpec& spec);
  /// Square kernel and stride.
  Conv2d(ParameterSet& params, const std::string& name, std::int64_t in_channels,
         std::int64_t out_channels, int kernel, int stride = 1, Padding padding = Padding::same(),
         bool bias = true);
  ~Conv2d();
  Conv2d(Conv2d&&) noexcept;
  Conv2d& operator=(Conv2d&&) noexcept;

  /// y = conv(x). Keeps a view of x's data: the storage must stay alive and
  /// unchanged until backward.
  const Tensor& forward(const Tensor& x);
  /// Adds dW (and db) into the parameter grads; returns dx (unless disabled).
  const Tensor& backward(const Tensor& dy);

  /// The first layer of a network needs no dx: set false to skip computing it
  /// (backward then returns an empty tensor).
  void set_input_grad(bool enabled) { input_grad_ = enabled; }
  /// Whether backward() adds dW and db (default on). Off, backward only returns dx
  /// (a critic's input gradient in the gradient penalty, whose parameter
  /// gradients are not wanted): the im2col and the dW product are skipped.
  void set_weight_grad(bool enabled) { weight_grad_ = enabled; }

  Shape output_shape(const Shape& input) const;
  const Conv2dSpec& spec() const { return spec_; }
  Parameter& weight() { return *weight_; }
  Parameter* bias() { return bias_; }

 private:
  void im2col(const float* x, const ConvGeometry& g, std::int64_t r0, std::int64_t r1, float* cols);
  void col2im_add(const float* dcols, const ConvGeometry& g, std::int64_t r0, std::int64_t r1,
                  float* dx);
  std::int64_t rows_per_chunk(const ConvGeometry& g) const;
  bool is_pointwise(const ConvGeometry& g) const;

  Conv2dSpec spec_;
  std::string name_;
  Parameter* weight_ = nullptr;
  Parameter* bias_ = nullptr;
  bool input_grad_ = true;
  bool weight_grad_ = true;
  Tensor x_;                   // view of the last forward's input
  bool have_x_ = false;
  bool cols_hold_all_ = false;  // one chunk: forward's columns are reused by backward
  ConvGeometry geom_;
  Tensor y_, dx_, cols_, dcols_;
  Tensor dw_part_;  // per-thread weight-gradient partials (parallel backward)
  std::unique_ptr<detail::Winograd3x3> wino_;
  std::unique_ptr<detail::WinogradS2> wino_s2_;
  bool wino_active_ = false;     // the last forward ran Winograd F(2x2, 3x3)
  bool wino_s2_active_ = false;  // ... or F(2x2, 2x2) on the stride-2 streams
};

/// Direct-loop reference convolution (double accumulation, single thread).
/// w is HWIO (kh, kw, cin, cout); b may be null. y is resized.
void conv2d_reference_forward(const Tensor& x, const Tensor& w, const Tensor* b,
                              const ConvGeometry& g, Tensor& y);
/// Reference backward: dx is resized and overwritten; dw (and db if non-null)
/// are accumulated into.
void conv2d_reference_backward(const Tensor& x, const Tensor& w, const Tensor& dy,
                               const ConvGeometry& g, Tensor& dx, Tensor& dw, Tensor* db);

}  // namespace partita::nn
