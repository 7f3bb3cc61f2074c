// UpsampleConv2d: the phase-folded "upsample x2, k x k conv" (see
// upsample_conv.hpp for the math): the tap sets, the choice between separate
// and stacked phase products, weight packing, im2col + gemm per product, the
// scatter/gather between product rows and the high-res output, col2im, and
// the scatter of the packed weights' gradients back onto W's taps.
#include "partita/nn/upsample_conv.hpp"

#include <algorithm>
#include <cstring>

#include <omp.h>

#include "core/gemm_kernels.hpp"
#include "nn/item_threads.hpp"
#include "nn/winograd.hpp"
#include "nn/reductions.hpp"
#include "partita/core/error.hpp"
#include "partita/core/gemm.hpp"

namespace partita::nn {

using std::int64_t;
using detail::add_column_sums;

namespace {

constexpr int64_t kMinChunkPixels = 512;

inline int floor_div2(int v) { return v >= 0 ? v / 2 : -((1 - v) / 2); }

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

Conv2dSpec conv_spec(int64_t cin, int64_t cout, int kernel, WeightInit init) {
  Conv2dSpec s;
  s.in_channels = cin;
  s.out_channels = cout;
  s.kernel_h = s.kernel_w = kernel;
  s.init = init;
  return s;
}

}  // namespace

UpsampleConvTaps upsample_conv_taps(int kernel, int phase) {
  if (kernel < 1 || (phase != 0 && phase != 1))
    throw InvalidArgument("upsample_conv_taps: need kernel >= 1 and phase 0 or 1, got kernel " +
                          std::to_string(kernel) + ", phase " + std::to_string(phase));
  const int pb = (kernel - 1) / 2;  // TensorFlow "same" at stride 1: total k - 1
  UpsampleConvTaps taps;
  taps.offset = floor_div2(phase - pb);
  for (int j = 0; j < kernel; ++j) {
    const int t = floor_div2(phase - pb + j) - taps.offset;
    if (t == taps.count()) {
      taps.first.push_back(j);
      taps.last.push_back(j);
    } else {
      taps.last[static_cast<size_t>(t)] = j;
    }
  }
  return taps;
}

UpsampleConv2d::UpsampleConv2d(ParameterSet& params, const std::string& name, int64_t in_channels,
                               int64_t out_channels, int kernel, WeightInit init,
                               int64_t column_budget)
    : name_(name), cin_(in_channels), cout_(out_channels), budget_(column_budget), k_(kernel) {
  if (in_channels < 1 || out_channels < 1)
    throw InvalidArgument("UpsampleConv2d(" + name + "): channel counts must be >= 1, got " +
                          std::to_string(in_channels) + ", " + std::to_string(out_channels));
  if (kernel < 1)
    throw InvalidArgument("UpsampleConv2d(" + name + "): kernel must be >= 1, got " +
                          std::to_string(kernel));
  if (column_budget < 1)
    throw InvalidArgument("UpsampleConv2d(" + name + "): column_budget must be >= 1");
  for (int p = 0; p < 2; ++p) taps_[p] = upsample_conv_taps(kernel, p);
  reach_lo_ = std::min(taps_[0].offset, taps_[1].offset);
  reach_hi_ = std::max(taps_[0].offset + taps_[0].count(), taps_[1].offset + taps_[1].count()) - 1;
  set_algorithm(UpsampleConvAlgorithm::Auto);
  const Conv2dSpec spec = conv_spec(in_channels, out_channels, kernel, init);
  weight_ = &params.add(name + ".weight", {kernel, kernel, in_channels, out_channels},
                        conv2d_weight_init(spec), Layout::ConvHWIO);
  bias_ = &params.add(name + ".bias", {out_channels}, conv2d_bias_init(spec));
}

UpsampleConv2d::~UpsampleConv2d() = default;
UpsampleConv2d::UpsampleConv2d(UpsampleConv2d&&) noexcept = default;

void UpsampleConv2d::set_algorithm(UpsampleConvAlgorithm algorithm) {
  have_x_ = false;  // backward must follow a forward with the same products
  // The stacked product is Winograd's 3x3 "same" convolution when the phases'
  // windows together are the centred 3x3 one.
  const bool wino_fits = reach_lo_ == -1 && reach_hi_ == 1;
  if (algorithm == UpsampleConvAlgorithm::Winograd && !wino_fits)
    throw InvalidArgument("UpsampleConv2d(" + name_ + ")::set_algorithm: Winograd needs kernel 3, 4 or 5, got " +
                          std::to_string(k_));
  winograd_ = algorithm == UpsampleConvAlgorithm::Winograd ||
              (algorithm == UpsampleConvAlgorithm::Auto && wino_fits &&
               std::min(cin_, 4 * cout_) >= detail::kWinogradMinChannels);
  bool stacked = winograd_ || algorithm == UpsampleConvAlgorithm::Stacked;
  if (algorithm == UpsampleConvAlgorithm::Auto && !winograd_) {
    // Multiply-adds a pixel per input channel, with N rounded up to the gemm's
    // column tile (a thinner product costs the same).
    constexpr int64_t nr = partita::detail::kGemmNR;
    auto tile = [](int64_t n) { return (n + nr - 1) / nr * nr; };
    int64_t phases = 0;
    for (int p = 0; p < 4; ++p)
      phases += int64_t{taps_[p >> 1].count()} * taps_[p & 1].count() * tile(cout_);
    const int64_t span = reach_hi_ - reach_lo_ + 1;
    stacked = span * span * tile(4 * cout_) < phases;
  }
  plan(stacked);
}

void UpsampleConv2d::plan(bool stacked) {
  stacked_ = stacked;
  n_products_ = stacked ? 1 : 4;
  wp_size_ = k_max_ = n_max_ = 0;
  for (int i = 0; i < n_products_; ++i) {
    Product& pr = products_[i];
    if (stacked) {
      pr.oy = pr.ox = reach_lo_;
      pr.ny = pr.nx = reach_hi_ - reach_lo_ + 1;
      pr.phase = -1;
      pr.n = 4 * cout_;
    } else {
      const UpsampleConvTaps& ty = taps_[i >> 1];
      const UpsampleConvTaps& tx = taps_[i & 1];
      pr.oy = ty.offset;
      pr.ny = ty.count();
      pr.ox = tx.offset;
      pr.nx = tx.count();
      pr.phase = i;
      pr.n = cout_;
    }
    pr.k = int64_t{pr.ny} * pr.nx * cin_;
    pr.w_off = wp_size_;
    wp_size_ += pr.k * pr.n;
    k_max_ = std::max(k_max_, pr.k);
    n_max_ = std::max(n_max_, pr.n);
  }
}

void UpsampleConv2d::check_input(const Shape& in, const std::string& who) const {
  if (in.size() != 4 || in[3] != cin_ || in[0] < 1 || in[1] < 1 || in[2] < 1)
    throw ShapeError(who + ": expected a low-res NHWC input (N, S, T, " + std::to_string(cin_) +
                     ") with N, S, T >= 1, got " + shape_str(in));
}

Shape UpsampleConv2d::output_shape(const Shape& input) const {
  check_input(input, "UpsampleConv2d::output_shape(" + name_ + ")");
  return {input[0], 2 * input[1], 2 * input[2], cout_};
}

int64_t UpsampleConv2d::rows_per_chunk() const {
  // Low-res rows per chunk: the largest product's columns fill the budget,
  // but a gemm keeps at least kMinChunkPixels rows (short ones repack the
  // weights per call).
  const int64_t per_row = t_ * k_max_;
  int64_t r = std::max<int64_t>(1, budget_ / per_row);
  r = std::max(r, (kMinChunkPixels + t_ - 1) / t_);
  return std::min(r, n_ * s_);
}

// Product row (uy, ux, ci), column block of phase p = (py, px): the sum of
// W[ky][kx][ci] over ky in R(py, ty), kx in R(px, tx) for phase p's taps
// ty = uy + oy - off(py), tx = ux + ox - off(px); zero where p reads no tap
// there (stacked only).
void UpsampleConv2d::pack_weights() {
  const int64_t C = cin_, co = cout_, k = k_;
  int64_t total_rows = 0;
  for (int i = 0; i < n_products_; ++i) total_rows += products_[i].k;
  wp_.resize({wp_size_});
  const float* w = weight_->value.data();
  float* wp = wp_.data();
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < total_rows; ++row) {
    int i = 0;
    int64_t local = row;
    while (local >= products_[i].k) local -= products_[i++].k;
    const Product& pr = products_[i];
    const int64_t tap = local / C, ci = local % C;
    const int uy = static_cast<int>(tap / pr.nx), ux = static_cast<int>(tap % pr.nx);
    float* dst = wp + pr.w_off + local * pr.n;
    for (int p = 0; p < 4; ++p) {
      if (pr.phase >= 0 && p != pr.phase) continue;
      float* d = dst + (pr.phase >= 0 ? 0 : p * co);
      zero_floats(d, co);
      const UpsampleConvTaps& tys = taps_[p >> 1];
      const UpsampleConvTaps& txs = taps_[p & 1];
      const int ty = uy + pr.oy - tys.offset, tx = ux + pr.ox - txs.offset;
      if (ty < 0 || ty >= tys.count() || tx < 0 || tx >= txs.count()) continue;
      for (int ky = tys.first[ty]; ky <= tys.last[ty]; ++ky)
        for (int kx = txs.first[tx]; kx <= txs.last[tx]; ++kx)
          add_floats(d, w + ((ky * k + kx) * C + ci) * co, co);
    }
  }
}

