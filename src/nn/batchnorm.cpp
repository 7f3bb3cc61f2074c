// BatchNorm: per-channel statistics with deterministic blocked reductions.
#include "partita/nn/batchnorm.hpp"

#include <cmath>

#include "partita/core/error.hpp"
#include "nn/batchnorm_ops.hpp"

namespace partita::nn {

using std::int64_t;

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
  if (training_)
    detail::batchnorm_batch_stats(xp, M, C, eps, spec_.batch_weight(),
                                  spec_.unbiased_running_var ? M : 0, mean_.data(), istd_.data(),
                                  rmean_->value.data(), rvar_->value.data());
  else
    detail::batchnorm_running_stats(C, eps, rmean_->value.data(), rvar_->value.data(),
                                    mean_.data(), istd_.data());
  y_.resize(x.shape());
  detail::batchnorm_apply(xp, M, C, mean_.data(), istd_.data(), gamma_->value.data(),
                          beta_->value.data(), y_.data());
  return y_;
}

const Tensor& BatchNorm::backward(const Tensor& dy) {
  const std::string who = "BatchNorm::backward(" + name_ + ")";
  if (!have_x_) throw InvalidArgument(who + ": called before forward");
  dy.expect_shape(y_.shape(), who.c_str());
  x_.expect_shape(y_.shape(), who.c_str());
  const int64_t C = c_, M = dy.size() / C;
  dx_.resize(dy.shape());
  detail::batchnorm_backward(x_.data(), dy.data(), M, C, mean_.data(), istd_.data(),
                             gamma_->value.data(), fwd_training_, gamma_->grad.data(),
                             beta_->grad.data(), dx_.data());
  return dx_;
}

ChannelAffine ChannelAffine::identity(std::int64_t channels) {
  ChannelAffine f;
  f.a.assign(static_cast<size_t>(channels), 1.0);
  f.b.assign(static_cast<size_t>(channels), 0.0);
  return f;
}

ChannelAffine batchnorm_eval_affine(const Parameter& gamma, const Parameter& beta, const Parameter& running_mean,
                                    const Parameter& running_var, float eps) {
  const std::int64_t c = gamma.value.size();
  if (beta.value.size() != c || running_mean.value.size() != c || running_var.value.size() != c)
    throw InvalidArgument("batchnorm_eval_affine: " + gamma.name + ", " + beta.name + ", " + running_mean.name +
                          " and " + running_var.name + " differ in size");
  ChannelAffine f;
  f.a.resize(static_cast<size_t>(c));
  f.b.resize(static_cast<size_t>(c));
  const float* g = gamma.value.data();
  const float* be = beta.value.data();
  const float* m = running_mean.value.data();
  const float* v = running_var.value.data();
  for (std::int64_t i = 0; i < c; ++i) {
    const double a = g[i] / std::sqrt(static_cast<double>(v[i]) + eps);
    f.a[static_cast<size_t>(i)] = a;
    f.b[static_cast<size_t>(i)] = be[i] - m[i] * a;
  }
  return f;
}

ChannelAffine BatchNorm::eval_affine() const { return batchnorm_eval_affine(*gamma_, *beta_, *rmean_, *rvar_, spec_.eps); }

}  // namespace partita::nn
