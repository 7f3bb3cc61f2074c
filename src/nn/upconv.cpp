// UpConcatConv2d: the phase-folded "upsample x2, concat, 3x3 conv" (see
// upconv.hpp for the math): weight packing, per-phase im2col + gemm, the
// scatter/gather between phase rows and the high-res output, col2im, and the
// scatter of the phase weights' gradients back onto W's taps.
#include "partita/nn/upconv.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include <omp.h>

#include "partita/core/error.hpp"
#include "nn/item_threads.hpp"
#include "nn/reductions.hpp"
#include "nn/winograd.hpp"
#include "partita/core/gemm.hpp"

namespace partita::nn {

using std::int64_t;
using detail::add_column_sums;

namespace {

constexpr int64_t kMinChunkPixels = 512;

// Along one axis, phase p's low-res tap t sums the 3x3 taps k in [kLo, kHi].
constexpr int kLo[2][2] = {{0, 1}, {0, 2}};
constexpr int kHi[2][2] = {{0, 2}, {1, 2}};
// ...and 3x3 tap k of phase p belongs to low-res tap kTapOf[p][k].
constexpr int kTapOf[2][3] = {{0, 1, 1}, {0, 0, 1}};

inline void copy_floats(float* dst, const float* src, int64_t n) {
  if (n <= 16) {
    for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
  } else {
    std::memcpy(dst, src, sizeof(float) * static_cast<size_t>(n));
  }
}

inline void zero_floats(float* dst, int64_t n) {
  if (n <= 16) {
    for (int64_t i = 0; i < n; ++i) dst[i] = 0.0f;
  } else {
    std::memset(dst, 0, sizeof(float) * static_cast<size_t>(n));
  }
}

inline void add_floats(float* dst, const float* src, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

Initializer weight_init(WeightInit init, int64_t cin, int64_t cout) {
  switch (init) {
    case WeightInit::HeNormal: return init_he_normal(9 * cin);
    case WeightInit::TorchDefault: return init_torch_default(9 * cin);
    case WeightInit::GlorotUniform: break;
  }
  return init_glorot_uniform(9 * cin, 9 * cout);
}

}  // namespace

UpConcatConv2d::UpConcatConv2d(ParameterSet& params, const std::string& name, int64_t a_channels,
                               int64_t b_channels, int64_t out_channels, WeightInit init,
                               int64_t column_budget, ConvAlgorithm algorithm)
    : name_(name), ca_(a_channels), cb_(b_channels), cout_(out_channels), budget_(column_budget),
      algorithm_(algorithm) {
  if (a_channels < 1 || b_channels < 1 || out_channels < 1)
    throw InvalidArgument("UpConcatConv2d(" + name + "): channel counts must be >= 1, got " +
                          std::to_string(a_channels) + ", " + std::to_string(b_channels) + ", " +
                          std::to_string(out_channels));
  if (column_budget < 1)
    throw InvalidArgument("UpConcatConv2d(" + name + "): column_budget must be >= 1");
  const int64_t cin = a_channels + b_channels;
  weight_ = &params.add(name + ".weight", {3, 3, cin, out_channels},
                        weight_init(init, cin, out_channels), Layout::ConvHWIO);
  bias_ = &params.add(name + ".bias", {out_channels},
                      init == WeightInit::TorchDefault ? init_torch_default(9 * cin) : init_zeros());
}

UpConcatConv2d::~UpConcatConv2d() = default;
UpConcatConv2d::UpConcatConv2d(UpConcatConv2d&&) noexcept = default;
UpConcatConv2d& UpConcatConv2d::operator=(UpConcatConv2d&&) noexcept = default;

int64_t UpConcatConv2d::rows_per_chunk() const {
  // Low-res rows per chunk: one phase's columns fill the budget, but a gemm
  // keeps at least kMinChunkPixels rows (short ones repack the weights per call).
  const int64_t per_row = t_ * k();
  int64_t r = std::max<int64_t>(1, budget_ / per_row);
  r = std::max(r, (kMinChunkPixels + t_ - 1) / t_);
  return std::min(r, n_ * s_);
}

void UpConcatConv2d::set_winograd_chunk_tiles(int64_t tiles) {
  if (tiles < 1)
    throw InvalidArgument("UpConcatConv2d(" + name_ + ")::set_winograd_chunk_tiles: must be >= 1");
  wino_chunk_tiles_ = tiles;
}

// The convolution over the (virtual) upsampled concatenation.
ConvGeometry UpConcatConv2d::winograd_geometry() const {
  return conv_geometry({n_, 2 * s_, 2 * t_, ca_ + cb_}, ca_ + cb_, cout_, 3, 3, 1, 1,
                       Padding::same(), "UpConcatConv2d");
}

// wp[p] rows: (ty, tx, ci < Ca) -> the sum of W's taps that low-res tap reads
// in phase p; then (ky, kx, ci < Cb) -> W[ky][kx][Ca + ci] unchanged.
void UpConcatConv2d::pack_weights() {
  const int64_t K = k(), C = ca_ + cb_, co = cout_, ca = ca_, cb = cb_;
  wp_.resize({4, K, co});
  const float* w = weight_->value.data();
  float* wp = wp_.data();
#pragma omp parallel for collapse(2) schedule(static)
  for (int p = 0; p < 4; ++p) {
    for (int64_t row = 0; row < K; ++row) {
      const int py = p >> 1, px = p & 1;
      float* dst = wp + (p * K + row) * co;
      if (row < 4 * ca) {
        const int64_t tap = row / ca, ci = row % ca;
        const int ty = static_cast<int>(tap >> 1), tx = static_cast<int>(tap & 1);
        zero_floats(dst, co);
        for (int ky = kLo[py][ty]; ky <= kHi[py][ty]; ++ky)
          for (int kx = kLo[px][tx]; kx <= kHi[px][tx]; ++kx)
            add_floats(dst, w + ((ky * 3 + kx) * C + ci) * co, co);
      } else {
        const int64_t j = row - 4 * ca, tap = j / cb, ci = j % cb;
        copy_floats(dst, w + (tap * C + ca + ci) * co, co);
      }
    }
  }
}

// cols[(r - r0) * T + x] for low-res rows r = n * S + y in [r0, r1) and phase
// (py, px): a[n, y + py - 1 + ty, x + px - 1 + tx, :] for ty, tx in {0, 1},
// then b[n, 2y + py - 1 + ky, 2x + px - 1 + kx, :] for ky, kx in {0, 1, 2}
// (zero outside the images).
void UpConcatConv2d::im2col(int phase, int64_t r0, int64_t r1, float* cols) const {
  const int py = phase >> 1, px = phase & 1;
  const int64_t K = k(), S = s_, T = t_, ca = ca_, cb = cb_, S2 = 2 * s_, T2 = 2 * t_;
  const float* a = a_.data();
  const float* b = b_.data();
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t r = r0; r < r1; ++r) {
    for (int64_t x = 0; x < T; ++x) {
      const int64_t n = r / S, y = r % S;
      float* d = cols + ((r - r0) * T + x) * K;
      const int64_t ax0 = x + px - 1;
      for (int ty = 0; ty < 2; ++ty, d += 2 * ca) {
        const int64_t iy = y + py - 1 + ty;
        if (iy < 0 || iy >= S) {
          zero_floats(d, 2 * ca);
          continue;
        }
        const float* src = a + (n * S + iy) * T * ca;
        if (ax0 >= 0 && ax0 + 2 <= T) {
          copy_floats(d, src + ax0 * ca, 2 * ca);
        } else {
          for (int tx = 0; tx < 2; ++tx) {
            const int64_t ix = ax0 + tx;
            if (ix < 0 || ix >= T) zero_floats(d + tx * ca, ca);
            else copy_floats(d + tx * ca, src + ix * ca, ca);
          }
        }
      }
      const int64_t bx0 = 2 * x + px - 1;
      for (int ky = 0; ky < 3; ++ky, d += 3 * cb) {
        const int64_t iy = 2 * y + py - 1 + ky;
        if (iy < 0 || iy >= S2) {
          zero_floats(d, 3 * cb);
          continue;
        }
        const float* src = b + (n * S2 + iy) * T2 * cb;
        if (bx0 >= 0 && bx0 + 3 <= T2) {
          copy_floats(d, src + bx0 * cb, 3 * cb);
        } else {
          for (int kx = 0; kx < 3; ++kx) {
            const int64_t ix = bx0 + kx;
            if (ix < 0 || ix >= T2) zero_floats(d + kx * cb, cb);
            else copy_floats(d + kx * cb, src + ix * cb, cb);
          }
        }
      }
    }
  }
}

// The adjoint of im2col: da, db += scatter(dcols). Split over destination
// rows (low-res rows of da, then high-res rows of db), so each thread owns
// whole rows.
void UpConcatConv2d::col2im_add(int phase, const float* dcols, int64_t r0, int64_t r1, float* da,
                                float* db) const {
  const int py = phase >> 1, px = phase & 1;
  const int64_t K = k(), S = s_, T = t_, ca = ca_, cb = cb_, S2 = 2 * s_, T2 = 2 * t_;
  const int64_t qa0 = std::max<int64_t>(0, r0 - 1), qa1 = std::min(n_ * S - 1, r1);
#pragma omp parallel for schedule(static)
  for (int64_t q = qa0; q <= qa1; ++q) {
    const int64_t n = q / S, iy = q % S;
    float* drow = da + q * T * ca;
    for (int ty = 0; ty < 2; ++ty) {
      const int64_t y = iy - py + 1 - ty;  // the low-res output row reading row iy with tap ty
      if (y < 0 || y >= S) continue;
      const int64_t r = n * S + y;
      if (r < r0 || r >= r1) continue;
      const float* src = dcols + (r - r0) * T * K + ty * 2 * ca;
      for (int64_t x = 0; x < T; ++x) {
        const float* s = src + x * K;
        const int64_t ix0 = x + px - 1;
        if (ix0 >= 0 && ix0 + 2 <= T) {
          add_floats(drow + ix0 * ca, s, 2 * ca);
        } else {
          for (int tx = 0; tx < 2; ++tx) {
            const int64_t ix = ix0 + tx;
            if (ix >= 0 && ix < T) add_floats(drow + ix * ca, s + tx * ca, ca);
          }
        }
      }
    }
  }
  const int64_t qb0 = std::max<int64_t>(0, 2 * r0 - 1), qb1 = std::min(n_ * S2 - 1, 2 * r1);
#pragma omp parallel for schedule(static)
  for (int64_t q = qb0; q <= qb1; ++q) {
    const int64_t n = q / S2, iy = q % S2;
    float* drow = db + q * T2 * cb;
    for (int ky = 0; ky < 3; ++ky) {
      const int64_t t2 = iy - py + 1 - ky;  // = 2y for the output row reading iy with tap ky
      if (t2 < 0 || (t2 & 1) != 0) continue;
      const int64_t y = t2 / 2;
      if (y >= S) continue;
      const int64_t r = n * S + y;
      if (r < r0 || r >= r1) continue;
      const float* src = dcols + (r - r0) * T * K + 4 * ca + ky * 3 * cb;
      for (int64_t x = 0; x < T; ++x) {
        const float* s = src + x * K;
        const int64_t ix0 = 2 * x + px - 1;
        if (ix0 >= 0 && ix0 + 3 <= T2) {
          add_floats(drow + ix0 * cb, s, 3 * cb);
        } else {
          for (int kx = 0; kx < 3; ++kx) {
            const int64_t ix = ix0 + kx;
            if (ix >= 0 && ix < T2) add_floats(drow + ix * cb, s + kx * cb, cb);
          }
        }
      }
    }
  }
}

// y[n, 2y + py, 2x + px, :] = p[(r - r0) * T + x, :] + bias
void UpConcatConv2d::scatter_rows(int phase, const float* p, int64_t r0, int64_t r1) {
  const int py = phase >> 1, px = phase & 1;
  const int64_t S = s_, T = t_, co = cout_, T2 = 2 * t_;
  const float* bias = bias_->value.data();
  float* y = y_.data();
#pragma omp parallel for schedule(static)
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / S, yy = r % S;
    float* orow = y + ((n * 2 * S + 2 * yy + py) * T2 + px) * co;
    const float* prow = p + (r - r0) * T * co;
    for (int64_t x = 0; x < T; ++x) {
      float* o = orow + 2 * x * co;
      const float* s = prow + x * co;
      for (int64_t c = 0; c < co; ++c) o[c] = s[c] + bias[c];
    }
  }
}

