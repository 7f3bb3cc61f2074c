// Multi-head attention with Transformer-XL relative positions and segment memory.
//
// This is the "RelPartialLearnable" attention of Dai et al. 2019 (Transformer-XL),
// the block the track-extension model stacks 4 times. Sequences are laid out
// (time, batch, d) as in the reference code. For a segment x (qlen, B, d_model)
// and the previous segment's layer input mem (mlen, B, d_model), klen = mlen + qlen:
//
//   [q | k | v] = [mem; x] W_qkv        (no bias; q is only needed for the x rows)
//   r_k = R W_r                         R: sinusoidal table (klen, d_model), see positional.hpp
//   AC[i, j] = (q_i + u) . k_j          u = r_w_bias (n_head, d_head), shared by all layers
//   BD       = rel_shift((q + v) r_k^T) v = r_r_bias (n_head, d_head), shared by all layers
//   score    = (AC + BD) / sqrt(d_head), masked where j > i + mlen (causal with memory)
//   P        = dropout_att(softmax_j(score));  o_i = sum_j P_ij v_j
//   y        = LayerNorm(x + dropout(o W_o))  (post-norm residual)
//
// mem receives no gradient (Transformer-XL stops it); the projections' weight
// gradients do include the memory rows' keys and values. Parameter names follow the
// PyTorch twin: "<prefix>.qkv_net.weight" (d_model, 3 n_head d_head in memory),
// "<prefix>.r_net.weight", "<prefix>.o_net.weight", "<prefix>.layer_norm.{weight,bias}".
// u and v live outside the layer (add_rel_position_biases) and are referenced.
//
// Implementation: the attention core runs one (batch, head) tile at a time, in
// parallel over tiles; a tile's keys and values are first copied to contiguous
// (klen, d_head) blocks, and its scores (qlen x klen) stay in cache from the two
// score gemms through the shift, scale, mask, softmax and dropout to the P.V gemm.
// The shift is not materialised: on the unmasked entries rel_shift is a per-row
// offset (forward), and its adjoint is a strided view of dS (backward). The softmax
// output is kept for backward with the dropout decision in its sign bit
// (probabilities are >= 0, so -P means "dropped"); no separate mask is stored.
// Dropout decisions come from a counter-based hash of (seed, element index), so a
// seed gives the same masks for any thread count. Only the memory rows' keys and
// values and the x rows' queries are projected (the reference projects q for the
// memory too and throws it away).
//
// Generation: forward_step with a RelAttentionCache keeps the projected keys and
// values of the last mem_len positions, so a new token costs one row of
// projections instead of mem_len + 1 (benchmarks/bench_attention.cpp measures it).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "partita/core/random.hpp"
#include "partita/core/tensor.hpp"
#include "partita/nn/layernorm.hpp"
#include "partita/nn/parameters.hpp"

