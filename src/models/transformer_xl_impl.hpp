// Private: the layers of the Transformer-XL (shared by transformer_xl*.cpp, not installed).
#pragma once
#include <memory>
#include <vector>

#include "partita/models/transformer_xl.hpp"
#include "partita/nn/cross_entropy.hpp"
#include "partita/nn/dropout.hpp"
#include "partita/nn/embedding.hpp"
#include "partita/nn/positionwise_ff.hpp"
#include "partita/nn/rel_attention.hpp"

namespace partita::models {

inline constexpr std::int32_t kTxlPad = 1;  // <PAD> (music/events.hpp)

struct TransformerXLLayer {
  std::unique_ptr<nn::RelMultiHeadAttention> attn;
  std::unique_ptr<nn::PositionwiseFF> ff;
};

struct TransformerXLImpl {
  /// allocate = false only declares the parameters (names and shapes).
  TransformerXLImpl(const TransformerXLConfig& config, std::uint64_t seed, bool allocate = true);

  void set_training(bool t);
  void reseed_dropout(std::uint64_t seed);

  /// Logits (T, B, vocab) of tokens (B, T) with `memory` (checked, not yet
  /// extended). Keeps what backward() and extend_memory() need.
  const Tensor& forward(const data::TokenBatch& tokens, TransformerXLMemory& memory, const char* who);
  /// d loss / d logits (T, B, vocab) -> parameter gradients.
  void backward(const Tensor& dlogits);
  /// After forward (and backward): memory <- last `memory` positions of [memory; layer inputs].
  void extend_memory(TransformerXLMemory& memory) const;
  /// Targets (B, T) as the (T, B) rows of the logits; ShapeError on a shape mismatch.
  const std::vector<std::int32_t>& time_major_targets(const data::TokenBatch& targets, const char* who);

  /// Generation: x (T, B, d_model) through the layers on the caches (eval mode);
  /// returns the logits (B, vocab) of the last time row.
  const Tensor& step(const std::vector<std::int32_t>& time_major, std::int64_t T, std::int64_t B);

  TransformerXLConfig config;
  nn::ParameterSet params;
  std::unique_ptr<nn::Embedding> emb;
  nn::RelPositionBiases biases{};
  std::vector<TransformerXLLayer> layers;
  std::unique_ptr<nn::TiedProjection> out;
  nn::Dropout drop_emb, drop_pos, drop_out;
  nn::SoftmaxCrossEntropy loss{kTxlPad};
  bool training = true;

  // Forward state.
  std::int64_t T_ = 0, B_ = 0;
  std::vector<std::int32_t> tokens_tm_, targets_tm_;  // (T, B)
  Tensor positions_;                                  // R (M + T, d_model)
  std::vector<const Tensor*> inputs_;                 // h_0 .. h_L (T, B, d_model)
  std::vector<std::int64_t> mem_start_;
  Tensor no_memory_, logits_bt_;

  // Generation state.
  std::vector<nn::RelAttentionCache> caches_;
  std::int64_t gen_batch_ = 0, gen_length_ = 0;
  std::vector<std::int32_t> gen_tokens_;
  Tensor gen_last_;
};

}  // namespace partita::models
