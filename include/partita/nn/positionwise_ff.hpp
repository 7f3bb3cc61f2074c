// Position-wise feed-forward block of a Transformer-XL layer, post-norm.
//
//   y = LayerNorm(x + dropout(W2 dropout(relu(W1 x + b1)) + b2))
//
// as Transformer-XL's PositionwiseFF (pre_lnorm=False). Rows are independent, so
// any (..., d_model) layout works; the transformer uses (time, batch, d_model).
// Parameter names follow the reference module: "<prefix>.CoreNet.0.{weight,bias}"
// (d_model -> d_inner), "<prefix>.CoreNet.3.{weight,bias}" (d_inner -> d_model),
// "<prefix>.layer_norm.{weight,bias}". Weights start N(0, 0.02), biases 0.
//
// Both dropouts are fused and counter-hashed (seeded, independent of the thread
// count, off in eval mode); the inner activation buffer doubles as the ReLU and
// dropout mask for backward (an element passes gradient iff it is > 0).
#pragma once
#include <cstdint>
#include <string>

#include "partita/core/random.hpp"
#include "partita/core/tensor.hpp"
#include "partita/nn/layernorm.hpp"
#include "partita/nn/linear.hpp"
#include "partita/nn/parameters.hpp"

namespace partita::nn {

class PositionwiseFF {
 public:
  PositionwiseFF(ParameterSet& params, const std::string& prefix, std::int64_t d_model,
                 std::int64_t d_inner, float dropout, std::uint64_t seed = 0,
                 float layer_norm_eps = 1e-5f);

  /// x (..., d_model) -> same shape. Keeps a view of x until backward().
  const Tensor& forward(const Tensor& x);
  /// Returns dx; adds into all six parameter gradients.
  const Tensor& backward(const Tensor& dy);

  void set_training(bool on) { training_ = on; }
  bool training() const { return training_; }
  void set_seed(std::uint64_t seed) { rng_.reseed(seed); }

 private:
  std::int64_t d_model_, d_inner_;
  float dropout_;
  Linear fc1_, fc2_;
  LayerNorm ln_;
  Generator rng_;
  bool training_ = true;
  bool drop_ = false;
  std::uint64_t seed_inner_ = 0, seed_out_ = 0;
  Tensor x_;          // view of the input
  Tensor inner_;      // dropout(relu(fc1(x))), the input of fc2
  Tensor sum_;        // x + dropout(fc2(inner)), the LayerNorm input
  Tensor dbranch_, dinner_, dx_;
};

}  // namespace partita::nn