namespace partita::nn {

/// Transformer-XL's _rel_shift on one (qlen, klen) score matrix: pad a zero column
/// on the left -> (qlen, klen+1), reinterpret the buffer as (klen+1, qlen), drop the
/// first row, reinterpret as (qlen, klen). Flat: out[f] = padded[f + qlen]. Where
/// j <= i + klen - qlen this is out[i][j] = x[i][j + qlen - 1 - i] (the relative
/// distance (klen - qlen + i) - j); other entries hold wrapped values that the causal
/// mask removes. `out` must not alias `x`.
void rel_shift(const float* x, std::int64_t qlen, std::int64_t klen, float* out);
/// Adjoint of rel_shift: dx = rel_shift^T dout (entries that come from the padding
/// column get no gradient). `dx` must not alias `dout`.
void rel_shift_backward(const float* dout, std::int64_t qlen, std::int64_t klen, float* dx);

struct RelAttentionConfig {
  std::int64_t d_model = 500;
  std::int64_t n_head = 10;
  std::int64_t d_head = 50;
  float dropout = 0.1f;   // on the output projection, before the residual
  float dropatt = 0.0f;   // on the attention probabilities
  float layer_norm_eps = 1e-5f;
};

/// The shared u (r_w_bias) and v (r_r_bias) of a Transformer-XL, each (n_head, d_head),
/// named "<prefix>r_w_bias" / "<prefix>r_r_bias" (prefix "" gives the reference names),
/// initialised N(0, 0.02).
struct RelPositionBiases {
  Parameter* r_w_bias;
  Parameter* r_r_bias;
};
RelPositionBiases add_rel_position_biases(ParameterSet& params, const std::string& prefix,
                                          std::int64_t n_head, std::int64_t d_head);

/// Inference state of one attention layer for incremental decoding (a KV cache):
/// the projected keys and values of up to `mem_len` previous positions, and the
/// r_net projection of the position table. With it, extending a sequence by one
/// token costs the projections of one row instead of mem_len + 1 rows. It assumes
/// fixed weights: call reset() after the weights change, clear() to start a new
/// sequence.
class RelAttentionCache {
 public:
  explicit RelAttentionCache(std::int64_t mem_len = 512);
  /// Previous positions currently cached (<= mem_len).
  std::int64_t length() const { return len_; }
  std::int64_t mem_len() const { return mem_len_; }
  /// Forget the cached positions (keeps the position table).
  void clear();
  /// Forget everything, including the projected position table.
  void reset();

 private:
  friend class RelMultiHeadAttention;
  std::int64_t mem_len_;
  std::int64_t len_ = 0, batch_ = 0, width_ = 0;
  // Positions start_ .. start_ + len_ - 1 of kv_, each (batch, 2 * n_head * d_head):
  // keys then values. The oldest drop by moving start_; the buffer is compacted
  // only when a step would run past its end (every ~mem_len steps).
  std::int64_t start_ = 0;
  std::vector<float> kv_;
  // Batch 1: the keys again, transposed (n_head * d_head rows of kt_cap_ positions,
  // the columns kv_'s positions), so that one query's scores are a row-times-matrix
  // product over the keys as stored; rkt_ is rk_ transposed for the same reason.
  std::vector<float> kt_;
  std::int64_t kt_cap_ = 0;
  bool kt_valid_ = false;
  Tensor rkt_;
  Tensor rk_;              // (n, n_head * d_head): row n-1-d = r_net(R(distance d))
};

class RelMultiHeadAttention {
 public:
  /// Declares the layer's own parameters (weights N(0, 0.02) as Transformer-XL's
  /// init, LayerNorm ones/zeros); u and v must be (n_head, d_head) parameters of the
  /// same ParameterSet. `seed` seeds the dropout stream.
  RelMultiHeadAttention(ParameterSet& params, const std::string& prefix,
                        const RelAttentionConfig& config, const RelPositionBiases& biases,
                        std::uint64_t seed = 0);

  /// x (qlen, B, d_model); mem (mlen, B, d_model) or an empty tensor for no memory;
  /// r (mlen + qlen, d_model), the (possibly dropped-out) sinusoidal table.
  /// `mem_start`, when not empty, holds one entry per batch row: the first memory
  /// position (0..mlen) that row's queries attend; the memory positions before it are
  /// masked, as for a row whose memory was cleared or holds fewer positions than the
  /// others. Positions are relative, so a row masked to its last m memory positions
  /// gets the output it would get alone with a memory of those m positions.
  /// Returns (qlen, B, d_model). Keeps views of x, mem and r until backward().
  const Tensor& forward(const Tensor& x, const Tensor& mem, const Tensor& r,
                        const std::vector<std::int64_t>& mem_start = {});
  /// Inference step: the output forward(x, mem, R) would give in eval mode, where mem
  /// is the (up to mem_len) layer inputs this cache has seen, then x's keys and values
  /// join the cache (the oldest beyond mem_len drop out). No dropout, no backward.
  /// x (qlen, B, d_model) -> (qlen, B, d_model).
  const Tensor& forward_step(const Tensor& x, RelAttentionCache& cache);
  /// dy (qlen, B, d_model) -> dx; adds into every parameter gradient (u and v too).
  const Tensor& backward(const Tensor& dy);

