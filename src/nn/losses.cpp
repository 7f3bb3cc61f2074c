// KL divergence over a piano roll, BCE with logits, Wasserstein losses (see losses.hpp).
#include "partita/nn/losses.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "partita/core/error.hpp"

namespace partita::nn {

// ------------------------------------------------------------------ KL

float KLDivergenceLoss::forward(const Tensor& logits, const Tensor& label) {
  if (logits.rank() < 1 || logits.dim(0) < 1)
    throw ShapeError("KLDivergenceLoss::forward: logits need a non-empty batch axis, got " +
                     shape_str(logits.shape()));
  label.expect_shape(logits.shape(), "KLDivergenceLoss::forward (label vs logits)");
  const std::int64_t n = logits.dim(0);
  const std::int64_t cells = logits.size() / n;
  if (cells < 1) throw ShapeError("KLDivergenceLoss::forward: samples have no cells");
  batch_ = n;
  prob_.resize(logits.shape());
  target_.resize(logits.shape());
  per_sample_.assign(static_cast<size_t>(n), 0.0);
  empty_.assign(static_cast<size_t>(n), 0);

  const float* lab = label.data();
  for (std::int64_t i = 0; i < label.size(); ++i)
    if (!(lab[i] >= 0.0f) || !std::isfinite(lab[i]))
      throw InvalidArgument("KLDivergenceLoss::forward: label must be finite and >= 0; element " +
                            std::to_string(i) + " is " + std::to_string(lab[i]));

  double total = 0.0;
#pragma omp parallel for reduction(+ : total) schedule(static) if (n > 1 && cells >= 4096)
  for (std::int64_t s = 0; s < n; ++s) {
    const float* z = logits.data() + s * cells;
    const float* y = lab + s * cells;
    float* p = prob_.data() + s * cells;
    float* q = target_.data() + s * cells;
    // log-sum-exp with the max shift: logsumexp(z) = m + log sum exp(z - m).
    float m = z[0];
    for (std::int64_t i = 1; i < cells; ++i) m = std::max(m, z[i]);
    double se = 0.0;
    for (std::int64_t i = 0; i < cells; ++i) se += std::exp(static_cast<double>(z[i] - m));
    const double lse = static_cast<double>(m) + std::log(se);
    double ysum = 0.0;
    for (std::int64_t i = 0; i < cells; ++i) ysum += y[i];
    double kl = 0.0;
    for (std::int64_t i = 0; i < cells; ++i) {
      const double logp = static_cast<double>(z[i]) - lse;
      p[i] = static_cast<float>(std::exp(logp));
      if (ysum > 0.0) {
        const double qi = y[i] / ysum;
        q[i] = static_cast<float>(qi);
        if (qi > 0.0) kl += qi * (std::log(qi) - logp);
      } else {
        q[i] = 0.0f;
      }
    }
    per_sample_[static_cast<size_t>(s)] = kl;
    empty_[static_cast<size_t>(s)] = ysum > 0.0 ? 0 : 1;
    total += kl;
  }
  return static_cast<float>(total / static_cast<double>(n));
}

const Tensor& KLDivergenceLoss::backward(float scale) {
  if (batch_ == 0) throw InvalidArgument("KLDivergenceLoss::backward: call forward first");
  grad_.resize(prob_.shape());
  const std::int64_t cells = prob_.size() / batch_;
  const float k = scale / static_cast<float>(batch_);
  for (std::int64_t s = 0; s < batch_; ++s) {
    const float* p = prob_.data() + s * cells;
    const float* q = target_.data() + s * cells;
    float* g = grad_.data() + s * cells;
    // An all-zero label contributes nothing (not even the softmax term).
    if (empty_[static_cast<size_t>(s)]) {
      for (std::int64_t i = 0; i < cells; ++i) g[i] = 0.0f;
    } else {
      for (std::int64_t i = 0; i < cells; ++i) g[i] = k * (p[i] - q[i]);
    }
  }
  return grad_;
}

// ------------------------------------------------------------------ BCE

float BCEWithLogitsLoss::forward(const Tensor& logits, const Tensor& target) {
  target.expect_shape(logits.shape(), "BCEWithLogitsLoss::forward (target vs logits)");
  if (logits.size() == 0) throw ShapeError("BCEWithLogitsLoss::forward: empty input");
  sig_.resize(logits.shape());
  target_.resize(logits.shape());
  target_.copy_from(target);
  double total = 0.0;
  const std::int64_t n = logits.size();
  for (std::int64_t i = 0; i < n; ++i) {
    const double z = logits[i], y = target[i];
    // max(z,0) - z y + log1p(exp(-|z|)): no overflow for any z.
    total += std::max(z, 0.0) - z * y + std::log1p(std::exp(-std::fabs(z)));
    sig_[i] = static_cast<float>(z >= 0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z)));
  }
  return static_cast<float>(total / static_cast<double>(n));
}

const Tensor& BCEWithLogitsLoss::backward(float scale) {
  if (sig_.empty()) throw InvalidArgument("BCEWithLogitsLoss::backward: call forward first");
  grad_.resize(sig_.shape());
  const float k = scale / static_cast<float>(sig_.size());
  for (std::int64_t i = 0; i < sig_.size(); ++i) grad_[i] = k * (sig_[i] - target_[i]);
  return grad_;
}

// ------------------------------------------------------------------ Wasserstein

static double mean_of(const Tensor& t) {
  double s = 0.0;
  for (std::int64_t i = 0; i < t.size(); ++i) s += t[i];
  return s / static_cast<double>(t.size());
}

float WassersteinCriticLoss::forward(const Tensor& d_real, const Tensor& d_fake) {
  if (d_real.size() == 0 || d_fake.size() == 0)
    throw InvalidArgument("WassersteinCriticLoss::forward: empty critic scores");
  real_shape_ = d_real.shape();
  fake_shape_ = d_fake.shape();
  ready_ = true;
  return static_cast<float>(mean_of(d_fake) - mean_of(d_real));
}

void WassersteinCriticLoss::backward(float scale) {
  if (!ready_)
    throw InvalidArgument("WassersteinCriticLoss::backward: call forward first");
  grad_real_.resize(real_shape_);
  grad_fake_.resize(fake_shape_);
  grad_real_.fill(-scale / static_cast<float>(grad_real_.size()));
  grad_fake_.fill(scale / static_cast<float>(grad_fake_.size()));
}

float WassersteinGeneratorLoss::forward(const Tensor& d_fake) {
  if (d_fake.size() == 0) throw InvalidArgument("WassersteinGeneratorLoss::forward: empty critic scores");
  shape_ = d_fake.shape();
  ready_ = true;
  return static_cast<float>(-mean_of(d_fake));
}

const Tensor& WassersteinGeneratorLoss::backward(float scale) {
  if (!ready_) throw InvalidArgument("WassersteinGeneratorLoss::backward: call forward first");
  grad_.resize(shape_);
  grad_.fill(-scale / static_cast<float>(grad_.size()));
  return grad_;
}

}  // namespace partita::nn