// cols[(r - r0) * T + x] for low-res rows r = n * S + y in [r0, r1):
// x[n, y + oy + ty, x + ox + tx, :] for the product's ny x nx window (zero
// outside the image).
void UpsampleConv2d::im2col(const Product& pr, int64_t r0, int64_t r1, float* cols) const {
  const int ny = pr.ny, nx = pr.nx, oy = pr.oy, ox = pr.ox;
  const int64_t K = pr.k, S = s_, T = t_, C = cin_, run = nx * C;
  const float* xd = x_.data();
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t r = r0; r < r1; ++r) {
    for (int64_t x = 0; x < T; ++x) {
      const int64_t n = r / S, y = r % S;
      float* d = cols + ((r - r0) * T + x) * K;
      const int64_t ix0 = x + ox;
      for (int ty = 0; ty < ny; ++ty, d += run) {
        const int64_t iy = y + oy + ty;
        if (iy < 0 || iy >= S) {
          zero_floats(d, run);
          continue;
        }
        const float* src = xd + (n * S + iy) * T * C;
        if (ix0 >= 0 && ix0 + nx <= T) {
          copy_floats(d, src + ix0 * C, run);
        } else {
          for (int tx = 0; tx < nx; ++tx) {
            const int64_t ix = ix0 + tx;
            if (ix < 0 || ix >= T) zero_floats(d + tx * C, C);
            else copy_floats(d + tx * C, src + ix * C, C);
          }
        }
      }
    }
  }
}

