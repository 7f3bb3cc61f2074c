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

}  // namespace partita::nn
