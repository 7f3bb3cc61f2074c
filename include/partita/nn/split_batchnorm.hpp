// SplitBatchNorm: BatchNorm over the channels of concat(up(a), b) without
// building the concatenation: a's channels are normalised on a itself, where
// each value stands for `a_replicas` positions of the full tensor (4 for a
// nearest x2 upsampling), b's on b. The U-Net decoder's BatchNorm runs this
// way so its low-res half costs a quarter (nn::UpConcatConv2d then consumes
// the two normalised tensors).
//
// Why it is exact: replicating every value r times leaves a channel's mean and
// biased variance unchanged, so the statistics of up(a) are those of a. The
// running variance's Bessel correction uses the full count M = (values of a's
// channel) * r, which equals b's count (checked). Backward: with dy_full the
// gradient at the full resolution and da its sum over the r replicas (what the
// adjoint of the upsampling gives), BatchNorm's
//   dx = gamma * istd * (dy - mean(dy) - xhat * mean(dy * xhat))
// summed over the replicas of one value is the same formula evaluated on a
// with da (the means over M = r * Ma full positions of sums of r replicas are
// the means over the Ma values of a), and dgamma, dbeta sum the same terms.
//
// One parameter set of size Ca + Cb, named as nn::BatchNorm's ("<name>.weight",
// ".bias", ".running_mean", ".running_var"), channels [0, Ca) for a and
// [Ca, Ca + Cb) for b: the same parameters a BatchNorm over the concatenation
// declares, in the same order with the same initial values.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "partita/core/tensor.hpp"
#include "partita/nn/batchnorm.hpp"
#include "partita/nn/parameters.hpp"

namespace partita::nn {

class SplitBatchNorm {
 public:
  /// The normalised inputs (or, from backward, their gradients), views of
  /// member buffers.
  struct Pair {
    const Tensor& a;
    const Tensor& b;
  };

  SplitBatchNorm(ParameterSet& params, const std::string& name, std::int64_t a_channels,
                 std::int64_t b_channels, BatchNormSpec spec = BatchNormSpec::keras(),
                 std::int64_t a_replicas = 1);

  void set_training(bool training) { training_ = training; }
  bool training() const { return training_; }

  /// a: (..., Ca), b: (..., Cb) with a's positions * a_replicas == b's positions.
  /// Keeps views of both: their storage must stay alive and unchanged until
  /// backward. In training mode also updates the running statistics.
  Pair forward(const Tensor& a, const Tensor& b);
  /// da, db: gradients of the two outputs (da summed over a's replicas). Adds
  /// dgamma, dbeta into the grads; returns the inputs' gradients.
  Pair backward(const Tensor& da, const Tensor& db);

  const BatchNormSpec& spec() const { return spec_; }
  std::int64_t a_channels() const { return ca_; }
  std::int64_t b_channels() const { return cb_; }
  Parameter& weight() { return *gamma_; }
  Parameter& bias() { return *beta_; }
  Parameter& running_mean() { return *rmean_; }
  Parameter& running_var() { return *rvar_; }

 private:
  // One of the two inputs and what its backward needs.
  struct Part {
    Tensor x;  // view of the forward's input
    std::vector<float> mean, istd;
    Tensor y, dx;
  };
  void forward_part(Part& p, const Tensor& x, std::int64_t offset, std::int64_t channels,
                    std::int64_t bessel_count);
  void backward_part(Part& p, const Tensor& dy, std::int64_t offset, std::int64_t channels);

  BatchNormSpec spec_;
  std::string name_;
  std::int64_t ca_, cb_, replicas_;
  bool training_ = true;
  bool fwd_training_ = true;
  bool have_x_ = false;
  Parameter *gamma_, *beta_, *rmean_, *rvar_;
  Part pa_, pb_;
};

}  // namespace partita::nn
