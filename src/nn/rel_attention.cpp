// Transformer-XL relative multi-head attention: forward, backward, rel_shift.
//
// Shapes below: T = qlen, M = mlen, K = klen = M + T, B = batch, H = heads,
// D = d_head, HD = H * D, E = d_model. Row-major buffers; a (batch, head) tile of
// q is rows i of q_ at column offset b*HD + h*D with row stride B*HD, so every
// per-tile product is a strided gemm with no copies.
#include "partita/nn/rel_attention.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "partita/core/error.hpp"
#include "partita/core/gemm.hpp"
#include "partita/core/threads.hpp"
#include "partita/nn/positional.hpp"
#include "counter_hash.hpp"
#include "fast_exp.hpp"

namespace partita::nn {

using detail::exp_inplace;
using detail::hash_uniform;

namespace {
// Zeros kept in front of each thread's score tile, so that the backward can read
// the adjoint of rel_shift as a strided view (see RelMultiHeadAttention::backward).
std::int64_t shift_pad(std::int64_t qlen) { return (qlen - 1 + 15) / 16 * 16; }

// dst (rows, cols) contiguous <- src with row stride ld.
void gather_rows(const float* src, std::int64_t ld, std::int64_t rows, std::int64_t cols,
                 float* dst) {
  for (std::int64_t i = 0; i < rows; ++i)
    std::memcpy(dst + i * cols, src + i * ld, sizeof(float) * cols);
}
// dst with row stride ld <- src (rows, cols) contiguous.
void scatter_rows(const float* src, std::int64_t rows, std::int64_t cols, float* dst,
                  std::int64_t ld) {
  for (std::int64_t i = 0; i < rows; ++i)
    std::memcpy(dst + i * ld, src + i * cols, sizeof(float) * cols);
}
}  // namespace

// ---------------------------------------------------------------------------
// rel_shift, exactly the reference's pad / reshape / slice, as an index map.
// padded (T, K+1) has padded[i][0] = 0 and padded[i][c] = x[i][c-1]; read flat,
// the output's element f is the padded buffer's element f + T.

void rel_shift(const float* x, std::int64_t qlen, std::int64_t klen, float* out) {
  const std::int64_t w = klen + 1;
  for (std::int64_t f = 0; f < qlen * klen; ++f) {
    const std::int64_t p = f + qlen, row = p / w, col = p % w;
    out[f] = col == 0 ? 0.0f : x[row * klen + col - 1];
  }
}

void rel_shift_backward(const float* dout, std::int64_t qlen, std::int64_t klen, float* dx) {
  // The forward map f -> p = f + T is injective, so the adjoint is a gather:
  // dx[i][c] = dout[p - T] with p = i*(K+1) + c + 1, when 0 <= p - T < T*K.
  const std::int64_t w = klen + 1, n = qlen * klen;
  for (std::int64_t i = 0; i < qlen; ++i)
    for (std::int64_t c = 0; c < klen; ++c) {
      const std::int64_t f = i * w + c + 1 - qlen;
      dx[i * klen + c] = (f >= 0 && f < n) ? dout[f] : 0.0f;
    }
}

RelAttentionCache::RelAttentionCache(std::int64_t mem_len) : mem_len_(mem_len) {
  if (mem_len < 0)
    throw InvalidArgument("RelAttentionCache: mem_len must be >= 0, got " +
                          std::to_string(mem_len));
}

void RelAttentionCache::clear() {
  len_ = 0;
  start_ = 0;
  kt_valid_ = false;
  batch_ = 0;
}

void RelAttentionCache::reset() {
  clear();
  rk_ = Tensor();
  rkt_ = Tensor();
}

RelPositionBiases add_rel_position_biases(ParameterSet& params, const std::string& prefix,
                                          std::int64_t n_head, std::int64_t d_head) {
  if (n_head < 1 || d_head < 1)
    throw InvalidArgument("add_rel_position_biases: n_head and d_head must be >= 1");
  RelPositionBiases b;
  b.r_w_bias = &params.add(prefix + "r_w_bias", {n_head, d_head}, init_normal(0.0f, 0.02f));
  b.r_r_bias = &params.add(prefix + "r_r_bias", {n_head, d_head}, init_normal(0.0f, 0.02f));
  return b;
}

// Validate before any parameter is declared, so a bad call leaves `params` untouched.
static const RelAttentionConfig& checked(const RelAttentionConfig& c, const std::string& prefix,
                                         const RelPositionBiases& b) {
  if (c.d_model < 1 || c.n_head < 1 || c.d_head < 1)
    throw InvalidArgument("RelMultiHeadAttention(" + prefix +
                          "): d_model, n_head and d_head must be >= 1");
  if (!(c.dropout >= 0.0f && c.dropout < 1.0f) || !(c.dropatt >= 0.0f && c.dropatt < 1.0f))
    throw InvalidArgument("RelMultiHeadAttention(" + prefix + "): dropout rates must be in [0, 1)");
  const Shape hd{c.n_head, c.d_head};
  if (!b.r_w_bias || !b.r_r_bias || b.r_w_bias->shape != hd || b.r_r_bias->shape != hd)
    throw ShapeError("RelMultiHeadAttention(" + prefix + "): r_w_bias and r_r_bias must be " +
                     shape_str(hd));
  return c;
}

RelMultiHeadAttention::RelMultiHeadAttention(ParameterSet& params, const std::string& prefix,
                                             const RelAttentionConfig& config,
                                             const RelPositionBiases& biases, std::uint64_t seed)
    : cfg_(checked(config, prefix, biases)),
      qkv_w_(&params.add(prefix + ".qkv_net.weight",
                         {cfg_.d_model, 3 * cfg_.n_head * cfg_.d_head}, init_normal(0.0f, 0.02f),
                         Layout::LinearIO)),
      o_w_(&params.add(prefix + ".o_net.weight", {cfg_.n_head * cfg_.d_head, cfg_.d_model},
                       init_normal(0.0f, 0.02f), Layout::LinearIO)),
      ln_(params, prefix + ".layer_norm", cfg_.d_model, cfg_.layer_norm_eps),
      r_w_(&params.add(prefix + ".r_net.weight", {cfg_.d_model, cfg_.n_head * cfg_.d_head},
                       init_normal(0.0f, 0.02f), Layout::LinearIO)),
      u_(biases.r_w_bias),
      v_(biases.r_r_bias),
      rng_(seed) {}

const Tensor& RelMultiHeadAttention::forward(const Tensor& x, const Tensor& mem, const Tensor& r,
                                             const std::vector<std::int64_t>& mem_start) {
  const std::int64_t E = cfg_.d_model, H = cfg_.n_head, D = cfg_.d_head, HD = H * D;
  if (x.rank() != 3 || x.dim(2) != E || x.dim(0) < 1 || x.dim(1) < 1)
    throw ShapeError("RelMultiHeadAttention::forward: x must be (qlen, batch, " +
                     std::to_string(E) + "), got " + shape_str(x.shape()));
  const std::int64_t T = x.dim(0), B = x.dim(1);
  std::int64_t M = 0;
  if (!mem.empty()) {
    if (mem.rank() != 3 || mem.dim(1) != B || mem.dim(2) != E)
      throw ShapeError("RelMultiHeadAttention::forward: mem must be (mlen, " + std::to_string(B) +
                       ", " + std::to_string(E) + "), got " + shape_str(mem.shape()));
    M = mem.dim(0);
  }
  const std::int64_t K = M + T;
  r.expect_shape({K, E}, "RelMultiHeadAttention::forward (r = positions klen .. 0)");
  if (!mem_start.empty()) {
    if (static_cast<std::int64_t>(mem_start.size()) != B)
      throw ShapeError("RelMultiHeadAttention::forward: mem_start needs one entry per batch row (" +
                       std::to_string(B) + "), got " + std::to_string(mem_start.size()));
    for (std::int64_t s : mem_start)
      if (s < 0 || s > M)
        throw InvalidArgument("RelMultiHeadAttention::forward: mem_start entries must be in 0.." +
                              std::to_string(M) + ", got " + std::to_string(s));
  }
  key_start_ = mem_start;
  x_ = Tensor::view(const_cast<float*>(x.data()), x.shape());
  mem_ = M ? Tensor::view(const_cast<float*>(mem.data()), mem.shape()) : Tensor();
  r_ = Tensor::view(const_cast<float*>(r.data()), r.shape());

  // Projections. W_qkv (E, 3HD) holds [W_q | W_k | W_v] column blocks.
  const float* W = qkv_w_->value.data();
  q_.resize({T, B, HD});
  kv_.resize({K, B, 2 * HD});
  gemm(Trans::No, Trans::No, T * B, HD, E, 1.0f, x.data(), E, W, 3 * HD, 0.0f, q_.data(), HD);
  if (M)
    gemm(Trans::No, Trans::No, M * B, 2 * HD, E, 1.0f, mem.data(), E, W + HD, 3 * HD, 0.0f,
         kv_.data(), 2 * HD);
  gemm(Trans::No, Trans::No, T * B, 2 * HD, E, 1.0f, x.data(), E, W + HD, 3 * HD, 0.0f,
       kv_.data() + M * B * 2 * HD, 2 * HD);
  project_positions(r);
  qlen_ = T;
  mlen_ = M;
  bsz_ = B;

  att_drop_ = training_ && cfg_.dropatt > 0.0f;
  out_drop_ = training_ && cfg_.dropout > 0.0f;
  if (att_drop_) att_seed_ = rng_.next_u64();
  if (out_drop_) out_seed_ = rng_.next_u64();

  attend(kv_.data(), M, T, B);
  return finish(x);
}

void RelMultiHeadAttention::project_positions(const Tensor& r) {
  const std::int64_t E = cfg_.d_model, H = cfg_.n_head, D = cfg_.d_head, HD = H * D;
  const std::int64_t K = r.dim(0);
  rk_.resize({K, HD});
  gemm(Trans::No, Trans::No, K, HD, E, 1.0f, r.data(), E, r_w_->value.data(), HD, 0.0f,
       rk_.data(), HD);
  rkh_.resize({H, K, D});
  for (std::int64_t h = 0; h < H; ++h)
    gather_rows(rk_.data() + h * D, HD, K, D, rkh_.data() + h * K * D);
}

void RelMultiHeadAttention::attend(const float* kv, std::int64_t M, std::int64_t T,
                                   std::int64_t B, const StepView* step) {
  const float* rk_rows = step ? step->rk_rows : nullptr;
  const bool transposed = step && step->kt && T == 1;
  const std::int64_t H = cfg_.n_head, D = cfg_.d_head, HD = H * D, K = M + T;
  // Attention core, one (batch, head) tile per iteration.
  probs_.resize({B, H, T, K});
  attn_vec_.resize({T, B, HD});
  const int nt = num_threads();
  if (static_cast<int>(scratch_.size()) < nt) scratch_.resize(nt);
  const float scale = 1.0f / std::sqrt(static_cast<float>(D));
  const float p_att = cfg_.dropatt, keep_scale = 1.0f / (1.0f - cfg_.dropatt);
  const float* U = u_->value.data();
  const float* V = v_->value.data();
  const std::int64_t ldq = B * HD, ldkv = B * 2 * HD;
  // Small problems (one generated token) run on the calling thread: a thread team's
  // start and barrier would cost more than the work.
  const bool team = B * H * T * K * D >= (std::int64_t{1} << 21);

#pragma omp parallel num_threads(nt) if (team)
  {
    Scratch& s = scratch_[omp_get_thread_num()];
    s.qu.resize({T, D});
    s.qv.resize({T, D});
    s.bd.resize({shift_pad(T) + T * K});
    s.kc.resize({K, D});
    s.vc.resize({K, D});
    if (att_drop_) s.pd.resize({T, K});
#pragma omp for schedule(static)
    for (std::int64_t bh = 0; bh < B * H; ++bh) {
      const std::int64_t b = bh / H, h = bh % H;
      const float* q = q_.data() + b * HD + h * D;
      // Keys, values and position rows of this head: in place (strided) for an
      // inference step, else gathered into contiguous blocks for the products.
      const float* k = kv + b * 2 * HD + h * D;
      const float* v = k + HD;
      std::int64_t ldk = ldkv;
      const float* rk = rk_rows ? rk_rows + h * D : rkh_.data() + h * K * D;
      const std::int64_t ldr = rk_rows ? HD : D;
      if (!rk_rows && !transposed) {
        gather_rows(k, ldkv, K, D, s.kc.data());
        gather_rows(v, ldkv, K, D, s.vc.data());
        k = s.kc.data();
        v = s.vc.data();
        ldk = D;
      }
      float* qu = s.qu.data();
      float* qv = s.qv.data();
      for (std::int64_t i = 0; i < T; ++i)
        for (std::int64_t d = 0; d < D; ++d) {
          qu[i * D + d] = q[i * ldq + d] + U[h * D + d];
          qv[i * D + d] = q[i * ldq + d] + V[h * D + d];
        }
      float* S = probs_.data() + bh * T * K;
      float* bd = s.bd.data() + shift_pad(T);
      if (transposed) {  // one query: a row times the transposed keys / positions
        gemm(Trans::No, Trans::No, 1, K, D, 1.0f, qu, D, step->kt + h * D * step->ldkt, step->ldkt, 0.0f, S, K);
        gemm(Trans::No, Trans::No, 1, K, D, 1.0f, qv, D, step->rkt + h * D * step->ldrkt, step->ldrkt, 0.0f, bd,
             K);
      } else {
        gemm(Trans::No, Trans::Yes, T, K, D, 1.0f, qu, D, k, ldk, 0.0f, S, K);    // AC
        gemm(Trans::No, Trans::Yes, T, K, D, 1.0f, qv, D, rk, ldr, 0.0f, bd, K);  // raw BD
      }
      // Keys before `s0` are a cleared part of this row's memory: probability 0 (the
      // backward then gives them no gradient without knowing about the mask).
      const std::int64_t s0 = key_start_.empty() ? 0 : key_start_[static_cast<std::size_t>(b)];
      for (std::int64_t i = 0; i < T; ++i) {
        // Query i (absolute position M + i) sees keys s0 <= j <= M + i. There the
        // rel-shifted BD is bd[i][j + T - 1 - i] (see rel_shift in the header).
        const std::int64_t n = M + i + 1, off = T - 1 - i;
        float* srow = S + i * K;
        const float* brow = bd + i * K + off;
        float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
        for (std::int64_t j = s0; j < n; ++j) {
          srow[j] = (srow[j] + brow[j]) * scale;
          mx = std::max(mx, srow[j]);
        }
        for (std::int64_t j = s0; j < n; ++j) srow[j] -= mx;
        exp_inplace(srow + s0, n - s0);
        float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
        for (std::int64_t j = s0; j < n; ++j) sum += srow[j];
        const float inv = 1.0f / sum;
        for (std::int64_t j = s0; j < n; ++j) srow[j] *= inv;
        for (std::int64_t j = 0; j < s0; ++j) srow[j] = 0.0f;
        for (std::int64_t j = n; j < K; ++j) srow[j] = 0.0f;
        if (att_drop_) {
          float* prow = s.pd.data() + i * K;
          const std::uint64_t base = static_cast<std::uint64_t>((bh * T + i) * K);
          for (std::int64_t j = 0; j < n; ++j) {
            const bool keep = hash_uniform(att_seed_, base + j) >= p_att;
            prow[j] = keep ? srow[j] * keep_scale : 0.0f;
            if (!keep) srow[j] = std::copysign(srow[j], -1.0f);  // sign bit marks "dropped"
          }
          for (std::int64_t j = n; j < K; ++j) prow[j] = 0.0f;
        }
      }
      const float* P = att_drop_ ? s.pd.data() : S;
      gemm(Trans::No, Trans::No, T, D, K, 1.0f, P, K, v, ldk, 0.0f,
           attn_vec_.data() + b * HD + h * D, ldq);
    }
  }
}

const Tensor& RelMultiHeadAttention::finish(const Tensor& x) {
  const std::int64_t E = cfg_.d_model, HD = cfg_.n_head * cfg_.d_head;
  const std::int64_t T = x.dim(0), B = x.dim(1);
  // Output projection, dropout, residual; then the post-LayerNorm.
  sum_.resize({T, B, E});
  gemm(Trans::No, Trans::No, T * B, E, HD, 1.0f, attn_vec_.data(), HD, o_w_->value.data(), E,
       0.0f, sum_.data(), E);
  const std::int64_t n = T * B * E;
  const float p_out = cfg_.dropout, keep_out = 1.0f / (1.0f - cfg_.dropout);
  if (out_drop_) {
    for (std::int64_t e = 0; e < n; ++e)
      sum_[e] = x[e] + (hash_uniform(out_seed_, e) >= p_out ? sum_[e] * keep_out : 0.0f);
  } else {
    for (std::int64_t e = 0; e < n; ++e) sum_[e] += x[e];
  }
  return ln_.forward(sum_);
}

// Incremental decoding: the same attention as forward(x, mem, R) in eval mode, with
// the memory's keys and values (and the position projections) taken from `cache`
// instead of being recomputed from the memory's layer inputs.
const Tensor& RelMultiHeadAttention::forward_step(const Tensor& x, RelAttentionCache& cache) {
  const std::int64_t E = cfg_.d_model, H = cfg_.n_head, D = cfg_.d_head, HD = H * D;
  if (x.rank() != 3 || x.dim(2) != E || x.dim(0) < 1 || x.dim(1) < 1)
    throw ShapeError("RelMultiHeadAttention::forward_step: x must be (qlen, batch, " +
                     std::to_string(E) + "), got " + shape_str(x.shape()));
  const std::int64_t T = x.dim(0), B = x.dim(1);
  if (cache.len_ > 0 && (cache.batch_ != B || cache.width_ != 2 * HD))
    throw ShapeError("RelMultiHeadAttention::forward_step: cache holds batch " +
                     std::to_string(cache.batch_) + " of width " + std::to_string(cache.width_) +
                     ", x is " + shape_str(x.shape()) + " for width " + std::to_string(2 * HD));
  cache.batch_ = B;
  cache.width_ = 2 * HD;
  const std::int64_t M = cache.len_, K = M + T, row = B * 2 * HD;
  if ((cache.start_ + K) * row > static_cast<std::int64_t>(cache.kv_.size())) {
    if (cache.start_ > 0 && M > 0)
      std::memmove(cache.kv_.data(), cache.kv_.data() + cache.start_ * row,
                   sizeof(float) * static_cast<std::size_t>(M * row));
    cache.start_ = 0;
    cache.kt_valid_ = false;
    // Room for twice the memory: the oldest positions drop by moving start_, and
    // the cached rows move down once every ~mem_len steps, not at every step.
    const std::int64_t rows = std::max(K, 2 * cache.mem_len_ + T);
    if (static_cast<std::int64_t>(cache.kv_.size()) < rows * row)
      cache.kv_.resize(static_cast<std::size_t>(rows * row));
  }
  float* kv = cache.kv_.data() + cache.start_ * row;

  // New queries, and keys/values appended after the cached ones.
  const float* W = qkv_w_->value.data();
  q_.resize({T, B, HD});
  gemm(Trans::No, Trans::No, T * B, HD, E, 1.0f, x.data(), E, W, 3 * HD, 0.0f, q_.data(), HD);
  gemm(Trans::No, Trans::No, T * B, 2 * HD, E, 1.0f, x.data(), E, W + HD, 3 * HD, 0.0f,
       kv + M * row, 2 * HD);

  // Position projections by distance: table row n-1-d holds r_net(R(d)), so the rows
  // for distances K-1 .. 0 are the table's last K rows, contiguous.
  if (cache.rk_.empty() || cache.rk_.dim(0) < K || cache.rk_.dim(1) != HD) {
    const std::int64_t n = std::max(K, cache.mem_len_ + T);
    Tensor r = sinusoidal_positions(n, E);
    cache.rk_ = Tensor({n, HD});
    gemm(Trans::No, Trans::No, n, HD, E, 1.0f, r.data(), E, r_w_->value.data(), HD, 0.0f,
         cache.rk_.data(), HD);
    cache.rkt_ = Tensor();
  }
  const float* rk = cache.rk_.data() + (cache.rk_.dim(0) - K) * HD;
  // One or two queries (a generated token) read the cache and the table in place.
  const bool in_place = T <= 2;
  if (!in_place) {
    rkh_.resize({H, K, D});
    for (std::int64_t h = 0; h < H; ++h) gather_rows(rk + h * D, HD, K, D, rkh_.data() + h * K * D);
  }
  StepView view;
  view.rk_rows = in_place ? rk : nullptr;
  if (B == 1) {
    // The transposed keys follow kv_'s positions; rebuilt after a compaction.
    const std::int64_t cap = static_cast<std::int64_t>(cache.kv_.size()) / row;
    std::int64_t from = M;  // the new positions; all of them after a rebuild
    if (!cache.kt_valid_ || cache.kt_cap_ != cap) {
      cache.kt_.assign(static_cast<std::size_t>(HD * cap), 0.0f);
      cache.kt_cap_ = cap;
      cache.kt_valid_ = true;
      from = 0;
    }
    for (std::int64_t p = from; p < K; ++p)
      for (std::int64_t c = 0; c < HD; ++c) cache.kt_[c * cap + cache.start_ + p] = kv[p * row + c];
    const std::int64_t n = cache.rk_.dim(0);
    if (cache.rkt_.empty() || cache.rkt_.dim(1) != n) {
      cache.rkt_ = Tensor({HD, n});
      for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t c = 0; c < HD; ++c) cache.rkt_[c * n + i] = cache.rk_[i * HD + c];
    }
    view.kt = cache.kt_.data() + cache.start_;
    view.ldkt = cap;
    view.rkt = cache.rkt_.data() + (n - K);
    view.ldrkt = n;
  } else {
    cache.kt_valid_ = false;
  }

