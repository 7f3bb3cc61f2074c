// Dropout: inverted dropout with a seeded generator (AR-CNN U-Net, Transformer-XL).
//
// Training: y = x * m / (1 - rate) with m ~ Bernoulli(1 - rate) per element,
// so E[y] = x and evaluation needs no rescaling; backward dx = dy * m / (1 - rate)
// with the same mask. Evaluation (or rate 0): identity; forward returns x
// itself and backward returns dy itself (no copy).
//
// Reproducibility: the layer owns a Generator (seeded at construction, or
// `reseed`). Each training forward draws one 64-bit key from it; element block
// b (of 2^14 elements) then uses its own stream derived from (key, b), so the
// mask depends only on the seed and the call count, not on the thread count.
#pragma once
#include <cstdint>
#include <vector>

#include "partita/core/random.hpp"
#include "partita/core/tensor.hpp"

namespace partita::nn {

class Dropout {
 public:
  /// rate in [0, 1): the probability of zeroing an element.
  explicit Dropout(float rate, std::uint64_t seed = 0);

  void set_training(bool training) { training_ = training; }
  bool training() const { return training_; }
  void reseed(std::uint64_t seed) { rng_.reseed(seed); }
  float rate() const { return rate_; }

  const Tensor& forward(const Tensor& x);
  const Tensor& backward(const Tensor& dy);

 private:
  bool active() const { return training_ && rate_ > 0.0f; }

  float rate_;
  bool training_ = true;
  bool fwd_active_ = false;
  Generator rng_;
  Shape shape_;
  std::vector<std::uint8_t> mask_;
  Tensor y_, dx_;
};

}  // namespace partita::nn