// p[(r - r0) * T + x, :] = dy[n, 2y + py, 2x + px, :]
void UpConcatConv2d::gather_rows(int phase, const float* dy, int64_t r0, int64_t r1,
                                 float* p) const {
  const int py = phase >> 1, px = phase & 1;
  const int64_t S = s_, T = t_, co = cout_, T2 = 2 * t_;
#pragma omp parallel for schedule(static)
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / S, yy = r % S;
    const float* irow = dy + ((n * 2 * S + 2 * yy + py) * T2 + px) * co;
    float* prow = p + (r - r0) * T * co;
    for (int64_t x = 0; x < T; ++x) copy_floats(prow + x * co, irow + 2 * x * co, co);
  }
}

const Tensor& UpConcatConv2d::forward(const Tensor& a, const Tensor& b) {
  const std::string who = "UpConcatConv2d::forward(" + name_ + ")";
  if (!weight_->value.data())
    throw InvalidArgument(who + ": parameters not allocated (call ParameterSet::allocate)");
  if (a.rank() != 4 || a.dim(3) != ca_ || a.dim(0) < 1 || a.dim(1) < 1 || a.dim(2) < 1)
    throw ShapeError(who + ": expected a low-res input (N, S, T, " + std::to_string(ca_) +
                     "), got " + shape_str(a.shape()));
  if (b.rank() != 4 || b.dim(3) != cb_ || b.dim(0) != a.dim(0) || b.dim(1) != 2 * a.dim(1) ||
      b.dim(2) != 2 * a.dim(2))
    throw ShapeError(who + ": expected the skip input (" + std::to_string(a.dim(0)) + ", " +
                     std::to_string(2 * a.dim(1)) + ", " + std::to_string(2 * a.dim(2)) + ", " +
                     std::to_string(cb_) + ") for a of shape " + shape_str(a.shape()) + ", got " +
                     shape_str(b.shape()));
  n_ = a.dim(0);
  s_ = a.dim(1);
  t_ = a.dim(2);
  a_ = Tensor::view(const_cast<float*>(a.data()), a.shape());
  b_ = Tensor::view(const_cast<float*>(b.data()), b.shape());
  have_x_ = true;
  y_.resize({n_, 2 * s_, 2 * t_, cout_});
  wino_active_ = algorithm_ == ConvAlgorithm::Winograd ||
                 (algorithm_ == ConvAlgorithm::Auto &&
                  std::min({ca_, cb_, cout_}) >= detail::kWinogradMinChannels);
  if (wino_active_) {
    if (!wino_) wino_ = std::make_unique<detail::Winograd3x3>();
    wino_->chunk_tiles = wino_chunk_tiles_;
    wino_->forward({b.data(), a.data(), ca_}, winograd_geometry(), weight_->value.data(),
                   bias_->value.data(), y_.data());
    return y_;
  }
  pack_weights();
  const int64_t K = k(), co = cout_, rows = n_ * s_, rpc = rows_per_chunk();
  const int64_t chunks = (rows + rpc - 1) / rpc, items = 4 * chunks;
  const int64_t chunk_cols = rpc * t_ * K, chunk_p = rpc * t_ * co;
  const float* wp = wp_.data();
  // Work item (chunk, phase): im2col, gemm, scatter into the phase's pixels
  // (items write disjoint outputs).
  auto run_item = [&](int64_t item, float* cols, float* p) {
    const int phase = static_cast<int>(item % 4);
    const int64_t r0 = (item / 4) * rpc, r1 = std::min(rows, r0 + rpc), m = (r1 - r0) * t_;
    im2col(phase, r0, r1, cols);
    gemm(Trans::No, Trans::No, m, co, K, 1.0f, cols, K, wp + phase * K * co, co, 0.0f, p, co);
    scatter_rows(phase, p, r0, r1);
  };
  // Each thread takes whole items with its own buffers (as Conv2d::forward
  // takes chunks); every output element is computed as in the sequential loop.
  detail::run_items(items, cols_, chunk_cols, pbuf_, chunk_p, run_item);
  return y_;
}