  att_drop_ = out_drop_ = false;
  key_start_.clear();
  attend(kv, M, T, B, &view);
  const Tensor& y = finish(x);
  qlen_ = 0;  // nothing for backward()

  // Keep the last mem_len positions (Transformer-XL: cat(mem, x)[-mem_len:]).
  std::int64_t len = K;
  if (len > cache.mem_len_) {
    cache.start_ += len - cache.mem_len_;
    len = cache.mem_len_;
  }
  cache.len_ = len;
  return y;
}

const Tensor& RelMultiHeadAttention::backward(const Tensor& dy) {
  const std::int64_t E = cfg_.d_model, H = cfg_.n_head, D = cfg_.d_head, HD = H * D;
  const std::int64_t T = qlen_, M = mlen_, B = bsz_, K = M + T;
  if (T == 0)
    throw InvalidArgument(
        "RelMultiHeadAttention::backward: no forward() to differentiate (forward_step is "
        "inference-only)");
  dy.expect_shape({T, B, E}, "RelMultiHeadAttention::backward");

  // Post-LN and residual: dsum = LN'(dy); dx gets dsum directly, the branch gets
  // dsum through the output dropout.
  const Tensor& dsum = ln_.backward(dy);
  dx_.resize({T, B, E});
  dsum_.resize({T, B, E});
  const std::int64_t n = T * B * E;
  const float p_out = cfg_.dropout, keep_out = 1.0f / (1.0f - cfg_.dropout);
  std::memcpy(dx_.data(), dsum.data(), sizeof(float) * n);
  if (out_drop_) {
    for (std::int64_t e = 0; e < n; ++e)
      dsum_[e] = hash_uniform(out_seed_, e) >= p_out ? dsum[e] * keep_out : 0.0f;
  } else {
    std::memcpy(dsum_.data(), dsum.data(), sizeof(float) * n);
  }
  // o_net: dW_o += attn_vec^T dsum; dvec = dsum W_o^T.
  gemm(Trans::Yes, Trans::No, HD, E, T * B, 1.0f, attn_vec_.data(), HD, dsum_.data(), E, 1.0f,
       o_w_->grad.data(), E);
  dvec_.resize({T, B, HD});
  gemm(Trans::No, Trans::Yes, T * B, HD, E, 1.0f, dsum_.data(), E, o_w_->value.data(), E, 0.0f,
       dvec_.data(), HD);

  // Attention core backward, per (batch, head) tile.
  dq_.resize({T, B, HD});
  dkv_.resize({K, B, 2 * HD});
  const int nt = num_threads();
  if (static_cast<int>(scratch_.size()) < nt) scratch_.resize(nt);
  const float scale = 1.0f / std::sqrt(static_cast<float>(D));
  const float keep_scale = 1.0f / (1.0f - cfg_.dropatt);
  const float* U = u_->value.data();
  const float* V = v_->value.data();
  const std::int64_t ldq = B * HD, ldkv = B * 2 * HD;
  const bool att_drop = att_drop_;
  // Gradients shared by tiles (d r_k, du, dv) accumulate per chunk of batch rows,
  // each chunk done by one thread in a fixed order and the chunks summed in order,
  // so these sums do not depend on the thread count or the schedule. (A dynamic
  // schedule measured ~5% slower than static here, even on a busy machine.)
  const std::int64_t nchunk = std::min<std::int64_t>(B, 16), chunk = K * HD + 2 * HD;
  dchunk_.resize({nchunk, chunk});

#pragma omp parallel num_threads(nt)
  {
    Scratch& s = scratch_[omp_get_thread_num()];
    s.qu.resize({T, D});
    s.qv.resize({T, D});
    s.bd.resize({shift_pad(T) + T * K});
    std::fill(s.bd.data(), s.bd.data() + shift_pad(T), 0.0f);
    s.pd.resize({T, K});
    s.dqu.resize({T, D});
    s.dqv.resize({T, D});
    s.kc.resize({K, D});
    s.vc.resize({K, D});
    s.dkc.resize({K, D});
    s.dvc.resize({K, D});
    s.doc.resize({T, D});
#pragma omp for schedule(static)
    for (std::int64_t c = 0; c < nchunk; ++c) {
      float* acc = dchunk_.data() + c * chunk;
      std::fill(acc, acc + chunk, 0.0f);
      float* c_drk = acc;
      float* c_du = acc + K * HD;
      float* c_dv = c_du + HD;
      for (std::int64_t bh = (c * B / nchunk) * H; bh < ((c + 1) * B / nchunk) * H; ++bh) {
        const std::int64_t b = bh / H, h = bh % H;
        const float* q = q_.data() + b * HD + h * D;
        float* k = s.kc.data();
        float* v = s.vc.data();
        float* dO = s.doc.data();
        gather_rows(kv_.data() + b * 2 * HD + h * D, ldkv, K, D, k);
        gather_rows(kv_.data() + b * 2 * HD + HD + h * D, ldkv, K, D, v);
        gather_rows(dvec_.data() + b * HD + h * D, ldq, T, D, dO);
        const float* rk = rkh_.data() + h * K * D;
        float* dk = s.dkc.data();
        float* dv = s.dvc.data();
        const float* P = probs_.data() + bh * T * K;  // sign bit = dropped
        float* pd = s.pd.data();
        float* dS = s.bd.data() + shift_pad(T);
        // Dropped-out probabilities, as the forward's P.V gemm used them.
        const float* Pd = P;
        if (att_drop) {
          for (std::int64_t e = 0; e < T * K; ++e)
            pd[e] = std::signbit(P[e]) ? 0.0f : P[e] * keep_scale;
          Pd = pd;
        }
        // dPd = dO V^T (T, K); dV = Pd^T dO (K, D).
        gemm(Trans::No, Trans::Yes, T, K, D, 1.0f, dO, D, v, D, 0.0f, dS, K);
        gemm(Trans::Yes, Trans::No, K, D, T, 1.0f, Pd, K, dO, D, 0.0f, dv, D);
        scatter_rows(dv, K, D, dkv_.data() + b * 2 * HD + HD + h * D, ldkv);
        // Softmax (and dropout) backward, times the 1/sqrt(D) scale:
        //   dscore_ij = Pd_ij dPd_ij - P_ij sum_k Pd_ik dPd_ik
        // (P * dP = Pd * dPd because dP = dPd * keep / (1 - p)).
        for (std::int64_t i = 0; i < T; ++i) {
          const std::int64_t nv = M + i + 1;
          float* row = dS + i * K;
          const float* prow = P + i * K;
          const float* pdrow = Pd + i * K;
          float c = 0.0f;
  #pragma omp simd reduction(+ : c)
          for (std::int64_t j = 0; j < nv; ++j) c += pdrow[j] * row[j];
          for (std::int64_t j = 0; j < nv; ++j)
            row[j] = scale * (pdrow[j] * row[j] - std::fabs(prow[j]) * c);
          for (std::int64_t j = nv; j < K; ++j) row[j] = 0.0f;
        }
        float* qu = s.qu.data();
        float* qv = s.qv.data();
        for (std::int64_t i = 0; i < T; ++i)
          for (std::int64_t d = 0; d < D; ++d) {
            qu[i * D + d] = q[i * ldq + d] + U[h * D + d];
            qv[i * D + d] = q[i * ldq + d] + V[h * D + d];
          }
        // AC = qu K^T: d qu = dS K, dK = dS^T qu.
        gemm(Trans::No, Trans::No, T, D, K, 1.0f, dS, K, k, D, 0.0f, s.dqu.data(), D);
        gemm(Trans::Yes, Trans::No, K, D, T, 1.0f, dS, K, qu, D, 0.0f, dk, D);
        scatter_rows(dk, K, D, dkv_.data() + b * 2 * HD + h * D, ldkv);
        // BD = rel_shift(qv rk^T). The adjoint of the shift on the unmasked entries is
        // dBD_raw[i][c] = dS[i][c - (T-1-i)] for c >= T-1-i, else 0. Read flat, that
        // is element i*(K+1) + c - (T-1) of dS: a (T, K) view with row stride K+1
        // starting T-1 elements before dS. Its entries with c < T-1-i land in the
        // previous row's masked tail (zero) or, for row 0, in the zero pad in front
        // of the tile -- the rel_shift trick run backwards, with no copy.
        const float* dbd = dS - (T - 1);
        gemm(Trans::No, Trans::No, T, D, K, 1.0f, dbd, K + 1, rk, D, 0.0f, s.dqv.data(), D);
        gemm(Trans::Yes, Trans::No, K, D, T, 1.0f, dbd, K + 1, qv, D, 1.0f, c_drk + h * D, HD);
        // dq = d qu + d qv; du, dv = column sums over the tile's queries.
        float* dq = dq_.data() + b * HD + h * D;
        float* du = c_du + h * D;
        float* dvb = c_dv + h * D;
        for (std::int64_t i = 0; i < T; ++i)
          for (std::int64_t d = 0; d < D; ++d) {
            const float from_u = s.dqu[i * D + d], from_v = s.dqv[i * D + d];
            dq[i * ldq + d] = from_u + from_v;
            du[d] += from_u;
            dvb[d] += from_v;
          }
      }
    }
  }
  // Sum the chunks in order.
  drk_.resize({K, HD});
  drk_.zero();
  float* gu = u_->grad.data();
  float* gv = v_->grad.data();
  for (std::int64_t c = 0; c < nchunk; ++c) {
    const float* acc = dchunk_.data() + c * chunk;
    for (std::int64_t e = 0; e < K * HD; ++e) drk_[e] += acc[e];
    for (std::int64_t e = 0; e < HD; ++e) {
      gu[e] += acc[K * HD + e];
      gv[e] += acc[K * HD + HD + e];
    }
  }
  // r_net: dW_r += R^T d r_k (R itself gets no gradient).
  gemm(Trans::Yes, Trans::No, E, HD, K, 1.0f, r_.data(), E, drk_.data(), HD, 1.0f,
       r_w_->grad.data(), HD);
  // qkv_net: dW_q += x^T dq; dW_kv += mem^T dkv_mem + x^T dkv_x; dx += dq W_q^T + dkv_x W_kv^T.
  float* gW = qkv_w_->grad.data();
  const float* W = qkv_w_->value.data();
  const float* dkv_x = dkv_.data() + M * B * 2 * HD;
  gemm(Trans::Yes, Trans::No, E, HD, T * B, 1.0f, x_.data(), E, dq_.data(), HD, 1.0f, gW, 3 * HD);
  if (M)
    gemm(Trans::Yes, Trans::No, E, 2 * HD, M * B, 1.0f, mem_.data(), E, dkv_.data(), 2 * HD, 1.0f,
         gW + HD, 3 * HD);
  gemm(Trans::Yes, Trans::No, E, 2 * HD, T * B, 1.0f, x_.data(), E, dkv_x, 2 * HD, 1.0f, gW + HD,
       3 * HD);
  gemm(Trans::No, Trans::Yes, T * B, E, HD, 1.0f, dq_.data(), HD, W, 3 * HD, 1.0f, dx_.data(), E);
  gemm(Trans::No, Trans::Yes, T * B, E, 2 * HD, 1.0f, dkv_x, 2 * HD, W + HD, 3 * HD, 1.0f,
       dx_.data(), E);
  return dx_;
}

}  // namespace partita::nn
