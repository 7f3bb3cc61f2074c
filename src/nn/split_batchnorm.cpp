// SplitBatchNorm: nn::BatchNorm's math on two channel slices of one parameter
// set, each with its own positions (see split_batchnorm.hpp). Reductions are
// blocked and summed in order, in double: independent of the thread count.
#include "partita/nn/split_batchnorm.hpp"

#include <cmath>

#include "partita/core/error.hpp"
#include "nn/batchnorm_ops.hpp"

namespace partita::nn {

using std::int64_t;

SplitBatchNorm::SplitBatchNorm(ParameterSet& params, const std::string& name, int64_t a_channels,
                               int64_t b_channels, BatchNormSpec spec, int64_t a_replicas)
    : spec_(spec), name_(name), ca_(a_channels), cb_(b_channels), replicas_(a_replicas) {
  if (a_channels < 1 || b_channels < 1)
    throw InvalidArgument("SplitBatchNorm(" + name + "): channel counts must be >= 1, got " +
                          std::to_string(a_channels) + " and " + std::to_string(b_channels));
  if (a_replicas < 1)
    throw InvalidArgument("SplitBatchNorm(" + name + "): a_replicas must be >= 1");
  if (!(spec.momentum >= 0.0f && spec.momentum <= 1.0f))
    throw InvalidArgument("SplitBatchNorm(" + name + "): momentum must be in [0, 1]");
  if (!(spec.eps > 0.0f)) throw InvalidArgument("SplitBatchNorm(" + name + "): eps must be > 0");
  const int64_t c = a_channels + b_channels;
  gamma_ = &params.add(name + ".weight", {c}, init_ones());
  beta_ = &params.add(name + ".bias", {c}, init_zeros());
  rmean_ = &params.add(name + ".running_mean", {c}, init_zeros(), Layout::Same, false);
  rvar_ = &params.add(name + ".running_var", {c}, init_ones(), Layout::Same, false);
}

// Statistics (training: of x, updating the running ones; eval: the running
// ones) and y = x * scale + shift for channels [offset, offset + C).
void SplitBatchNorm::forward_part(Part& p, const Tensor& x, int64_t offset, int64_t C,
                                  int64_t bessel_count) {
  const int64_t M = x.size() / C;
  p.x = Tensor::view(const_cast<float*>(x.data()), x.shape());
  p.mean.resize(static_cast<size_t>(C));
  p.istd.resize(static_cast<size_t>(C));
  const float eps = spec_.eps;
  float* rm = rmean_->value.data() + offset;
  float* rv = rvar_->value.data() + offset;
  if (training_)
    detail::batchnorm_batch_stats(x.data(), M, C, eps, spec_.batch_weight(),
                                  spec_.unbiased_running_var ? bessel_count : 0, p.mean.data(),
                                  p.istd.data(), rm, rv);
  else
    detail::batchnorm_running_stats(C, eps, rm, rv, p.mean.data(), p.istd.data());
  p.y.resize(x.shape());
  detail::batchnorm_apply(x.data(), M, C, p.mean.data(), p.istd.data(),
                          gamma_->value.data() + offset, beta_->value.data() + offset, p.y.data());
}

SplitBatchNorm::Pair SplitBatchNorm::forward(const Tensor& a, const Tensor& b) {
  const std::string who = "SplitBatchNorm::forward(" + name_ + ")";
  if (!gamma_->value.data()) throw InvalidArgument(who + ": parameters not allocated");
  if (a.rank() < 2 || a.dim(-1) != ca_ || a.size() == 0)
    throw ShapeError(who + ": expected a of shape (..., " + std::to_string(ca_) + "), got " +
                     shape_str(a.shape()));
  if (b.rank() < 2 || b.dim(-1) != cb_ || b.size() == 0)
    throw ShapeError(who + ": expected b of shape (..., " + std::to_string(cb_) + "), got " +
                     shape_str(b.shape()));
  const int64_t ma = a.size() / ca_, mb = b.size() / cb_;
  if (ma * replicas_ != mb)
    throw ShapeError(who + ": a " + shape_str(a.shape()) + " has " + std::to_string(ma) +
                     " positions, times " + std::to_string(replicas_) + " replicas is not b's " +
                     std::to_string(mb) + " (b " + shape_str(b.shape()) + ")");
  fwd_training_ = training_;
  have_x_ = true;
  forward_part(pa_, a, 0, ca_, mb);
  forward_part(pb_, b, ca_, cb_, mb);
  return {pa_.y, pb_.y};
}

// dbeta += sum dy, dgamma += sum dy * xhat,
// dx = gamma * istd * (dy - mean(dy) - xhat * mean(dy * xhat)) (training),
// dx = gamma * istd * dy (eval), on channels [offset, offset + C).
void SplitBatchNorm::backward_part(Part& p, const Tensor& dy, int64_t offset, int64_t C) {
  const int64_t M = dy.size() / C;
  p.dx.resize(dy.shape());
  detail::batchnorm_backward(p.x.data(), dy.data(), M, C, p.mean.data(), p.istd.data(),
                             gamma_->value.data() + offset, fwd_training_,
                             gamma_->grad.data() + offset, beta_->grad.data() + offset,
                             p.dx.data());
}

SplitBatchNorm::Pair SplitBatchNorm::backward(const Tensor& da, const Tensor& db) {
  const std::string who = "SplitBatchNorm::backward(" + name_ + ")";
  if (!have_x_) throw InvalidArgument(who + ": called before forward");
  da.expect_shape(pa_.y.shape(), who.c_str());
  db.expect_shape(pb_.y.shape(), who.c_str());
  backward_part(pa_, da, 0, ca_);
  backward_part(pb_, db, ca_, cb_);
  return {pa_.dx, pb_.dx};
}

}  // namespace partita::nn