// The adjoint of im2col: dx += scatter(dcols), split over the destination
// low-res rows so each thread owns whole rows.
void UpsampleConv2d::col2im_add(const Product& pr, const float* dcols, int64_t r0, int64_t r1,
                                float* dx) const {
  const int ny = pr.ny, nx = pr.nx, oy = pr.oy, ox = pr.ox;
  const int64_t K = pr.k, S = s_, T = t_, C = cin_, run = nx * C;
  const int64_t q0 = std::max<int64_t>(0, r0 + oy);
  const int64_t q1 = std::min<int64_t>(n_ * S - 1, r1 - 1 + oy + ny - 1);
#pragma omp parallel for schedule(static)
  for (int64_t q = q0; q <= q1; ++q) {
    const int64_t n = q / S, iy = q % S;
    float* drow = dx + q * T * C;
    for (int ty = 0; ty < ny; ++ty) {
      const int64_t y = iy - oy - ty;  // the low-res output row reading row iy with tap ty
      if (y < 0 || y >= S) continue;
      const int64_t r = n * S + y;
      if (r < r0 || r >= r1) continue;
      const float* src = dcols + (r - r0) * T * K + ty * run;
      for (int64_t x = 0; x < T; ++x) {
        const float* s = src + x * K;
        const int64_t ix0 = x + ox;
        if (ix0 >= 0 && ix0 + nx <= T) {
          add_floats(drow + ix0 * C, s, run);
        } else {
          for (int tx = 0; tx < nx; ++tx) {
            const int64_t ix = ix0 + tx;
            if (ix >= 0 && ix < T) add_floats(drow + ix * C, s + tx * C, C);
          }
        }
      }
    }
  }
}

