// Adam and AdamW over a model's flat parameter buffer, with PyTorch's semantics.
//
// The optimizer keeps two moment buffers with the same flat layout as the
// ParameterSet's values and grads, so a step is one loop per parameter over
// contiguous memory. Parameters with `trainable == false` (BatchNorm running
// statistics) are skipped. At step t (1-based), for each trainable element with
// gradient g and value x (torch.optim.Adam / AdamW, amsgrad=False, maximize=False):
//
//   Adam  (L2):        g <- g + weight_decay * x
//   AdamW (decoupled): x <- x * (1 - lr * weight_decay)
//   m <- beta1 * m + (1 - beta1) * g
//   v <- beta2 * v + (1 - beta2) * g^2
//   x <- x - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
//
// The learning rate can change between steps (set_lr, driven by a Schedule).
// Optimizer state (step count, moments, hyper-parameters) saves to and loads from
// a safetensors file so training can resume exactly: moments are stored per
// parameter under "<name>.exp_avg" / "<name>.exp_avg_sq" in the twin's layout.
#pragma once
#include <cstdint>
#include <string>

#include "partita/core/tensor.hpp"
#include "partita/nn/parameters.hpp"
#include "partita/optim/safetensors.hpp"

namespace partita::optim {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  /// false: Adam (L2 penalty added to the gradient); true: AdamW (decoupled decay).
  bool decoupled_weight_decay = false;

  /// torch.optim.AdamW's defaults: weight_decay 0.01, decoupled.
  static AdamOptions adamw(double lr = 1e-3, double weight_decay = 1e-2) {
    AdamOptions o;
    o.lr = lr;
    o.weight_decay = weight_decay;
    o.decoupled_weight_decay = true;
    return o;
  }
};

class Adam {
 public:
  /// `params` must be allocated and must outlive the optimizer. InvalidArgument on
  /// lr < 0, eps < 0, betas outside [0, 1) or weight_decay < 0.
  Adam(nn::ParameterSet& params, AdamOptions options = {});

  /// One update from the gradients currently in params.grads(). Does not zero them.
  void step();

  double lr() const { return opt_.lr; }
  void set_lr(double lr);
  const AdamOptions& options() const { return opt_; }
  /// Steps taken so far (torch's state["step"]).
  std::int64_t step_count() const { return t_; }

  /// Flat moment buffers, same layout as params.values().
  const Tensor& exp_avg() const { return m_; }
  const Tensor& exp_avg_sq() const { return v_; }
  /// Zero the moments and the step count.
  void reset();

  /// Write the state (moments, step, hyper-parameters) to a safetensors file, atomically.
  void save_state(const std::string& path, const Metadata& extra = {}) const;
  /// Restore a state written by save_state for a ParameterSet of the same
  /// parameters (names and shapes); WeightsError otherwise, leaving this unchanged.
  /// The learning rate and betas are restored too.
  void load_state(const std::string& path);

 private:
  nn::ParameterSet& params_;
  AdamOptions opt_;
  Tensor m_, v_;
  std::int64_t t_ = 0;
};

/// Scale all trainable gradients so their global L2 norm is at most `max_norm`
/// (torch.nn.utils.clip_grad_norm_: coefficient max_norm / (norm + 1e-6), applied
/// only when below 1). Returns the norm before clipping. InvalidArgument if
/// max_norm <= 0; a non-finite norm is returned and the gradients are left as they are.
double clip_grad_norm(nn::ParameterSet& params, double max_norm);

/// Global L2 norm of the trainable gradients (accumulated in double).
double grad_norm(const nn::ParameterSet& params);

}  // namespace partita::optim
