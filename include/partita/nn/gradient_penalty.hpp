// WGAN-GP gradient penalty: its value and its exact gradient with respect to
// the critic's parameters, from two forward/backward passes.
//
// For interpolates xhat_i (i = 1..N) and critic D, with g_i = grad_x D(xhat_i):
//   n_i = sqrt(norm_eps + sum g_i^2)              (norm_eps = 1e-8 as the reference)
//   P   = weight * (1/N) sum_i (n_i - 1)^2        (weight = 10)
// The parameter gradient needs the gradient of a gradient. With
//   u_i = dP/dg_i = (2 weight / N) (n_i - 1) g_i / n_i      (held fixed)
// the chain rule gives grad_theta P = grad_theta sum_i g_i . u_i, and
// g_i . u_i = J(xhat_i) u_i, the critic's Jacobian applied to u_i: the critic's
// *linearisation* at xhat run on the input u. For a critic made of
// convolutions, linear layers and (Leaky)ReLUs the linearisation is the same
// network with the biases left out and each activation replaced by
// multiplication with its slope at xhat (1 or alpha, frozen from the forward pass
// at xhat). Its ordinary backward pass gives grad_theta sum_i J(xhat_i) u_i,
// which is exactly grad_theta P (activation slopes are locally constant in theta;
// biases get zero, as in PyTorch's double backprop).
//
// So the penalty costs: forward(xhat) + backward(ones) for g (this pass's
// parameter gradients are discarded: the buffer is restored), then
// forward_tangent(u) + backward_tangent(ones), which adds grad_theta P.
// Tested against torch.autograd.grad(create_graph=True).
//
// The linearisation's backward signals (the gradients reaching each layer's
// output) are those of pass 1: same weights, same frozen slopes, same ones. A
// critic that keeps pass 1's signals can skip their recomputation in
// backward_tangent and only form the weight gradients against the tangent
// activations (the GAN's critic does: one transposed-convolution pass fewer, 7 %
// of its training step).
//
// Why not the central difference (grad_theta D(xhat + h u) - grad_theta D(xhat - h u)) / 2h
// (a common shortcut): it is exact only if no LeakyReLU input changes sign
// between xhat - h u and xhat + h u, and a sign change makes grad_theta D jump, so
// one crossing costs an error of jump / 2h. On the 2-layer conv critic of the test,
// a relative step of 1e-2 crossed one kink and gave a 2.3x (relative) error; the
// GAN critic has ~8M pre-activations per batch of 64, so any step that float32
// can difference accurately crosses thousands. Frozen slopes make the pass exact.
//
// Implementing Critic (recipe for the GAN's critic, concat(x, melody) -> 4 x
// [Conv 4x4 s2, LeakyReLU 0.2] -> flatten -> Linear(1)):
//   forward(x): concatenate the fixed condition inside; after each LeakyReLU, call
//     slopes_k.record(y_k, 0.2f). backward(ds): ordinary; return d/dx of the x part.
//   forward_tangent(u): feed concat(u, zeros) (the condition does not move); for
//     each conv/linear: y = layer.forward(t); subtract_bias(y, bias) (into the
//     critic's own buffer); for each activation: slopes_k.apply(t).
//   backward_tangent(ds): the same backward chain, with slopes_k.apply(d) in place
//     of each activation's backward; the layers' backward adds bias gradients the
//     linearisation does not have: GradSnapshot::save the bias grads before and
//     restore() them after (see the tests' ConvCritic). The first conv's dx is not needed
//     (Conv2d::set_input_grad(false) during this pass).
// The critic must treat samples independently (no batch normalisation).
#pragma once
#include <cstdint>
#include <vector>

#include "partita/core/random.hpp"
#include "partita/core/tensor.hpp"