// y[n, 2y + py, 2x + px, :] = p[(r - r0) * T + x, phase's columns] + bias for
// the product's phases.
void UpsampleConv2d::scatter_rows(const Product& pr, const float* p, int64_t r0, int64_t r1) {
  const int64_t S = s_, T = t_, co = cout_, T2 = 2 * t_, N = pr.n;
  const int p0 = pr.phase >= 0 ? pr.phase : 0, p1 = pr.phase >= 0 ? pr.phase + 1 : 4;
  const float* bias = bias_->value.data();
  float* y = y_.data();
#pragma omp parallel for schedule(static)
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / S, yy = r % S;
    const float* prow = p + (r - r0) * T * N;
    for (int ph = p0; ph < p1; ++ph) {
      const int py = ph >> 1, px = ph & 1;
      float* orow = y + ((n * 2 * S + 2 * yy + py) * T2 + px) * co;
      const float* srow = prow + (ph - p0) * co;
      for (int64_t x = 0; x < T; ++x) {
        float* o = orow + 2 * x * co;
        const float* s = srow + x * N;
        for (int64_t c = 0; c < co; ++c) o[c] = s[c] + bias[c];
      }
    }
  }
}

// p[(r - r0) * T + x, phase's columns] = dy[n, 2y + py, 2x + px, :]
void UpsampleConv2d::gather_rows(const Product& pr, const float* dy, int64_t r0, int64_t r1,
                                 float* p) const {
  const int64_t S = s_, T = t_, co = cout_, T2 = 2 * t_, N = pr.n;
  const int p0 = pr.phase >= 0 ? pr.phase : 0, p1 = pr.phase >= 0 ? pr.phase + 1 : 4;
#pragma omp parallel for schedule(static)
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / S, yy = r % S;
    float* prow = p + (r - r0) * T * N;
    for (int ph = p0; ph < p1; ++ph) {
      const int py = ph >> 1, px = ph & 1;
      const float* irow = dy + ((n * 2 * S + 2 * yy + py) * T2 + px) * co;
      float* drow = prow + (ph - p0) * co;
      for (int64_t x = 0; x < T; ++x) copy_floats(drow + x * N, irow + 2 * x * co, co);
    }
  }
}

ConvGeometry UpsampleConv2d::wino_geometry() const {
  ConvGeometry g;
  g.n = n_;
  g.h = g.ho = s_;
  g.w = g.wo = t_;
  g.cin = cin_;
  g.cout = 4 * cout_;
  g.kh = g.kw = 3;
  g.pt = g.pb = g.pl = g.pr = 1;
  return g;
}

const Tensor& UpsampleConv2d::forward(const Tensor& x) {
  const std::string who = "UpsampleConv2d::forward(" + name_ + ")";
  if (!weight_->value.data())
    throw InvalidArgument(who + ": parameters not allocated (call ParameterSet::allocate)");
  check_input(x.shape(), who);
  n_ = x.dim(0);
  s_ = x.dim(1);
  t_ = x.dim(2);
  x_ = Tensor::view(const_cast<float*>(x.data()), x.shape());
  have_x_ = true;
  y_.resize({n_, 2 * s_, 2 * t_, cout_});
  pack_weights();
  if (winograd_) {
    // The stacked weights are (3, 3, Cin, 4 Cout) HWIO: the 3x3 convolution's.
    if (!wino_) wino_ = std::make_unique<detail::Winograd3x3>();
    pbuf_.resize({n_, s_, t_, 4 * cout_});
    wino_->forward({x_.data()}, wino_geometry(), wp_.data(), nullptr, pbuf_.data());
    scatter_rows(products_[0], pbuf_.data(), 0, n_ * s_);
    return y_;
  }
  const int64_t rows = n_ * s_, rpc = rows_per_chunk();
  const int64_t chunks = (rows + rpc - 1) / rpc, items = n_products_ * chunks;
  const int64_t chunk_cols = rpc * t_ * k_max_, chunk_p = rpc * t_ * n_max_;
  const float* wp = wp_.data();
  // Work item (chunk, product): im2col, gemm, scatter into the product's
  // pixels (items write disjoint outputs).
  auto run_item = [&](int64_t item, float* cols, float* p) {
    const Product& pr = products_[item % n_products_];
    const int64_t r0 = (item / n_products_) * rpc, r1 = std::min(rows, r0 + rpc);
    const int64_t m = (r1 - r0) * t_;
    im2col(pr, r0, r1, cols);
    gemm(Trans::No, Trans::No, m, pr.n, pr.k, 1.0f, cols, pr.k, wp + pr.w_off, pr.n, 0.0f, p,
         pr.n);
    scatter_rows(pr, p, r0, r1);
  };
  // Each thread takes whole items with its own buffers (as Conv2d::forward
  // takes chunks); every output element is computed as in the sequential loop.
  detail::run_items(items, cols_, chunk_cols, pbuf_, chunk_p, run_item);
  return y_;
}