// Backward of one phase of low-res rows [r0, r1): dWa[p] += cols_a^T dP,
// dWb += cols_b^T dP, dcols = dP Wp[p]^T (into the column buffer, no longer
// needed), col2im into da and db.
void UpConcatConv2d::run_phase_backward(int phase, const float* dy, int64_t r0, int64_t r1,
                                        float* cols, float* dp, float* dwa, float* dwb, float* da,
                                        float* db) const {
  const int64_t K = k(), co = cout_, m = (r1 - r0) * t_, ka = 4 * ca_, kb = 9 * cb_;
  im2col(phase, r0, r1, cols);
  gather_rows(phase, dy, r0, r1, dp);
  gemm(Trans::Yes, Trans::No, ka, co, m, 1.0f, cols, K, dp, co, 1.0f, dwa + phase * ka * co, co);
  gemm(Trans::Yes, Trans::No, kb, co, m, 1.0f, cols + ka, K, dp, co, 1.0f, dwb, co);
  gemm(Trans::No, Trans::Yes, m, K, co, 1.0f, dp, co, wp_.data() + phase * K * co, co, 0.0f, cols,
       K);
  col2im_add(phase, cols, r0, r1, da, db);
}

// W[ky][kx][ci < Ca] += sum over phases of dWa[p][(tap_y, tap_x, ci)] (the
// adjoint of the tap sums in pack_weights); W[ky][kx][Ca + ci] += dWb[(ky, kx, ci)].
void UpConcatConv2d::add_weight_grad(const float* dwa, const float* dwb) {
  const int64_t C = ca_ + cb_, co = cout_, ca = ca_, cb = cb_, ka = 4 * ca_;
  float* dw = weight_->grad.data();
#pragma omp parallel for collapse(2) schedule(static)
  for (int tap = 0; tap < 9; ++tap) {
    for (int64_t ci = 0; ci < C; ++ci) {
      const int ky = tap / 3, kx = tap % 3;
      float* dst = dw + (tap * C + ci) * co;
      if (ci < ca) {
        for (int p = 0; p < 4; ++p) {
          const int py = p >> 1, px = p & 1;
          const int t = kTapOf[py][ky] * 2 + kTapOf[px][kx];
          add_floats(dst, dwa + (p * ka + t * ca + ci) * co, co);
        }
      } else {
        add_floats(dst, dwb + (tap * cb + (ci - ca)) * co, co);
      }
    }
  }
}