  /// Training mode enables both dropouts (default on, as torch modules).
  void set_training(bool on) { training_ = on; }
  bool training() const { return training_; }
  void set_seed(std::uint64_t seed) { rng_.reseed(seed); }

  /// Attention probabilities of the last forward, (B, n_head, qlen, klen); a negative
  /// entry (sign bit set) is a probability that dropout removed.
  const Tensor& attention_probs() const { return probs_; }
  const RelAttentionConfig& config() const { return cfg_; }

 private:
  // Per-thread tile buffers (resized, never shrunk, across calls).
  struct Scratch {
    Tensor qu, qv;      // (qlen, Dh): q + u and q + v of one (batch, head)
    Tensor bd, pd;      // (qlen, klen): raw BD scores / dropped-out probs / dBD
    Tensor dqu, dqv;    // (qlen, Dh)
    Tensor kc, vc;      // (klen, Dh): contiguous copies of one tile's keys and values
    Tensor dkc, dvc;    // (klen, Dh): their gradients before the scatter into dkv_
    Tensor doc;         // (qlen, Dh): contiguous copy of the tile's d attn_vec
  };

  void project_positions(const Tensor& r);          // rk_, rkh_ from R
  // rk_rows, when given (inference steps of 1 or 2 queries), are the position
  // projections for distances klen-1 .. 0 as rows of n_head * d_head, read in place
  // (as are the cached keys and values) instead of gathered per head.
  // kt/rkt, when given (one query of batch 1), are the keys and the position rows
  // transposed: rows of d_head per head, ldkt / ldrkt apart, one column per key.
  struct StepView {
    const float* rk_rows = nullptr;
    const float* kt = nullptr;
    std::int64_t ldkt = 0;
    const float* rkt = nullptr;
    std::int64_t ldrkt = 0;
  };
  void attend(const float* kv, std::int64_t mlen, std::int64_t qlen, std::int64_t batch,
              const StepView* step = nullptr);
  const Tensor& finish(const Tensor& x);            // o_net, dropout, residual, LayerNorm

  RelAttentionConfig cfg_;
  Parameter* qkv_w_;
  Parameter* o_w_;
  LayerNorm ln_;
  Parameter* r_w_;
  Parameter* u_;
  Parameter* v_;
  Generator rng_;
  bool training_ = true;

  // Cached by forward.
  std::int64_t qlen_ = 0, mlen_ = 0, bsz_ = 0;
  bool att_drop_ = false, out_drop_ = false;
  std::uint64_t att_seed_ = 0, out_seed_ = 0;
  std::vector<std::int64_t> key_start_;  // per batch row, the first key attended (empty: 0)
  Tensor x_, mem_, r_;      // views of the inputs
  Tensor q_;                // (qlen, B, H*Dh)
  Tensor kv_;               // (klen, B, 2*H*Dh): keys then values
  Tensor rk_;               // (klen, H*Dh)
  Tensor rkh_;              // (H, klen, Dh): rk_ head-major, contiguous per head
  Tensor probs_;            // (B, H, qlen, klen)
  Tensor attn_vec_;         // (qlen, B, H*Dh)
  Tensor sum_;              // x + dropout(attn_vec W_o), the LayerNorm input
  // Backward buffers.
  Tensor dsum_, dvec_, dq_, dkv_, drk_, dx_;
  Tensor dchunk_;           // per batch chunk: d r_k (klen, H*Dh), du (H*Dh), dv (H*Dh)
  std::vector<Scratch> scratch_;
};

}  // namespace partita::nn
