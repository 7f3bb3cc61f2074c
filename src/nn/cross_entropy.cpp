// Softmax cross-entropy: stable log-sum-exp per row, probabilities kept for backward.
#include "partita/nn/cross_entropy.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "partita/core/error.hpp"
#include "partita/core/threads.hpp"

namespace partita::nn {

float SoftmaxCrossEntropy::forward(const Tensor& logits, const std::int32_t* targets,
                                   std::int64_t n_targets) {
  if (logits.rank() < 1 || logits.dim(-1) < 1)
    throw ShapeError("SoftmaxCrossEntropy::forward: logits need a vocabulary axis, got " +
                     shape_str(logits.shape()));
  const std::int64_t v = logits.dim(-1), rows = logits.size() / v;
  if (n_targets != rows)
    throw ShapeError("SoftmaxCrossEntropy::forward: " + std::to_string(n_targets) +
                     " targets for " + std::to_string(rows) + " rows of logits " +
                     shape_str(logits.shape()));
  for (std::int64_t r = 0; r < rows; ++r)
    if (targets[r] != ignore_ && (targets[r] < 0 || targets[r] >= v))
      throw InvalidArgument("SoftmaxCrossEntropy::forward: target " + std::to_string(targets[r]) +
                            " at row " + std::to_string(r) + " outside [0, " + std::to_string(v) +
                            ") and not ignore_index " + std::to_string(ignore_));
  targets_.assign(targets, targets + rows);
  probs_.resize(logits.shape());
  double total = 0.0;
  std::int64_t count = 0;
#pragma omp parallel for schedule(static) reduction(+ : total, count) \
    num_threads(num_threads()) if (rows * v > 65536)
  for (std::int64_t r = 0; r < rows; ++r) {
    if (targets_[r] == ignore_) continue;
    const float* z = logits.data() + r * v;
    float* p = probs_.data() + r * v;
    float m = *std::max_element(z, z + v);
    double s = 0.0;
    for (std::int64_t j = 0; j < v; ++j) {
      p[j] = std::exp(z[j] - m);
      s += p[j];
    }
    const float inv = static_cast<float>(1.0 / s);
    for (std::int64_t j = 0; j < v; ++j) p[j] *= inv;
    total += (static_cast<double>(m) + std::log(s)) - z[targets_[r]];
    ++count;
  }
  count_ = count;
  return count ? static_cast<float>(total / static_cast<double>(count)) : 0.0f;
}

const Tensor& SoftmaxCrossEntropy::backward(float dloss) {
  if (probs_.shape().empty())
    throw InvalidArgument("SoftmaxCrossEntropy::backward: called before forward");
  const std::int64_t v = probs_.dim(-1), rows = probs_.size() / v;
  dlogits_.resize(probs_.shape());
  const float scale = count_ ? dloss / static_cast<float>(count_) : 0.0f;
  for (std::int64_t r = 0; r < rows; ++r) {
    float* g = dlogits_.data() + r * v;
    if (targets_[r] == ignore_ || count_ == 0) {
      std::fill(g, g + v, 0.0f);
      continue;
    }
    const float* p = probs_.data() + r * v;
    for (std::int64_t j = 0; j < v; ++j) g[j] = scale * p[j];
    g[targets_[r]] -= scale;
  }
  return dlogits_;
}

}  // namespace partita::nn
