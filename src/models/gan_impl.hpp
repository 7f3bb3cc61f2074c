// Private: the GAN's two networks (shared by gan*.cpp, not installed).
#pragma once
#include <memory>
#include <vector>

#include "partita/models/gan.hpp"
#include "partita/nn/activations.hpp"
#include "partita/nn/batchnorm.hpp"
#include "partita/nn/concat.hpp"
#include "partita/nn/conv2d.hpp"
#include "partita/nn/gradient_penalty.hpp"
#include "partita/nn/linear.hpp"
#include "partita/nn/upsample_conv.hpp"
#include "models/gan_infer.hpp"

namespace partita::models {

/// G(c, z): the U-Net of gan.hpp. The decoder's "Upsample x2, Conv 4x4" pairs
/// are nn::UpsampleConv2d (the upsampling folded into the convolution: 2.56x
/// fewer multiply-adds, the upsampled tensor never stored); their parameters are
/// those of the plain composition.
class GanGenerator {
 public:
  GanGenerator(nn::ParameterSet& params, const GanConfig& c);
  void set_training(bool t);
  bool training() const { return training_; }
  /// A training-mode forward updates the BatchNorm running statistics, so it
  /// changes the parameter set's version (nn::ParameterSet::version).
  const Tensor& forward(const Tensor& melody, const Tensor& z);
  /// d loss / d output -> parameter gradients (the inputs' gradients are not needed).
  void backward(const Tensor& dy);

 private:
  friend class GanInference;  // packs the layers' weights (gan_infer.hpp)
  struct Down {
    std::unique_ptr<nn::Conv2d> conv;
    nn::LeakyReLU act;
    std::unique_ptr<nn::BatchNorm> bn;  // none on level 0
    Tensor dsum;                        // gradient of the output: next level + skip
  };
  struct Up {
    std::unique_ptr<nn::UpsampleConv2d> conv;
    std::unique_ptr<nn::BatchNorm> bn;
    nn::ReLU act;
    nn::ConcatChannels cat;
  };
  nn::ParameterSet* params_;
  bool training_ = true;
  GanConfig c_;
  std::vector<Down> enc_;
  nn::ConcatChannels zcat_;
  std::vector<Up> dec_;
  std::unique_ptr<nn::UpsampleConv2d> out_;
  nn::Tanh tanh_;
  std::vector<const Tensor*> enc_out_;
  Tensor input_;  // the melody and its pitch classes (config.melody_chroma)
};

/// D(x | c) with the condition c held inside (set_condition), so that it is an
/// nn::Critic for the gradient penalty: d/dx is for the x channels only.
class GanCritic final : public nn::Critic {
 public:
  GanCritic(nn::ParameterSet& params, const GanConfig& c);
  /// The melody batch (n, steps, pitches, 1) the next forwards are conditioned on
  /// (a view is kept: its storage must stay alive).
  void set_condition(const Tensor& melody);
  /// Whether backward() computes d/dx (the gradient penalty and the generator
  /// step need it; the critic's own Wasserstein step does not).
  void set_input_grad(bool on) { input_grad_ = on; }
  void set_parameter_grad(bool on) override;

  const Tensor& forward(const Tensor& x) override;
  const Tensor& backward(const Tensor& dscores) override;
  const Tensor& forward_tangent(const Tensor& u) override;
  void backward_tangent(const Tensor& dscores) override;

 private:
  GanConfig c_;
  Tensor cond_, zeros_, cond_own_;
  nn::ConcatChannels cat_;
  std::vector<std::unique_ptr<nn::Conv2d>> conv_;
  std::vector<nn::LeakyReLU> act_;
  std::vector<nn::ActivationSlopes> slopes_;
  std::unique_ptr<nn::Linear> fc_;
  nn::GradSnapshot biases_;
  Shape last_shape_;
  Tensor flat_, t_, d_, empty_;
  std::vector<Tensor> tk_;
  bool input_grad_ = true;
  // The last backward's gradients at the activations' inputs (the LeakyReLUs'
  // own buffers), which forward, and for which scores: backward_tangent on the
  // same forward with the same scores gradient reuses them (the linearisation's
  // backward chain is the same chain: same weights, same slopes).
  std::uint64_t forwards_ = 0, deltas_of_ = 0;
  const Tensor* deltas_[4] = {};
  std::vector<float> delta_scores_;
};

struct GanImpl {
  GanImpl(const GanConfig& config, std::uint64_t seed, bool allocate = true);
  void set_training(bool t);

  GanConfig config;
  nn::ParameterSet gparams, cparams;
  std::unique_ptr<GanGenerator> gen;
  std::unique_ptr<GanCritic> critic;
  nn::GradientPenalty gp;
  bool training = true;
  bool has_critic = true;
  /// The one-window engine (gan_infer.hpp) for the current weights, packed on
  /// first use and again when the weights' version or the thread count has
  /// changed; nullptr (the caller runs the layers) while training and while
  /// numpy views of the generator's weights are alive
  /// (nn::ParameterSet::live_views).
  GanInference* inference();
  std::unique_ptr<GanInference> engine;
  std::uint64_t engine_version = 0;
  /// Set false to always run the layers (tests compare the two paths).
  bool use_engine = true;
  Tensor engine_out;
  std::int64_t engine_packs = 0;
  bool engine_used = false;
  Tensor melody_, fake_, xhat_, dscore_;
};

/// The generator's input and the critic's condition for melodies (n, s, p, 1):
/// with config.melody_chroma, (n, s, p, 2): the melody, then +1 at every pitch row
/// whose pitch class (row mod 12) the melody sounds (> 0) at that step, -1 elsewhere.
void melody_input(const Tensor& melody, Tensor& out);

/// pc[k]: whether a pitch row of class k (row mod 12) sounds (> 0) in one step's
/// `pitches` melody values (melody_input's second channel; the one-window engine's too).
inline void sounding_pitch_classes(const float* row, std::int64_t pitches, bool (&pc)[12]) {
  for (bool& b : pc) b = false;
  for (std::int64_t p = 0; p < pitches; ++p) pc[p % 12] = pc[p % 12] || row[p] > 0.0f;
}

/// Channel `ch` of a model-layout batch (n, s, p, C) as (n, s, p, 1).
void extract_channel(const Tensor& x, std::int64_t ch, Tensor& out);

}  // namespace partita::models
