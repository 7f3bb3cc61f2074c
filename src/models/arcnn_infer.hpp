// The AR-CNN U-Net evaluated for editing: batch 1, eval mode, incremental
// (private to src/models; ARCNN::edit_roll uses it).
//
// The editor evaluates the network once per sampling step on a roll that
// differs from the previous one in a single cell. This engine computes the
// same function as ArcnnImpl::forward in eval mode (dropout off, BatchNorm on
// its running statistics), restructured so that it does less work:
//
// - Eval-mode BatchNorm is a per-channel affine map a*x + b; every BatchNorm
//   of the U-Net feeds a convolution, so a is folded into that convolution's
//   weights and b into its bias. With zero padding the folded constant only
//   reaches the taps inside the image, so the bias depends on whether an
//   output pixel lies on the first/last row/column (nn/infer_conv.hpp's classes).
// - A decoder's first convolution reads concat(upsample2(h), skip). The part
//   on the upsampled channels is, for each of the four output phases, a 2x2
//   convolution of the low-resolution h with summed weights (4 taps instead of
//   9: along one axis output row 2y reads low rows y-1 (w0) and y (w1 + w2),
//   row 2y+1 reads y (w0 + w1) and y+1 (w2)). The part on the skip channels is
//   kept in a cache (with all biases) and only refreshed where the skip changed.
// - A changed input cell changes the encoder only in a small neighbourhood
//   (two 3x3 convolutions widen it by 2 pixels per level, pooling halves it),
//   so the encoder and the decoder's skip parts are recomputed on rectangles.
//   The bottleneck sees the whole roll, so it and the decoder's upsampled
//   paths are recomputed whole. A rectangle is computed by exactly the
//   operations of a full pass, so the logits are bit-identical to recomputing
//   everything (a test checks it).
// - Convolutions run directly on zero-padded NHWC buffers (no column matrix),
//   threads in a spin-then-sleep Team (core/thread_team.hpp).
//
// Per step of the shipped model this is about 0.77 GFLOP instead of 1.74.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <vector>

#include "core/thread_team.hpp"
#include "nn/infer_conv.hpp"

namespace partita::models {

namespace infer = ::partita::nn::infer;  // the batch-1 convolution kernels (src/nn/infer_conv.hpp)

struct ArcnnImpl;

class ArcnnInference {
 public:
  /// Fold and pack the weights of `impl` (read from its layers) for rolls of
  /// `steps` x `pitches` (multiples of 2^levels), on `threads` threads.
  ArcnnInference(ArcnnImpl& impl, std::int64_t steps, std::int64_t pitches, int threads);
  ~ArcnnInference();

  /// Logits (steps x pitches, row-major) of the roll x (steps x pitches floats,
  /// any values). Recomputes only what changed since the previous call when
  /// few cells differ (`max_incremental` cells), everything otherwise.
  const float* logits(const float* x);
  /// Forget the previous input: the next call recomputes everything.
  void reset() { have_ = false; }

  std::int64_t full_passes() const { return full_passes_; }
  std::int64_t incremental_passes() const { return incremental_passes_; }
  int max_incremental = 16;

 private:
  struct Rect {
    std::int64_t y0 = 0, y1 = 0, x0 = 0, x1 = 0;
    bool empty() const { return y0 >= y1 || x0 >= x1; }
  };
  struct Grid {  // a zero-padded NHWC buffer of h x w pixels, c (padded) channels
    std::int64_t h = 0, w = 0, c = 0;
    std::vector<float> data;
    float* at(std::int64_t y, std::int64_t x) { return data.data() + ((y + 1) * (w + 2) + x + 1) * c; }
    std::int64_t row() const { return (w + 2) * c; }
  };
  struct Conv {  // one packed convolution (or one phase of a decoder's upsampled part)
    infer::ConvJob job;
    std::vector<float> wpack, bias_classes;
  };

  static Conv same3(Grid& in, std::int64_t cp, const std::vector<std::vector<float>>& rows,
                    std::vector<float> biases);
  void run_full();
  void decoder(const std::vector<Rect>& pre_rect);
  void run_incremental(Rect changed);
  // The convolutions of one step (no allocation: called ~20 times per network pass).
  void conv_parallel(std::initializer_list<Conv*> convs, Rect r);
  void pool(int level, Rect r);
  void head(Rect r);

  int levels_;
  std::int64_t steps_, pitches_;
  core::Team team_;
  Grid x_;
  std::vector<Grid> e1_, skip_, pooled_, c1_, c2_;
  Grid m1_, m2_;
  std::vector<std::vector<float>> pre_;  // decoder skip parts (+ biases), unpadded
  std::vector<Conv> enc1_, enc2_, pre_conv_, dec2_;
  std::vector<std::vector<Conv>> up_;  // [level][phase]
  Conv mid1_, mid2_;
  std::vector<float> head_w_;
  float head_b_ = 0.0f;
  std::int64_t head_c_ = 0;
  std::vector<float> logits_, last_x_;
  bool have_ = false;
  std::int64_t full_passes_ = 0, incremental_passes_ = 0;
};

}  // namespace partita::models
