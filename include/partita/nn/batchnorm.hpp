// BatchNorm: batch normalisation over the last (channel) axis of NHWC
// activations, as Keras BatchNormalization (axis -1) and PyTorch BatchNorm2d.
//
// Per channel c, over all M = N*H*W positions:
//   training:  mu = mean(x), var = mean((x - mu)^2) (biased),
//              y = gamma * (x - mu) / sqrt(var + eps) + beta,
//              running stats move towards (mu, var * M / (M - 1)) (see below);
//   eval:      the same with the running mean / variance.
// Backward (training), with xhat = (x - mu) * istd and istd = 1/sqrt(var + eps):
//   dbeta  += sum dy,  dgamma += sum dy * xhat,
//   dx = gamma * istd * (dy - mean(dy) - xhat * mean(dy * xhat)),
// since mu and var depend on x; in eval mode the statistics are constants and
// dx = gamma * istd * dy.
//
// Running statistics: Keras writes moving = m * moving + (1 - m) * batch
// (m = 0.99 by default, 0.8 in the GAN, eps 1e-3); PyTorch writes
// running = (1 - m) * running + m * batch (m = 0.1, eps 1e-5). Both update the
// variance with Bessel's correction (PyTorch always; Keras through TF's fused
// batch norm), which `unbiased_running_var` controls. Parameters are named as
// PyTorch's state_dict: "<name>.weight" (gamma), "<name>.bias" (beta),
// "<name>.running_mean", "<name>.running_var" (the last two non-trainable).
// PyTorch's integer `num_batches_tracked` buffer is not stored.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "partita/core/tensor.hpp"
#include "partita/nn/parameters.hpp"

namespace partita::nn {

struct BatchNormSpec {
  enum class Convention { Keras, Torch };
  Convention convention = Convention::Keras;
  float momentum = 0.99f;
  float eps = 1e-3f;
  bool unbiased_running_var = true;

  static BatchNormSpec keras(float momentum = 0.99f, float eps = 1e-3f) {
    return {Convention::Keras, momentum, eps, true};
  }
  static BatchNormSpec torch(float momentum = 0.1f, float eps = 1e-5f) {
    return {Convention::Torch, momentum, eps, true};
  }
  /// Weight of the current batch's statistic in the running average.
  float batch_weight() const { return convention == Convention::Keras ? 1.0f - momentum : momentum; }
};

/// Eval-mode batch normalisation as a per-channel affine map y = a[c] * x + b[c]
/// (a = gamma / sqrt(running_var + eps), b = beta - running_mean * a), in double:
/// what an inference engine folds into the convolution that reads the output.
struct ChannelAffine {
  std::vector<double> a, b;
  /// The identity map over `channels` channels (a = 1, b = 0).
  static ChannelAffine identity(std::int64_t channels);
};

/// The eval-mode affine map of BatchNorm parameters (gamma, beta, running mean
/// and variance, all of one size). InvalidArgument if the sizes differ.
ChannelAffine batchnorm_eval_affine(const Parameter& gamma, const Parameter& beta, const Parameter& running_mean,
                                    const Parameter& running_var, float eps);

class BatchNorm {
 public:
  BatchNorm(ParameterSet& params, const std::string& name, std::int64_t channels,
            BatchNormSpec spec = BatchNormSpec::keras());

  void set_training(bool training) { training_ = training; }
  bool training() const { return training_; }

  /// x: (..., C). Keeps a view of x's data: the storage must stay alive and
  /// unchanged until backward.
  /// In training mode also updates the running statistics.
  const Tensor& forward(const Tensor& x);
  /// Adds dgamma, dbeta into the grads; returns dx (for the mode forward ran in).
  const Tensor& backward(const Tensor& dy);

  const BatchNormSpec& spec() const { return spec_; }
  Parameter& weight() { return *gamma_; }
  Parameter& bias() { return *beta_; }
  Parameter& running_mean() { return *rmean_; }
  Parameter& running_var() { return *rvar_; }
  /// This layer in eval mode as y = a * x + b per channel (its running statistics).
  ChannelAffine eval_affine() const;

 private:
  BatchNormSpec spec_;
  std::string name_;
  std::int64_t c_;
  bool training_ = true;
  bool fwd_training_ = true;
  Parameter *gamma_, *beta_, *rmean_, *rvar_;
  Tensor x_;  // view of the last forward's input
  bool have_x_ = false;
  std::vector<float> mean_, istd_;  // the statistics forward used
  Tensor y_, dx_;
};

}  // namespace partita::nn
