// Softmax cross-entropy over a vocabulary, with an ignored target id (<PAD>).
//
// The Transformer-XL's training loss: for rows n with target t_n != ignore_index,
//   loss = (1/N') sum_n [ logsumexp(logits_n) - logits_n[t_n] ],  N' = number of such rows,
// and d loss / d logits_n = (softmax(logits_n) - onehot(t_n)) / N' (zero for ignored
// rows). As torch.nn.functional.cross_entropy(..., ignore_index=i, reduction='mean'),
// except that a batch with every target ignored gives loss 0 and zero gradients
// instead of NaN.
#pragma once
#include <cstdint>
#include <vector>

#include "partita/core/tensor.hpp"

namespace partita::nn {

class SoftmaxCrossEntropy {
 public:
  explicit SoftmaxCrossEntropy(std::int32_t ignore_index = -100) : ignore_(ignore_index) {}

  /// logits (..., V) with numel/V rows; `targets` holds one id per row, each in
  /// [0, V) or equal to ignore_index. Returns the mean loss.
  float forward(const Tensor& logits, const std::int32_t* targets, std::int64_t n_targets);
  float forward(const Tensor& logits, const std::vector<std::int32_t>& targets) {
    return forward(logits, targets.data(), static_cast<std::int64_t>(targets.size()));
  }
  /// dlogits = dloss * d(mean loss)/d logits (same shape as the last logits).
  const Tensor& backward(float dloss = 1.0f);

  /// Rows that counted in the last forward (targets != ignore_index).
  std::int64_t count() const { return count_; }
  std::int32_t ignore_index() const { return ignore_; }

 private:
  std::int32_t ignore_;
  std::int64_t count_ = 0;
  std::vector<std::int32_t> targets_;
  Tensor probs_;  // softmax of the last logits (ignored rows untouched)
  Tensor dlogits_;
};

}  // namespace partita::nn
