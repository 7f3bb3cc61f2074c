// TransformerXL: the performance-event language model that extends a track
// (after the AWS DeepComposer samples' Transformer-XL, MIT-0; Dai et al. 2019).
//
// Tokens are performance events (music/events.hpp: 310 ids, <S> = 0, <PAD> = 1).
// A segment of T tokens per batch row, with the memory of earlier segments, goes
//
//   h_0 = dropout(sqrt(d_model) E[tokens])                    E: (vocab, d_model)
//   r   = dropout(R)                                           R: sinusoidal, distances M+T-1 .. 0
//   h_{l+1} = FF_l(Attn_l(h_l, mem_l, r))                      l = 0 .. layers-1
//   logits = dropout(h_L) E^T + b                              the embedding table, tied
//
// Attn_l is relative multi-head attention with the biases u, v shared by all
// layers (nn/rel_attention.hpp), FF_l the position-wise feed-forward block
// (nn/positionwise_ff.hpp); both are post-LayerNorm residual blocks. The loss is
// the mean cross-entropy of the next-token targets, <PAD> targets ignored.
//
// Memory: mem_l holds layer l's INPUT h_l of the previous segments, at most
// `memory` positions, and receives no gradient (Transformer-XL stops it). The
// caller owns it as a TransformerXLMemory, so each batch row keeps its own
// context; clear_row(b) starts row b afresh (its old positions are masked, see
// RelMultiHeadAttention::forward's mem_start). Every forward extends the memory
// by the segment: mem <- last `memory` positions of [mem; h_l].
//
// Generation: begin_generation / prime / next_logits run the same network in eval
// mode on a per-layer key/value cache (nn::RelAttentionCache): a token costs one
// row of projections per layer, however long the context. The cache keeps the last
// `memory` positions, as Transformer-XL's memory does: prime feeds its tokens
// `segment` at a time, so its logits equal forward() on the same segments with a
// TransformerXLMemory; next_logits feeds one token, so it equals forward() on
// one-token segments. While the context is at most memory + 1 tokens (prime's:
// until a chunk starts past `memory`), nothing has dropped and the logits equal
// those of one forward over the whole context.
//
// Parameter names are the PyTorch twin's (tools/torch_twins/transformer_xl_twin.py):
// "word_emb.weight" (vocab, d_model), "r_w_bias", "r_r_bias" (heads, d_head),
// "layers.<l>.dec_attn.{qkv_net,r_net,o_net}.weight", "layers.<l>.dec_attn.layer_norm.*",
// "layers.<l>.pos_ff.CoreNet.{0,3}.{weight,bias}", "layers.<l>.pos_ff.layer_norm.*",
// "out.bias" (vocab). Model files (model_file.hpp) have kind "transformer_xl" and the
// TransformerXLConfig as "config".
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "partita/core/tensor.hpp"
#include "partita/data/token_streams.hpp"
#include "partita/models/trainer.hpp"
#include "partita/core/random.hpp"
#include "partita/music/score.hpp"
#include "partita/nn/parameters.hpp"

namespace partita::models {

struct TransformerXLConfig {
  int vocab = 310;               // token ids 0..vocab-1 (the performance codec's 310)
  int layers = 4;
  int heads = 10;
  int d_model = 500;
  int d_head = 50;
  int d_inner = 1000;            // position-wise feed-forward width
  float dropout = 0.1f;          // embeddings, positions, attention output, FF, final hidden states
  float dropout_attention = 0.0f;// attention probabilities
  int segment = 128;             // training segment length (tokens per row and step)
  int memory = 512;              // positions of memory kept per layer

  /// The reference network (9,170,310 parameters).
  static TransformerXLConfig reference() { return TransformerXLConfig{}; }
  /// The shipped size: 4 layers, 8 heads of 32, d_model 256, d_inner 1024,
  /// segment 128, memory 512.
  static TransformerXLConfig medium();
  /// A small network for tests: 2 layers, 3 heads of 6, d_model 24, d_inner 40,
  /// segment 8, memory 16, vocab 310 (16,266 parameters).
  static TransformerXLConfig small();

  /// InvalidArgument (naming `who`) if a field is out of range.
  void validate(const char* who) const;
  std::string to_json() const;
  /// Parse to_json()'s output; WeightsError (naming `who`) on anything else.
  static TransformerXLConfig from_json(const std::string& text, const char* who);
  bool operator==(const TransformerXLConfig& o) const;
  bool operator!=(const TransformerXLConfig& o) const { return !(*this == o); }
};

/// The memory of a batch: per layer, the layer inputs of the last positions
/// (length(), batch(), d_model), time first, with a per-row count of the positions
/// that row may attend (the rest are older than its last clear_row).
class TransformerXLMemory {
 public:
  TransformerXLMemory() = default;

