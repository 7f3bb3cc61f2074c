// TransformerXL incremental inference: the layers on per-layer key/value caches
// (nn::RelAttentionCache), so that a new token costs one row per layer.
#include <algorithm>
#include <cstring>

#include "models/transformer_xl_impl.hpp"
#include "partita/core/error.hpp"

namespace partita::models {

const Tensor& TransformerXLImpl::step(const std::vector<std::int32_t>& time_major, std::int64_t T, std::int64_t B) {
  // Eval mode for the layers that have dropout; the caller's mode comes back after.
  const bool was = training;
  TrainingModeGuard guard([this](bool t) { set_training(t); }, was);
  set_training(false);
  const Tensor* h = &emb->forward(time_major, {T, B});
  for (std::size_t l = 0; l < layers.size(); ++l)
    h = &layers[l].ff->forward(layers[l].attn->forward_step(*h, caches_[l]));
  const std::int64_t E = config.d_model;
  const Tensor last = Tensor::view(const_cast<float*>(h->data()) + (T - 1) * B * E, {B, E});
  gen_last_ = out->forward(last);  // (B, vocab)
  gen_length_ += T;
  return gen_last_;
}

void TransformerXL::begin_generation(std::int64_t batch, std::int64_t memory) {
  const char* who = "TransformerXL::begin_generation";
  if (batch < 1) throw InvalidArgument(std::string(who) + ": batch must be >= 1, got " + std::to_string(batch));
  if (memory < 0) throw InvalidArgument(std::string(who) + ": memory must be >= 0, got " + std::to_string(memory));
  TransformerXLImpl& m = *impl_;
  const std::int64_t keep = memory > 0 ? memory : m.config.memory;
  m.caches_.assign(static_cast<std::size_t>(m.config.layers), nn::RelAttentionCache(keep));
  m.gen_batch_ = batch;
  m.gen_length_ = 0;
}

const Tensor& TransformerXL::prime(const data::TokenBatch& tokens) {
  const char* who = "TransformerXL::prime";
  TransformerXLImpl& m = *impl_;
  if (m.gen_batch_ == 0) throw InvalidArgument(std::string(who) + ": call begin_generation first");
  const std::int64_t B = m.gen_batch_, n = tokens.time;
  if (tokens.batch != B || n < 1 || static_cast<std::int64_t>(tokens.ids.size()) != B * n)
    throw ShapeError(std::string(who) + ": expected (" + std::to_string(B) + ", n >= 1) tokens, got " +
                     std::to_string(tokens.batch) + " x " + std::to_string(n));
  // Segment by segment, as Transformer-XL's evaluation: each chunk sees the cache.
  const std::int64_t S = m.config.segment;
  for (std::int64_t from = 0; from < n; from += S) {
    const std::int64_t T = std::min(S, n - from);
    m.gen_tokens_.resize(static_cast<std::size_t>(T * B));
    for (std::int64_t t = 0; t < T; ++t)
      for (std::int64_t b = 0; b < B; ++b) m.gen_tokens_[static_cast<std::size_t>(t * B + b)] = tokens.at(b, from + t);
    m.step(m.gen_tokens_, T, B);
  }
  return m.gen_last_;
}

const Tensor& TransformerXL::prime(const std::vector<std::int32_t>& tokens) {
  const std::int64_t B = std::max<std::int64_t>(impl_->gen_batch_, 1), n = static_cast<std::int64_t>(tokens.size());
  data::TokenBatch batch(B, n);
  for (std::int64_t b = 0; b < B; ++b) std::copy(tokens.begin(), tokens.end(), batch.ids.begin() + b * n);
  return prime(batch);
}

const Tensor& TransformerXL::next_logits(const std::vector<std::int32_t>& tokens) {
  const char* who = "TransformerXL::next_logits";
  TransformerXLImpl& m = *impl_;
  if (m.gen_batch_ == 0) throw InvalidArgument(std::string(who) + ": call begin_generation first");
  if (static_cast<std::int64_t>(tokens.size()) != m.gen_batch_)
    throw ShapeError(std::string(who) + ": expected one token per sequence (" + std::to_string(m.gen_batch_) +
                     "), got " + std::to_string(tokens.size()));
  return m.step(tokens, 1, m.gen_batch_);
}

std::int64_t TransformerXL::generated_length() const { return impl_->gen_length_; }

}  // namespace partita::models
