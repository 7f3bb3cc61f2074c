// BatchNorm: per-channel statistics with deterministic blocked reductions.
#include "partita/nn/batchnorm.hpp"

#include <cmath>

#include "partita/core/error.hpp"
#include "nn/reductions.hpp"

namespace partita::nn {

using std::int64_t;

using detail::channel_sums;

BatchNorm::BatchNorm(ParameterSet& params, const std::string& name, int64_t channels,
                     BatchNormSpec spec)
    : spec_(spec), name_(name), c_(channels) {
  if (channels < 1) throw InvalidArgument("BatchNorm(" + name + "): channels must be >= 1");
  if (!(spec.momentum >= 0.0f && spec.momentum <= 1.0f))
    throw InvalidArgument("BatchNorm(" + name + "): momentum must be in [0, 1]");
  if (!(spec.eps > 0.0f)) throw InvalidArgument("BatchNorm(" + name + "): eps must be > 0");
  gamma_ = &params.add(name + ".weight", {channels}, init_ones());
  beta_ = &params.add(name + ".bias", {channels}, init_zeros());
  rmean_ = &params.add(name + ".running_mean", {channels}, init_zeros(), Layout::Same, false);
  rvar_ = &params.add(name + ".running_var", {channels}, init_ones(), Layout::Same, false);
}

const Tensor& BatchNorm::forward(const Tensor& x) {
  const std::string who = "BatchNorm::forward(" + name_ + ")";
  if (!gamma_->value.data()) throw InvalidArgument(who + ": parameters not allocated");
  if (x.rank() < 2 || x.dim(-1) != c_)
    throw ShapeError(who + ": expected (..., " + std::to_string(c_) + "), got " +
                     shape_str(x.shape()));
  const int64_t C = c_, M = x.size() / C;
  if (M < 1) throw ShapeError(who + ": empty input " + shape_str(x.shape()));
  x_ = Tensor::view(const_cast<float*>(x.data()), x.shape());
  have_x_ = true;
  fwd_training_ = training_;
  mean_.resize(static_cast<size_t>(C));
  istd_.resize(static_cast<size_t>(C));
  const float* xp = x.data();
  const float eps = spec_.eps;
  if (training_) {
    std::vector<double> s, ss;
    channel_sums(M, C, s, [&](int64_t r, double* acc) {
      const float* row = xp + r * C;
      for (int64_t j = 0; j < C; ++j) acc[j] += row[j];
    });
    for (int64_t j = 0; j < C; ++j) mean_[j] = static_cast<float>(s[j] / M);
    const float* mu = mean_.data();
    channel_sums(M, C, ss, [&](int64_t r, double* acc) {  // two-pass variance
      const float* row = xp + r * C;
      for (int64_t j = 0; j < C; ++j) {
        const double d = static_cast<double>(row[j]) - mu[j];
        acc[j] += d * d;
      }
    });
    const float w = spec_.batch_weight();
    const double bessel = spec_.unbiased_running_var && M > 1 ? double(M) / double(M - 1) : 1.0;
    float* rm = rmean_->value.data();
    float* rv = rvar_->value.data();
    for (int64_t j = 0; j < C; ++j) {
      const double var = ss[j] / M;
      istd_[j] = static_cast<float>(1.0 / std::sqrt(var + eps));
      rm[j] = (1.0f - w) * rm[j] + w * mean_[j];
      rv[j] = (1.0f - w) * rv[j] + w * static_cast<float>(var * bessel);
    }
  } else {
    const float* rm = rmean_->value.data();
    const float* rv = rvar_->value.data();
    for (int64_t j = 0; j < C; ++j) {
      mean_[j] = rm[j];
      istd_[j] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(rv[j]) + eps));
    }
  }
  // y = x * scale + shift with scale = gamma * istd, shift = beta - mean * scale
  std::vector<float> scale(static_cast<size_t>(C)), shift(static_cast<size_t>(C));
  const float* g = gamma_->value.data();
  const float* b = beta_->value.data();
  for (int64_t j = 0; j < C; ++j) {
    scale[j] = g[j] * istd_[j];
    shift[j] = b[j] - mean_[j] * scale[j];
  }
  y_.resize(x.shape());
  float* yp = y_.data();
  const float* sc = scale.data();
  const float* sh = shift.data();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < M; ++r)
    for (int64_t j = 0; j < C; ++j) yp[r * C + j] = xp[r * C + j] * sc[j] + sh[j];
  return y_;
}

const Tensor& BatchNorm::backward(const Tensor& dy) {
  const std::string who = "BatchNorm::backward(" + name_ + ")";
  if (!have_x_) throw InvalidArgument(who + ": called before forward");
  dy.expect_shape(y_.shape(), who.c_str());
  x_.expect_shape(y_.shape(), who.c_str());
  const int64_t C = c_, M = dy.size() / C;
  const float* xp = x_.data();
  const float* d = dy.data();
  const float* mu = mean_.data();
  const float* is = istd_.data();
  std::vector<double> sdy, sdyx;
  channel_sums(M, C, sdy, [&](int64_t r, double* acc) {
    const float* row = d + r * C;
    for (int64_t j = 0; j < C; ++j) acc[j] += row[j];
  });
  channel_sums(M, C, sdyx, [&](int64_t r, double* acc) {  // sum dy * xhat
    const float* dr = d + r * C;
    const float* xr = xp + r * C;
    for (int64_t j = 0; j < C; ++j) acc[j] += static_cast<double>(dr[j]) * ((xr[j] - mu[j]) * is[j]);
  });
  float* gg = gamma_->grad.data();
  float* gb = beta_->grad.data();
  const float* g = gamma_->value.data();
  std::vector<float> k(static_cast<size_t>(C)), mdy(static_cast<size_t>(C)), mdyx(static_cast<size_t>(C));
  for (int64_t j = 0; j < C; ++j) {
    gb[j] += static_cast<float>(sdy[j]);
    gg[j] += static_cast<float>(sdyx[j]);
    k[j] = g[j] * is[j];
    mdy[j] = fwd_training_ ? static_cast<float>(sdy[j] / M) : 0.0f;
    mdyx[j] = fwd_training_ ? static_cast<float>(sdyx[j] / M) : 0.0f;
  }
  dx_.resize(dy.shape());
  float* dxp = dx_.data();
  const float* kp = k.data();
  const float* m1 = mdy.data();
  const float* m2 = mdyx.data();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < M; ++r)
    for (int64_t j = 0; j < C; ++j) {
      const float xhat = (xp[r * C + j] - mu[j]) * is[j];
      dxp[r * C + j] = kp[j] * (d[r * C + j] - m1[j] - xhat * m2[j]);
    }
  return dx_;
}

}  // namespace partita::nn
