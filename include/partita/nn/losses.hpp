// Losses: a value and its gradient with respect to the network's outputs.
//
// Each loss is a small class in the engine's style: `forward(...)` returns the
// (batch-averaged) loss and caches what the gradient needs; `backward(scale)`
// returns the gradient w.r.t. the outputs, multiplied by `scale` (the weight of
// this loss in a sum), in a member buffer that is reused across calls. Sums are
// accumulated in double; log-softmax uses the max-shift (log-sum-exp) trick.
//
// KLDivergenceLoss (AR-CNN): the first axis is the batch; every sample's remaining
// cells (time x pitch x channels, 16,384 for the reference) form one distribution.
//   q_i = label_i / sum(label)            (the target: the cells to toggle, normalised)
//   log p_i = z_i - logsumexp(z)          (softmax of the logits z over all cells)
//   KL_n = sum_i q_i (log q_i - log p_i)  (0 log 0 = 0)
//   loss = (1/N) sum_n KL_n,   dloss/dz_i = (p_i - q_i) / N
// Labels must be non-negative. A sample whose label is all zero has no target
// distribution: it contributes 0 to the loss and 0 to the gradient (and still
// counts in N). This equals PyTorch's
//   F.kl_div(F.log_softmax(z.flatten(1), 1), q.flatten(1), reduction="batchmean").
//
// BCEWithLogitsLoss: mean over all elements of
//   l = max(z, 0) - z y + log(1 + exp(-|z|)),   dl/dz = (sigmoid(z) - y) / numel
// (torch.nn.BCEWithLogitsLoss, reduction "mean").
//
// Wasserstein losses (WGAN), over critic scores of any shape (usually (N, 1)):
//   critic:    mean D(fake) - mean D(real);  d/dD(fake) = 1/N_fake, d/dD(real) = -1/N_real
//   generator: -mean D(fake);                d/dD(fake) = -1/N_fake
#pragma once
#include <vector>

#include "partita/core/tensor.hpp"

namespace partita::nn {

class KLDivergenceLoss {
 public:
  /// logits and label have the same shape (N, ...) with N >= 1. ShapeError if not;
  /// InvalidArgument on a negative or non-finite label.
  float forward(const Tensor& logits, const Tensor& label);
  /// d loss / d logits (same shape as logits), times `scale`.
  const Tensor& backward(float scale = 1.0f);
  /// Per-sample KL divergences of the last forward (N values).
  const std::vector<double>& per_sample() const { return per_sample_; }
  /// softmax(logits) per sample, from the last forward (same shape as logits).
  const Tensor& probabilities() const { return prob_; }

 private:
  Tensor prob_, target_, grad_;
  std::vector<double> per_sample_;
  std::vector<char> empty_;  // per sample: label all zero
  std::int64_t batch_ = 0;
};

class BCEWithLogitsLoss {
 public:
  float forward(const Tensor& logits, const Tensor& target);
  const Tensor& backward(float scale = 1.0f);

 private:
  Tensor sig_, target_, grad_;
};

class WassersteinCriticLoss {
 public:
  /// mean(d_fake) - mean(d_real). Both non-empty (InvalidArgument otherwise).
  float forward(const Tensor& d_real, const Tensor& d_fake);
  /// Gradients of the last forward, times `scale` (call backward first).
  void backward(float scale = 1.0f);
  const Tensor& grad_real() const { return grad_real_; }
  const Tensor& grad_fake() const { return grad_fake_; }

 private:
  Tensor grad_real_, grad_fake_;
  Shape real_shape_, fake_shape_;
  bool ready_ = false;
};

class WassersteinGeneratorLoss {
 public:
  /// -mean(d_fake).
  float forward(const Tensor& d_fake);
  const Tensor& backward(float scale = 1.0f);

 private:
  Tensor grad_;
  Shape shape_;
  bool ready_ = false;
};

}  // namespace partita::nn
