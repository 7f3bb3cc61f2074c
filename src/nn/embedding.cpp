// Embedding lookup (a scaled gather / scatter-add) and the tied output projection.
#include "partita/nn/embedding.hpp"

#include <cmath>

#include "partita/core/error.hpp"
#include "partita/core/gemm.hpp"

namespace partita::nn {

Embedding::Embedding(ParameterSet& params, const std::string& prefix, std::int64_t vocab,
                     std::int64_t d, bool scale_by_sqrt_d)
    : vocab_(vocab), d_(d) {
  if (vocab < 1 || d < 1)
    throw InvalidArgument("Embedding(" + prefix + "): vocab and d must be >= 1, got vocab=" +
                          std::to_string(vocab) + " d=" + std::to_string(d));
  scale_ = scale_by_sqrt_d ? std::sqrt(static_cast<float>(d)) : 1.0f;
  weight_ = &params.add(prefix + ".weight", {vocab_, d_}, init_normal(0.0f, 0.02f));
}

const Tensor& Embedding::forward(const std::int32_t* tokens, const Shape& shape) {
  std::int64_t n = shape_numel(shape);
  if (n > 0 && tokens == nullptr) throw InvalidArgument("Embedding::forward: null token pointer");
  for (std::int64_t i = 0; i < n; ++i)
    if (tokens[i] < 0 || tokens[i] >= vocab_)
      throw InvalidArgument("Embedding::forward: token " + std::to_string(tokens[i]) +
                            " at position " + std::to_string(i) + " outside [0, " +
                            std::to_string(vocab_) + ")");
  tokens_.assign(tokens, tokens + n);
  in_shape_ = shape;
  Shape ys = shape;
  ys.push_back(d_);
  y_.resize(ys);
  const float* e = weight_->value.data();
  for (std::int64_t i = 0; i < n; ++i) {
    const float* row = e + static_cast<std::int64_t>(tokens_[i]) * d_;
    float* out = y_.data() + i * d_;
    for (std::int64_t k = 0; k < d_; ++k) out[k] = scale_ * row[k];
  }
  return y_;
}

void Embedding::backward(const Tensor& dy) {
  Shape ys = in_shape_;
  ys.push_back(d_);
  dy.expect_shape(ys, "Embedding::backward");
  float* g = weight_->grad.data();
  // Serial scatter-add: a token may repeat, so rows of E.grad can collide.
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    float* row = g + static_cast<std::int64_t>(tokens_[i]) * d_;
    const float* src = dy.data() + static_cast<std::int64_t>(i) * d_;
    for (std::int64_t k = 0; k < d_; ++k) row[k] += scale_ * src[k];
  }
}

TiedProjection::TiedProjection(ParameterSet& params, const std::string& prefix,
                               Embedding& embedding, bool bias)
    : emb_(embedding) {
  if (bias) bias_ = &params.add(prefix + ".bias", {emb_.vocab()}, init_zeros());
}

const Tensor& TiedProjection::forward(const Tensor& h) {
  const std::int64_t d = emb_.dim(), v = emb_.vocab();
  if (h.rank() < 1 || h.dim(-1) != d)
    throw ShapeError("TiedProjection::forward: expected last extent " + std::to_string(d) +
                     ", got " + shape_str(h.shape()));
  std::int64_t rows = h.size() / d;
  h_ = Tensor::view(const_cast<float*>(h.data()), h.shape());
  Shape ls = h.shape();
  ls.back() = v;
  logits_.resize(ls);
  if (bias_) {
    const float* b = bias_->value.data();
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t j = 0; j < v; ++j) logits_[r * v + j] = b[j];
  }
  // logits (rows, v) = h (rows, d) * E^T (d, v)
  gemm(Trans::No, Trans::Yes, rows, v, d, 1.0f, h.data(), d, emb_.weight().value.data(), d,
       bias_ ? 1.0f : 0.0f, logits_.data(), v);
  return logits_;
}

const Tensor& TiedProjection::backward(const Tensor& dlogits) {
  const std::int64_t d = emb_.dim(), v = emb_.vocab();
  if (h_.shape().empty()) throw InvalidArgument("TiedProjection::backward: called before forward");
  Shape ls = h_.shape();
  ls.back() = v;
  dlogits.expect_shape(ls, "TiedProjection::backward");
  std::int64_t rows = h_.size() / d;
  // dE (v, d) += dlogits^T (v, rows) * h (rows, d)
  gemm(Trans::Yes, Trans::No, v, d, rows, 1.0f, dlogits.data(), v, h_.data(), d, 1.0f,
       emb_.weight().grad.data(), d);
  if (bias_) {
    float* db = bias_->grad.data();
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t j = 0; j < v; ++j) db[j] += dlogits[r * v + j];
  }
  // dh (rows, d) = dlogits (rows, v) * E (v, d)
  dh_.resize(h_.shape());
  gemm(Trans::No, Trans::No, rows, d, v, 1.0f, dlogits.data(), v, emb_.weight().value.data(), d,
       0.0f, dh_.data(), d);
  return dh_;
}

}  // namespace partita::nn
