// The GAN generator evaluated for accompaniment: one window at a time, eval
// mode, weights packed once (private to src/models; GAN::generate and
// GAN::accompany use it).
//
// It computes the same function as GanGenerator::forward in eval mode
// (BatchNorm on its running statistics), restructured for one window:
//
// - Convolutions run directly on zero-padded NHWC buffers (nn/infer_conv.hpp:
//   no column matrix, weights packed once into the kernel's blocks), on a
//   spin-then-sleep thread team (core/thread_team.hpp); the layer path instead
//   builds column matrices and packs every weight matrix again at every call,
//   which at one window costs as much as the products themselves.
// - An encoder block (Conv 4x4 stride 2, LeakyReLU, BatchNorm) is one job: the
//   stride is the kernel's pixel step (two pixels), the activation and the
//   BatchNorm's per-channel affine map are the kernel's epilogue.
// - A decoder block (nearest upsample x2, Conv 4x4, BatchNorm, ReLU) is four
//   jobs, one per output phase, each a 3x3, 3x2, 2x3 or 2x2 convolution of the
//   low-resolution input with summed taps (nn/upsample_conv.hpp derives them),
//   with the BatchNorm folded into the weights and bias; its output and the
//   matching encoder output are stored side by side, the concatenation the
//   next block reads.
// - The head (upsample x2, Conv 4x4 to `tracks` channels, tanh) has too few
//   outputs for a 16-wide vector per phase, so the four phases are stacked as
//   4 x tracks output channels of one 3x3 convolution over the union of their
//   windows (zero weights on the taps a phase does not read); tanh and the
//   interleaving into the (steps, pitches, tracks) layout follow.
//
// - Each job's segments skip the output rows for which they would read only
//   the buffers' zero padding (nn::infer::ConvShape::y_from / y_to): at the
//   bottleneck's 2 x 8 pixels a 3-row window reads a padding row for every
//   output row, and the decoder's first block does about 30 % fewer
//   multiply-adds.
//
// Results equal the layer path's up to float rounding (another summation
// order, the folded BatchNorm); tests compare the two.
#pragma once
#include <cstdint>
#include <vector>

#include "core/thread_team.hpp"
#include "nn/infer_conv.hpp"

namespace partita::models {

class GanGenerator;

class GanInference {
 public:
  /// Pack the weights of `gen` (eval mode: BatchNorm running statistics) for
  /// windows of config.steps x config.pitches, on `threads` threads; with
  /// bfloat16 = true (which needs nn::infer::bf16_kernel_available()) the
  /// activations and weights are bfloat16 and the sums float32 (the opt-in
  /// precision of core/gemm.hpp), the head's output float32.
  GanInference(GanGenerator& gen, int threads, bool bfloat16 = false);
  ~GanInference();
  GanInference(const GanInference&) = delete;
  GanInference& operator=(const GanInference&) = delete;

  /// Pack the weights of `gen` again (the same architecture), into the buffers
  /// of the previous pack.
  void repack(GanGenerator& gen);

  /// G(c, z) for one window: melody (steps x pitches floats), z (steps / 16 x
  /// pitches / 16 x latent floats), out (steps x pitches x tracks floats).
  void run(const float* melody, const float* z, float* out);

  int threads() const { return team_.size(); }
  bool bfloat16() const { return bf16_; }

 private:
  struct Grid {  // a zero-padded NHWC buffer of h x w pixels, c (stored) channels
    std::int64_t h = 0, w = 0, c = 0;
    std::vector<float> data;
    std::vector<std::uint16_t> d16;  // the same buffer in bfloat16 (bfloat16 mode)
    float* at(std::int64_t y, std::int64_t x) { return data.data() + ((y + 1) * (w + 2) + x + 1) * c; }
    std::uint16_t* at16(std::int64_t y, std::int64_t x) { return d16.data() + ((y + 1) * (w + 2) + x + 1) * c; }
    std::int64_t row() const { return (w + 2) * c; }
  };
  struct Conv {  // one packed job (its float32 form gives the geometry in both modes)
    nn::infer::ConvJob job;
    std::vector<float> wpack, bias_classes, scale, shift;
    nn::infer::ConvJobBf16 job16;       // bfloat16 mode
    std::vector<std::uint16_t> wpack16;
  };

  void build(GanGenerator& gen);  // layers_ from the generator's weights
  void to_bfloat16();             // layers_' jobs as bfloat16 jobs on the grids' d16
  std::uint16_t* word_of(const float* p);
  std::vector<float> recycled();   // the next buffer of the previous pack (repack), or none
  void run_jobs(std::vector<Conv>& convs);
  void copy_skip(Grid& from, Grid& to, std::int64_t offset);

  std::int64_t steps_, pitches_, tracks_, latent_;
  bool bf16_;
  core::Team team_;
  Grid x_;
  std::vector<Grid> enc_;  // outputs of encoder blocks 0..2
  Grid bott_;              // encoder block 3's output and z, side by side
  std::vector<Grid> dec_;  // outputs of decoder blocks 0..2 and their skips, side by side
  std::int64_t z_offset_ = 0, head_c_ = 0;
  std::vector<std::int64_t> skip_offset_;  // where dec_[j]'s skip channels start
  std::vector<std::vector<Conv>> layers_;  // encoder 0..3, decoder 0..2, head
  std::vector<float> head_;                // (steps / 2) x (pitches / 2) x head_c_
  std::vector<std::vector<float>> recycled_;
  std::size_t next_recycled_ = 0;
};

}  // namespace partita::models
