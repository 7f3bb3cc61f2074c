// WGAN-GP gradient penalty through the critic's linearisation (see gradient_penalty.hpp).
#include "partita/nn/gradient_penalty.hpp"

#include <cmath>
#include <string>

#include "partita/core/error.hpp"

namespace partita::nn {

void ActivationSlopes::record(const Tensor& y, float alpha) {
  if (!(alpha >= 0.0f && alpha <= 1.0f))
    throw InvalidArgument("ActivationSlopes::record: alpha must be in [0, 1], got " + std::to_string(alpha));
  slope_.resize(y.shape());
  const float* ys = y.data();
  float* s = slope_.data();
  const float a = alpha;  // locals: a select of two values vectorises
  for (std::int64_t i = 0; i < y.size(); ++i) s[i] = ys[i] > 0.0f ? 1.0f : a;
}

void ActivationSlopes::apply(Tensor& t) const {
  if (t.size() != slope_.size())
    throw ShapeError("ActivationSlopes::apply: tensor " + shape_str(t.shape()) + " vs recorded " +
                     shape_str(slope_.shape()));
  for (std::int64_t i = 0; i < t.size(); ++i) t[i] *= slope_[i];
}

void subtract_bias(Tensor& y, const Tensor& bias) {
  const std::int64_t c = bias.size();
  if (y.rank() < 1 || y.dim(-1) != c)
    throw ShapeError("subtract_bias: output " + shape_str(y.shape()) + " vs bias " + shape_str(bias.shape()));
  const std::int64_t rows = y.size() / c;
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t j = 0; j < c; ++j) y[r * c + j] -= bias[j];
}

void GradSnapshot::save(const std::vector<Tensor*>& tensors) {
  targets_ = tensors;
  copies_.resize(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    copies_[i].resize(tensors[i]->shape());
    copies_[i].copy_from(*tensors[i]);
  }
}

void GradSnapshot::restore() {
  for (size_t i = 0; i < targets_.size(); ++i) targets_[i]->copy_from(copies_[i]);
}

GradientPenalty::GradientPenalty(GradientPenaltyOptions options) : opt_(options) {
  if (!(opt_.weight >= 0.0)) throw InvalidArgument("GradientPenalty: weight must be >= 0");
  if (!(opt_.norm_eps >= 0.0)) throw InvalidArgument("GradientPenalty: norm_eps must be >= 0");
}

void GradientPenalty::interpolate(const Tensor& real, const Tensor& fake, Generator& rng, Tensor& xhat) {
  fake.expect_shape(real.shape(), "GradientPenalty::interpolate (fake vs real)");
  if (real.rank() < 1 || real.dim(0) < 1)
    throw ShapeError("GradientPenalty::interpolate: need a non-empty batch axis, got " +
                     shape_str(real.shape()));
  xhat.resize(real.shape());
  const std::int64_t n = real.dim(0), per = real.size() / n;
  for (std::int64_t s = 0; s < n; ++s) {
    const float e = static_cast<float>(rng.uniform());
    const float* a = real.data() + s * per;
    const float* b = fake.data() + s * per;
    float* y = xhat.data() + s * per;
    for (std::int64_t i = 0; i < per; ++i) y[i] = e * a[i] + (1.0f - e) * b[i];
  }
}

float GradientPenalty::forward_backward(Critic& critic, const Tensor& xhat, Tensor& param_grads) {
  if (xhat.rank() < 1 || xhat.dim(0) < 1)
    throw ShapeError("GradientPenalty::forward_backward: xhat needs a non-empty batch axis, got " +
                     shape_str(xhat.shape()));
  const std::int64_t n = xhat.dim(0), per = xhat.size() / n;
  saved_.resize(param_grads.shape());
  saved_.copy_from(param_grads);

  // Pass 1: g = grad_x sum_i D(xhat_i); samples are independent, so row i of
  // dx is grad_x D(xhat_i). This pass's parameter gradients are discarded.
  const Tensor& scores = critic.forward(xhat);
  if (scores.size() != n)
    throw ShapeError("GradientPenalty::forward_backward: critic returned " + shape_str(scores.shape()) +
                     " scores for a batch of " + std::to_string(n));
  ones_.resize(scores.shape());
  ones_.fill(1.0f);
  critic.set_parameter_grad(false);
  const Tensor* dxp = nullptr;
  try {
    dxp = &critic.backward(ones_);
  } catch (...) {
    critic.set_parameter_grad(true);
    throw;
  }
  critic.set_parameter_grad(true);
  const Tensor& dx = *dxp;
  if (dx.size() != xhat.size())
    throw ShapeError("GradientPenalty::forward_backward: critic's input gradient has shape " +
                     shape_str(dx.shape()) + ", xhat has " + shape_str(xhat.shape()));
  g_.resize(xhat.shape());
  g_.copy_from(dx);
  param_grads.copy_from(saved_);

  // Value, and u_i = dP/dg_i = (2 w / N) (n_i - 1) g_i / n_i.
  norms_.assign(static_cast<size_t>(n), 0.0);
  u_.resize(xhat.shape());
  double penalty = 0.0, gu = 0.0;
  bool any = false;
  for (std::int64_t s = 0; s < n; ++s) {
    const float* g = g_.data() + s * per;
    double sq = 0.0;
    for (std::int64_t i = 0; i < per; ++i) sq += static_cast<double>(g[i]) * g[i];
    const double norm = std::sqrt(opt_.norm_eps + sq);
    norms_[static_cast<size_t>(s)] = norm;
    penalty += (norm - 1.0) * (norm - 1.0);
    const double c = norm > 0.0 ? 2.0 * opt_.weight / static_cast<double>(n) * (norm - 1.0) / norm : 0.0;
    float* u = u_.data() + s * per;
    for (std::int64_t i = 0; i < per; ++i) {
      u[i] = static_cast<float>(c * g[i]);
      gu += static_cast<double>(u[i]) * g[i];
      any = any || u[i] != 0.0f;
    }
  }
  penalty *= opt_.weight / static_cast<double>(n);
  gu_expected_ = gu;
  gu_actual_ = 0.0;
  if (!any) return static_cast<float>(penalty);  // every norm is 1: no parameter gradient

  // Pass 2: the linearisation on u; its backward adds grad_theta sum_i J_i u_i.
  const Tensor& tangent = critic.forward_tangent(u_);
  if (tangent.size() != n)
    throw ShapeError("GradientPenalty::forward_backward: critic's forward_tangent returned " +
                     shape_str(tangent.shape()) + " for a batch of " + std::to_string(n));
  for (std::int64_t s = 0; s < n; ++s) gu_actual_ += tangent[s];
  critic.backward_tangent(ones_);
  return static_cast<float>(penalty);
}

}  // namespace partita::nn