// Backward of one product over low-res rows [r0, r1): dWp += cols^T dP, then
// (with the input gradient) dcols = dP Wp^T into the column buffer, no longer
// needed, and col2im into dx.
void UpsampleConv2d::run_backward(const Product& pr, const float* dy, int64_t r0, int64_t r1,
                                  float* cols, float* dp, float* dwp, float* dx) const {
  const int64_t m = (r1 - r0) * t_;
  im2col(pr, r0, r1, cols);
  gather_rows(pr, dy, r0, r1, dp);
  gemm(Trans::Yes, Trans::No, pr.k, pr.n, m, 1.0f, cols, pr.k, dp, pr.n, 1.0f, dwp + pr.w_off,
       pr.n);
  if (!dx) return;
  gemm(Trans::No, Trans::Yes, m, pr.k, pr.n, 1.0f, dp, pr.n, wp_.data() + pr.w_off, pr.n, 0.0f,
       cols, pr.k);
  col2im_add(pr, cols, r0, r1, dx);
}

// W[ky][kx][ci] += sum over the phases p of dWp at the row of the low-res tap
// (ty, tx) that (ky, kx) belongs to in p, in p's columns (the adjoint of the
// tap sums in pack_weights).
void UpsampleConv2d::add_weight_grad(const float* dwp) {
  const int64_t C = cin_, co = cout_, k = k_;
  // tap_of[a * k + j]: the low-res tap original tap j belongs to in phase a.
  std::vector<int> tap_of(static_cast<size_t>(2 * k_));
  for (int a = 0; a < 2; ++a)
    for (int t = 0; t < taps_[a].count(); ++t)
      for (int j = taps_[a].first[t]; j <= taps_[a].last[t]; ++j)
        tap_of[static_cast<size_t>(a * k_ + j)] = t;
  float* dw = weight_->grad.data();
  const int* to = tap_of.data();
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t tap = 0; tap < k * k; ++tap) {
    for (int64_t ci = 0; ci < C; ++ci) {
      const int64_t ky = tap / k, kx = tap % k;
      float* dst = dw + (tap * C + ci) * co;
      for (int p = 0; p < 4; ++p) {
        const int py = p >> 1, px = p & 1;
        const Product& pr = products_[stacked_ ? 0 : p];
        const int64_t uy = to[py * k + ky] + taps_[py].offset - pr.oy;
        const int64_t ux = to[px * k + kx] + taps_[px].offset - pr.ox;
        const int64_t col = stacked_ ? p * co : 0;
        add_floats(dst, dwp + pr.w_off + ((uy * pr.nx + ux) * C + ci) * pr.n + col, co);
      }
    }
  }
}

