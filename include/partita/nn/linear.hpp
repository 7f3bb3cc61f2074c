// Linear: the fully connected layer y = x W + b over the last axis.
//
// Used by every projection of the Transformer-XL (qkv, r, output, the FFN) and by
// the critic's final Dense layer. The weight is stored (in, out) in memory so that
// the forward pass is one row-major gemm with no transpose; files and the PyTorch
// twin hold it as (out, in) (Layout::LinearIO). Names: "<prefix>.weight",
// "<prefix>.bias" as in torch.nn.Linear.
//
// Any leading axes are flattened into rows: x of shape (..., in) gives y of shape
// (..., out). forward() keeps a *view* of x for the weight gradient, so x must
// stay alive and unchanged until backward() (the usual case: x is the previous
// layer's output buffer).
#pragma once
#include <cstdint>
#include <string>

#include "partita/core/tensor.hpp"
#include "partita/nn/parameters.hpp"

namespace partita::nn {

class Linear {
 public:
  /// Declares "<prefix>.weight" (in, out) and, if `bias`, "<prefix>.bias" (out).
  /// Default initialisation is PyTorch's U(+-1/sqrt(in)) for both; pass `init`
  /// to override the weight's initialiser (the bias then starts at zero).
  Linear(ParameterSet& params, const std::string& prefix, std::int64_t in_features,
         std::int64_t out_features, bool bias = true, Initializer init = nullptr);

  /// y = x W + b; x has last extent in_features.
  const Tensor& forward(const Tensor& x);
  /// Adds x^T dy into dW and the column sums of dy into db; returns dx = dy W^T.
  const Tensor& backward(const Tensor& dy);

  std::int64_t in_features() const { return in_; }
  std::int64_t out_features() const { return out_; }
  Parameter& weight() { return *weight_; }
  Parameter* bias() { return bias_; }  // nullptr when built without bias

 private:
  std::int64_t in_, out_;
  Parameter* weight_;
  Parameter* bias_ = nullptr;
  Tensor x_;   // view of the last input
  Tensor y_, dx_;
};

}  // namespace partita::nn