namespace partita::nn {

/// What the gradient penalty needs from a critic.
class Critic {
 public:
  virtual ~Critic() = default;
  /// Scores for a batch x of shape (N, ...): N values, shape (N) or (N, 1).
  virtual const Tensor& forward(const Tensor& x) = 0;
  /// Given d/d scores, returns d/dx (shape of x) and ADDS the parameter
  /// gradients into the critic's gradient buffer (the engine's convention).
  virtual const Tensor& backward(const Tensor& dscores) = 0;
  /// Linearisation at the input x0 of the last forward(), applied to u (shape
  /// of x0): returns J(x0) u per sample (N values), biases excluded, activation
  /// slopes frozen at x0.
  virtual const Tensor& forward_tangent(const Tensor& u) = 0;
  /// Backward through the linearisation of the last forward_tangent: ADDS
  /// grad_theta (dscores . J(x0) u) into the parameter gradients; bias
  /// gradients must be left unchanged.
  virtual void backward_tangent(const Tensor& dscores) = 0;
  /// Whether backward() adds parameter gradients (default on). The penalty turns
  /// them off for its first pass, which only needs d/dx; a critic may ignore this
  /// (the penalty restores the gradient buffer either way) or skip that work.
  virtual void set_parameter_grad(bool /*on*/) {}
};

/// Slopes of a ReLU / LeakyReLU at its last forward input, for linearisation.
class ActivationSlopes {
 public:
  /// From the activation's output y: slope = alpha where y <= 0, else 1
  /// (the derivative PyTorch takes, alpha at exactly 0). alpha in [0, 1].
  void record(const Tensor& y, float alpha);
  /// t <- t * slope, in place (forward and backward of the linearised activation).
  /// ShapeError if t's size differs from the recorded one.
  void apply(Tensor& t) const;

 private:
  Tensor slope_;
};

/// y[..., c] -= bias[c] (a layer's output made bias-free for the linearisation).
void subtract_bias(Tensor& y, const Tensor& bias);

/// Copies of some tensors (the bias gradients) taken before backward_tangent's
/// layer calls and written back after them, so those calls leave them unchanged.
class GradSnapshot {
 public:
  /// Remember the current contents of each tensor (views into the grad buffer).
  void save(const std::vector<Tensor*>& tensors);
  /// Write the remembered contents back.
  void restore();

 private:
  std::vector<Tensor*> targets_;
  std::vector<Tensor> copies_;
};

struct GradientPenaltyOptions {
  double weight = 10.0;    // lambda
  double norm_eps = 1e-8;  // inside the square root
};

class GradientPenalty {
 public:
  explicit GradientPenalty(GradientPenaltyOptions options = {});

  /// Returns P for interpolates `xhat` (N, ...) and ADDS grad_theta P into
  /// `param_grads`, the flat gradient buffer that the critic's backward passes
  /// accumulate into (e.g. ParameterSet::grads()); its previous contents are kept.
  /// ShapeError if the critic's scores do not have N elements or its input
  /// gradient does not have xhat's size.
  float forward_backward(Critic& critic, const Tensor& xhat, Tensor& param_grads);

  /// ||grad_x D(xhat_i)|| (with norm_eps) of the last call, one per sample.
  const std::vector<double>& norms() const { return norms_; }
  /// grad_x D(xhat) of the last call, shape of xhat.
  const Tensor& input_gradient() const { return g_; }
  /// sum_i g_i . u_i computed two ways in the last call: from g (exact) and from
  /// the critic's forward_tangent; they agree when the linearisation is right.
  double tangent_check_expected() const { return gu_expected_; }
  double tangent_check_actual() const { return gu_actual_; }
  const GradientPenaltyOptions& options() const { return opt_; }

  /// xhat_i = e_i real_i + (1 - e_i) fake_i with e_i ~ U(0, 1) per sample
  /// (the reference's random-weighted average). xhat is resized.
  static void interpolate(const Tensor& real, const Tensor& fake, Generator& rng, Tensor& xhat);

 private:
  GradientPenaltyOptions opt_;
  Tensor g_, u_, saved_, ones_;
  std::vector<double> norms_;
  double gu_expected_ = 0.0, gu_actual_ = 0.0;
};

}  // namespace partita::nn