const Tensor& UpsampleConv2d::backward(const Tensor& dy) {
  const std::string who = "UpsampleConv2d::backward(" + name_ + ")";
  if (!have_x_) throw InvalidArgument(who + ": backward called before forward");
  dy.expect_shape({n_, 2 * s_, 2 * t_, cout_}, who.c_str());
  x_.expect_shape({n_, s_, t_, cin_}, who.c_str());
  const int64_t rows = n_ * s_, rpc = rows_per_chunk();
  const int64_t chunks = (rows + rpc - 1) / rpc, items = n_products_ * chunks;
  const int64_t chunk_cols = rpc * t_ * k_max_, chunk_p = rpc * t_ * n_max_;
  add_column_sums(dy.data(), n_ * 4 * s_ * t_, cout_, bias_->grad.data());
  if (input_grad_) {
    dx_.resize(x_.shape());
    dx_.zero();
  } else {
    dx_.resize({0});
  }
  float* dx = input_grad_ ? dx_.data() : nullptr;
  if (winograd_) {
    pbuf_.resize({n_, s_, t_, 4 * cout_});
    gather_rows(products_[0], dy.data(), 0, rows, pbuf_.data());
    dwp_.resize({wp_size_});
    dwp_.zero();
    wino_->backward({x_.data()}, pbuf_.data(), wino_geometry(), dwp_.data(), dx);
    add_weight_grad(dwp_.data());
    return dx_;
  }
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  // Many chunks: threads take whole chunks (every product). Chunk c adds into
  // the dx rows r0 + reach_lo .. r1 - 1 + reach_hi, so chunks c and c + 2 are
  // disjoint when rpc >= reach_hi - reach_lo (2 for k = 3, 4, 5): even chunks,
  // then odd ones (without dx, any order).
  const bool by_chunks =
      threads > 1 && chunks >= 2 * threads && (!dx || rpc >= reach_hi_ - reach_lo_);
  // Few chunks (the deep, small levels): threads take (chunk, product) items,
  // each thread adding into its own copy of dx (small there), summed in
  // thread order afterwards.
  const bool by_items = !by_chunks && threads > 1 && items >= 2 * threads;
  const int parts = by_chunks || by_items ? threads : 1;
  dwp_.resize({parts * wp_size_});
  dwp_.zero();
  const float* d = dy.data();
  if (by_chunks || by_items) {
    cols_.resize({threads * chunk_cols});
    pbuf_.resize({threads * chunk_p});
    const int64_t ndx = dx ? dx_.size() : 0;
    if (by_items && dx) {
      dxpart_.resize({(threads - 1) * ndx});
      dxpart_.zero();
    }
    if (by_chunks) {
      // Chunks go to threads round robin, so the partial sums are the same
      // for the same thread count.
      for (int64_t half = 0; half < 2; ++half) {
#pragma omp parallel for schedule(static, 1) num_threads(threads)
        for (int64_t c = half; c < chunks; c += 2) {
          const int t = omp_get_thread_num();
          const int64_t r0 = c * rpc, r1 = std::min(rows, r0 + rpc);
          for (int i = 0; i < n_products_; ++i)
            run_backward(products_[i], d, r0, r1, cols_.data() + t * chunk_cols,
                         pbuf_.data() + t * chunk_p, dwp_.data() + t * wp_size_, dx);
        }
      }
    } else {
#pragma omp parallel for schedule(static, 1) num_threads(threads)
      for (int64_t item = 0; item < items; ++item) {
        const int t = omp_get_thread_num();
        float* dxt = !dx ? nullptr : t == 0 ? dx : dxpart_.data() + (t - 1) * ndx;
        const int64_t r0 = (item / n_products_) * rpc, r1 = std::min(rows, r0 + rpc);
        run_backward(products_[item % n_products_], d, r0, r1, cols_.data() + t * chunk_cols,
                     pbuf_.data() + t * chunk_p, dwp_.data() + t * wp_size_, dxt);
      }
      if (dx) {
        const float* extra = dxpart_.data();
#pragma omp parallel for schedule(static) num_threads(threads)
        for (int64_t i = 0; i < ndx; ++i) {
          float s = dx[i];
          for (int t = 1; t < threads; ++t) s += extra[(t - 1) * ndx + i];
          dx[i] = s;
        }
      }
    }
    // Reduce the per-thread weight-gradient partials into part 0, in thread order.
    float* wpart = dwp_.data();
    const int64_t nw = wp_size_;
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t i = 0; i < nw; ++i) {
      float s = wpart[i];
      for (int t = 1; t < threads; ++t) s += wpart[t * nw + i];
      wpart[i] = s;
    }
  } else {
    cols_.resize({chunk_cols});
    pbuf_.resize({chunk_p});
    for (int64_t r0 = 0; r0 < rows; r0 += rpc)
      for (int i = 0; i < n_products_; ++i)
        run_backward(products_[i], d, r0, std::min(rows, r0 + rpc), cols_.data(), pbuf_.data(),
                     dwp_.data(), dx);
  }
  add_weight_grad(dwp_.data());
  return dx_;
}

}  // namespace partita::nn