  /// Rows (0 until the first forward).
  std::int64_t batch() const { return batch_; }
  /// Positions held per layer (the longest row's).
  std::int64_t length() const { return length_; }
  /// Positions row `row` attends (<= length()).
  std::int64_t row_length(std::int64_t row) const;
  /// Layer l's memory (length(), batch(), d_model); empty while length() is 0.
  const Tensor& layer(int l) const;
  int layers() const { return static_cast<int>(layers_.size()); }

  /// Forget every row (the batch size may change afterwards).
  void clear();
  /// Forget row `row`'s positions (InvalidArgument outside 0..batch()-1).
  void clear_row(std::int64_t row);

 private:
  friend struct TransformerXLImpl;
  std::vector<Tensor> layers_;
  std::vector<Tensor> spare_;  // the previous buffers, reused by the next extension
  std::vector<std::int64_t> rows_;
  std::int64_t batch_ = 0, length_ = 0;
};

/// Options of TransformerXL::fit: the loop's (trainer.hpp) and the model's own.
/// One step is one segment per batch row (data::SegmentBatcher: each row walks a
/// piece's segments in order with its memory carried; a row that moves to a new
/// piece has its memory cleared); an epoch is one pass over the pieces in an
/// order drawn from (seed, epoch). Learning rate: optim::InverseSqrtSchedule(lr,
/// warmup_steps, lr_floor) of Adam's step count; gradients clipped to a global
/// norm of clip_norm before each update.
struct TransformerXLFitOptions : FitOptions {
  std::int64_t batch_size = 64;
  double lr = 5e-4;                  // peak, reached after the warm-up
  std::int64_t warmup_steps = 4000;
  double lr_floor = 2.5e-5;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double clip_norm = 1.0;            // 0: no clipping
  /// Validation: the negative log-likelihood per target token (nats) over the
  /// validation pieces, at most this many steps of them (0: all).
  std::int64_t max_valid_batches = 0;
};

/// Controls of TransformerXL::extend (the Music Studio's, plus top-k and a seed).
struct ExtendOptions {
  double seconds = 30.0;      // length of the continuation: generated time shifts add up to this
  double temperature = 0.95;  // logits / temperature before sampling (> 0)
  double top_p = 0.95;        // nucleus: the smallest set of tokens holding this probability (0 < p <= 1)
  int top_k = 0;              // also at most the k likeliest tokens (0: no limit)
  int track = -1;             // the track to continue (-1: the first non-drum track with notes)
  std::uint64_t seed = 0;
  /// Safety stop: at most this many generated tokens (0: 400 per second requested,
  /// 25x the chorales' density). The report says when it stopped there.
  std::int64_t max_tokens = 0;
};

/// What TransformerXL::extend did.
struct ExtendReport {
  std::int64_t prime_tokens = 0;      // <S> and the input track's events
  std::int64_t generated_tokens = 0;
  double generated_seconds = 0.0;     // the continuation's time shifts
  std::int64_t notes_added = 0;
  bool hit_max_tokens = false;
  double prime_ms = 0.0, generate_ms = 0.0;
};

/// One token drawn from `logits` (n values): divided by `temperature`, the top_k
/// likeliest kept (0: all), then the smallest set whose probability reaches top_p
/// (ties at the boundary kept in id order), renormalised. Tokens in `banned`
/// (ids) never come. `scratch` is reused between calls. InvalidArgument for a
/// temperature <= 0, top_p outside (0, 1], top_k < 0, or no token left.
int sample_token(const float* logits, int n, double temperature, double top_p, int top_k, Generator& rng,
                 const std::vector<int>& banned, std::vector<std::pair<float, int>>& scratch);

struct TransformerXLImpl;  // the layers (src/models/transformer_xl_impl.hpp)

class TransformerXL {
 public:
  /// A freshly initialised network (seeded): weights N(0, 0.02), LayerNorms 1 / 0,
  /// the output bias 0.
  explicit TransformerXL(const TransformerXLConfig& config = TransformerXLConfig::reference(),
                         std::uint64_t seed = 0);
  ~TransformerXL();
  TransformerXL(TransformerXL&&) noexcept;
  TransformerXL& operator=(TransformerXL&&) noexcept;

