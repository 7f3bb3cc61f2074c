// LayerNorm over the last axis: y = (x - mean) / sqrt(var + eps) * weight + bias.
//
// The Transformer-XL's post-norm residual blocks end in one. Statistics are per
// row (all leading axes flattened), variance is the biased one (divide by d),
// as torch.nn.LayerNorm. Parameters "<prefix>.weight" (ones) and "<prefix>.bias"
// (zeros), shape (d,).
//
// Backward, with xhat = (x - mean) * rstd and g = dy * weight per row:
//   dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),
//   dweight += sum_rows dy * xhat,  dbias += sum_rows dy.
#pragma once
#include <cstdint>
#include <string>

#include "partita/core/tensor.hpp"
#include "partita/nn/parameters.hpp"

namespace partita::nn {

class LayerNorm {
 public:
  LayerNorm(ParameterSet& params, const std::string& prefix, std::int64_t d, float eps = 1e-5f);

  const Tensor& forward(const Tensor& x);
  const Tensor& backward(const Tensor& dy);

  std::int64_t dim() const { return d_; }
  Parameter& weight() { return *weight_; }
  Parameter& bias() { return *bias_; }

 private:
  std::int64_t d_;
  float eps_;
  Parameter* weight_;
  Parameter* bias_;
  Tensor xhat_, rstd_;  // cached for backward
  Tensor y_, dx_;
};

}  // namespace partita::nn