UpConcatConv2d::Grads UpConcatConv2d::backward(const Tensor& dy) {
  const std::string who = "UpConcatConv2d::backward(" + name_ + ")";
  if (!have_x_) throw InvalidArgument(who + ": backward called before forward");
  dy.expect_shape({n_, 2 * s_, 2 * t_, cout_}, who.c_str());
  a_.expect_shape({n_, s_, t_, ca_}, who.c_str());
  const int64_t K = k(), co = cout_, rows = n_ * s_, rpc = rows_per_chunk();
  const int64_t chunks = (rows + rpc - 1) / rpc;
  const int64_t chunk_cols = rpc * t_ * K, chunk_p = rpc * t_ * co;
  const int64_t nwa = 4 * 4 * ca_ * co, nwb = 9 * cb_ * co;  // dWa (4 phases), dWb
  add_column_sums(dy.data(), n_ * 4 * s_ * t_, co, bias_->grad.data());
  da_.resize(a_.shape());
  db_.resize(b_.shape());
  if (wino_active_) {
    wino_->backward({b_.data(), a_.data(), ca_}, dy.data(), winograd_geometry(),
                    weight_->grad.data(), db_.data(), da_.data());
    return {da_, db_};
  }
  da_.zero();
  db_.zero();
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  const int64_t items = 4 * chunks;
  // Many chunks: threads take whole chunks (all four phases). Chunks c and
  // c + 2 touch disjoint rows of da (low-res rows r0 - 1 .. r1) and db
  // (2 r0 - 1 .. 2 r1) when rpc >= 2: even chunks, then odd ones.
  const bool by_chunks = threads > 1 && chunks >= 2 * threads && rpc >= 2;
  // Few chunks (the deep, small levels): threads take (chunk, phase) items,
  // each thread adding into its own copy of da and db (small here: a few
  // column budgets), summed in thread order afterwards.
  const bool by_items = threads > 1 && chunks < 2 * threads && items >= 2 * threads;
  const int parts = by_chunks || by_items ? threads : 1;
  dwa_.resize({parts * nwa});
  dwb_.resize({parts * nwb});
  dwa_.zero();
  dwb_.zero();
  const float* d = dy.data();
  if (by_chunks || by_items) {
    cols_.resize({threads * chunk_cols});
    pbuf_.resize({threads * chunk_p});
    const int64_t nda = da_.size(), ndb = db_.size();
    if (by_items) {
      dab_.resize({(threads - 1) * (nda + ndb)});
      dab_.zero();
    }
    auto buffers = [&](int t, float*& cols, float*& dp, float*& dwa, float*& dwb) {
      cols = cols_.data() + t * chunk_cols;
      dp = pbuf_.data() + t * chunk_p;
      dwa = dwa_.data() + t * nwa;
      dwb = dwb_.data() + t * nwb;
    };
    if (by_chunks) {
      // Chunks go to threads round robin, so the partial sums are the same
      // for the same thread count.
      for (int64_t half = 0; half < 2; ++half) {
#pragma omp parallel for schedule(static, 1) num_threads(threads)
        for (int64_t c = half; c < chunks; c += 2) {
          float *cols, *dp, *dwa, *dwb;
          buffers(omp_get_thread_num(), cols, dp, dwa, dwb);
          const int64_t r0 = c * rpc, r1 = std::min(rows, r0 + rpc);
          for (int phase = 0; phase < 4; ++phase)
            run_phase_backward(phase, d, r0, r1, cols, dp, dwa, dwb, da_.data(), db_.data());
        }
      }
    } else {
#pragma omp parallel for schedule(static, 1) num_threads(threads)
      for (int64_t item = 0; item < items; ++item) {
        const int t = omp_get_thread_num();
        float *cols, *dp, *dwa, *dwb;
        buffers(t, cols, dp, dwa, dwb);
        float* da = t == 0 ? da_.data() : dab_.data() + (t - 1) * (nda + ndb);
        float* db = t == 0 ? db_.data() : da + nda;
        const int64_t r0 = (item / 4) * rpc, r1 = std::min(rows, r0 + rpc);
        run_phase_backward(static_cast<int>(item % 4), d, r0, r1, cols, dp, dwa, dwb, da, db);
      }
      float* ga = da_.data();
      float* gb = db_.data();
      const float* extra = dab_.data();
#pragma omp parallel for schedule(static) num_threads(threads)
      for (int64_t i = 0; i < nda + ndb; ++i) {
        float s = i < nda ? ga[i] : gb[i - nda];
        for (int t = 1; t < threads; ++t) s += extra[(t - 1) * (nda + ndb) + i];
        (i < nda ? ga[i] : gb[i - nda]) = s;
      }
    }
    // Reduce the per-thread weight-gradient partials into part 0, in thread order.
    float* wa = dwa_.data();
    float* wb = dwb_.data();
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t i = 0; i < nwa + nwb; ++i) {
      float* base = i < nwa ? wa + i : wb + (i - nwa);
      const int64_t stride = i < nwa ? nwa : nwb;
      float s = base[0];
      for (int t = 1; t < threads; ++t) s += base[t * stride];
      base[0] = s;
    }
  } else {
    cols_.resize({chunk_cols});
    pbuf_.resize({chunk_p});
    for (int64_t r0 = 0; r0 < rows; r0 += rpc)
      for (int phase = 0; phase < 4; ++phase)
        run_phase_backward(phase, d, r0, std::min(rows, r0 + rpc), cols_.data(), pbuf_.data(),
                           dwa_.data(), dwb_.data(), da_.data(), db_.data());
  }
  add_weight_grad(dwa_.data(), dwb_.data());
  return {da_, db_};
}

}  // namespace partita::nn