  /// The network a model file describes, in eval mode. WeightsError if it is not a
  /// "transformer_xl" model file this build reads.
  static TransformerXL load(const std::string& path);
  /// A shipped model by name (registry.hpp), in eval mode. InvalidArgument for an
  /// unknown name or another kind's model.
  static TransformerXL pretrained(const std::string& name);
  /// Save a model file (twin layout, kind "transformer_xl", the config), atomically.
  void save(const std::string& path, const std::vector<std::pair<std::string, std::string>>& extra = {}) const;

  const TransformerXLConfig& config() const;
  nn::ParameterSet& parameters();
  std::int64_t parameter_count() const;  // trainable
  /// Training mode turns every dropout on (default on).
  void set_training(bool training);
  bool training() const;
  /// Reseed every dropout stream (fit does it each epoch from (seed, epoch)).
  void reseed_dropout(std::uint64_t seed);

  /// Logits (batch, time, vocab) of `tokens` (batch, time) given `memory`, which is
  /// then extended by the segment (see the top of this file). ShapeError when the
  /// memory holds another batch size; InvalidArgument for an id outside the vocabulary.
  const Tensor& forward(const data::TokenBatch& tokens, TransformerXLMemory& memory);
  /// The mean cross-entropy of `targets` (same shape as tokens; <PAD> ignored) and
  /// its gradient into parameters().grads() (zeroed first); the memory is extended
  /// as by forward() and gets no gradient. A batch of only <PAD> targets gives 0.
  float loss_and_backward(const data::TokenBatch& tokens, const data::TokenBatch& targets,
                          TransformerXLMemory& memory);
  /// The loss without gradients, in eval mode (the previous mode is restored);
  /// `counted`, when given, receives the number of targets that are not <PAD>.
  float evaluate_loss(const data::TokenBatch& tokens, const data::TokenBatch& targets,
                      TransformerXLMemory& memory, std::int64_t* counted = nullptr);

  /// Negative log-likelihood per target token (nats) of every piece of `streams`,
  /// read as training reads them (data::SegmentBatcher rows of `batch_size`, the
  /// memory carried along each piece and cleared between pieces), in eval mode;
  /// at most `max_batches` steps (0: all). `counted`, when given, receives the
  /// number of targets. 0 when there is no target.
  double evaluate_nll(const data::TokenStreams& streams, std::int64_t batch_size = 16, std::int64_t max_batches = 0,
                      std::int64_t* counted = nullptr);

  /// Start `batch` generated sequences with an empty context. The cache keeps the
  /// last `memory` positions (0: config().memory). Weights must not change until the
  /// next begin_generation.
  void begin_generation(std::int64_t batch = 1, std::int64_t memory = 0);
  /// Feed `tokens` (batch, n >= 1) to every sequence, `segment` at a time; returns
  /// the logits (batch, vocab) of the token after the last one fed.
  const Tensor& prime(const data::TokenBatch& tokens);
  /// The same sequence for every row.
  const Tensor& prime(const std::vector<std::int32_t>& tokens);
  /// Feed one token per row (tokens.size() == batch); returns the logits
  /// (batch, vocab) of the next token.
  const Tensor& next_logits(const std::vector<std::int32_t>& tokens);
  /// Positions fed since begin_generation (the cache holds the last `memory` of them).
  std::int64_t generated_length() const;

  /// The input with track `options.track` continued: primed with <S> and the
  /// whole track's performance events (through the cache's memory, segment by
  /// segment), then tokens drawn by sample_token one position at a time until
  /// the generated time shifts add up to options.seconds. The continuation's
  /// notes are appended to that track (same program and channel) from the
  /// input's last event on, placed on the input's tempo map; every other track,
  /// the tempo map and the input's notes are unchanged. Notes still sounding at
  /// the end are ended there. InvalidArgument for a bad track (drums, no notes,
  /// out of range) or control.
  Score extend(const Score& score, const ExtendOptions& options = {}, ExtendReport* report = nullptr);

  /// Train on the `train` pieces, validate on `valid` (may be empty) each epoch.
  /// Step losses: "loss" (mean cross-entropy of the step's targets), "lr", "grad_norm"
  /// (before clipping). Validation: NLL per token. The memory is cleared at every
  /// epoch start (each row starts a new piece) and checkpoints are written at epoch
  /// ends, so a resumed run needs no memory from the checkpoint and repeats the
  /// uninterrupted one bit for bit.
  FitResult fit(const data::TokenStreams& train, const data::TokenStreams& valid,
                const TransformerXLFitOptions& options, const FitCallbacks& callbacks = {});

 private:
  std::unique_ptr<TransformerXLImpl> impl_;
};

}  // namespace partita::models
