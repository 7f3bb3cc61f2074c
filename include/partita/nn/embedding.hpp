// Embedding: token ids -> vectors, and the output projection tied to it.
//
// The Transformer-XL reads event tokens through an Embedding table E (vocab, d)
// scaled by sqrt(d) (as Vaswani et al. and Transformer-XL do), and scores the
// next token with logits = h E^T + b using the *same* table (weight tying, Press
// & Wolf 2017). TiedProjection holds no weight of its own: it references the
// Embedding's Parameter, so the gradients of both uses add into one E.grad.
// Parameter names: "<prefix>.weight" (vocab, d) for the table, "<prefix>.bias"
// (vocab) for the projection's bias; both Layout::Same (torch nn.Embedding
// stores the table (num_embeddings, embedding_dim) too).
//
// Token ids are int32; an id outside [0, vocab) is an InvalidArgument. Like
// Linear, both classes keep views of their inputs until backward().
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "partita/core/tensor.hpp"
#include "partita/nn/parameters.hpp"

namespace partita::nn {

class Embedding {
 public:
  /// Declares "<prefix>.weight" (vocab, d), initialised N(0, 0.02) as
  /// Transformer-XL's init_std. `scale_by_sqrt_d` multiplies the looked-up rows
  /// by sqrt(d); otherwise the scale is 1.
  Embedding(ParameterSet& params, const std::string& prefix, std::int64_t vocab, std::int64_t d,
            bool scale_by_sqrt_d = true);

  /// tokens (numel(shape) ids) -> (shape..., d) = scale * E[tokens].
  const Tensor& forward(const std::int32_t* tokens, const Shape& shape);
  const Tensor& forward(const std::vector<std::int32_t>& tokens, const Shape& shape) {
    if (static_cast<std::int64_t>(tokens.size()) != shape_numel(shape))
      throw ShapeError("Embedding::forward: " + std::to_string(tokens.size()) +
                       " tokens for shape " + shape_str(shape));
    return forward(tokens.data(), shape);
  }
  /// Adds scale * dy rows into E.grad at the last forward's tokens (no dx:
  /// token ids have no gradient).
  void backward(const Tensor& dy);

  std::int64_t vocab() const { return vocab_; }
  std::int64_t dim() const { return d_; }
  float scale() const { return scale_; }
  Parameter& weight() { return *weight_; }

 private:
  std::int64_t vocab_, d_;
  float scale_;
  Parameter* weight_;
  std::vector<std::int32_t> tokens_;
  Shape in_shape_;
  Tensor y_;
};

/// logits = h E^T + b with E the Embedding's table (no sqrt(d) scale here).
class TiedProjection {
 public:
  /// Declares "<prefix>.bias" (vocab) when `bias` (zeros); the weight is `embedding`'s.
  TiedProjection(ParameterSet& params, const std::string& prefix, Embedding& embedding,
                 bool bias = true);

  /// h (..., d) -> logits (..., vocab).
  const Tensor& forward(const Tensor& h);
  /// Adds dlogits^T h into E.grad and column sums into the bias; returns dh.
  const Tensor& backward(const Tensor& dlogits);

  Parameter* bias() { return bias_; }

 private:
  Embedding& emb_;
  Parameter* bias_ = nullptr;
  Tensor h_;  // view of the last input
  Tensor logits_, dh_;
};

}  // namespace partita::nn
