// Conv2d: im2col + gemm fast path, chunked over output rows, and the
// direct-loop reference it is tested against. See conv2d.hpp for the math.
#include "partita/nn/conv2d.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include <omp.h>

#include "partita/core/error.hpp"
#include "nn/reductions.hpp"
#include "nn/winograd.hpp"
#include "nn/winograd_s2.hpp"
#include "partita/core/gemm.hpp"

namespace partita::nn {

using std::int64_t;
using detail::add_column_sums;

void same_padding(int64_t in, int kernel, int stride, int& before, int& after) {
  int64_t out = (in + stride - 1) / stride;
  int64_t total = std::max<int64_t>((out - 1) * stride + kernel - in, 0);
  before = static_cast<int>(total / 2);
  after = static_cast<int>(total - total / 2);
}

ConvGeometry conv_geometry(const Shape& input, int64_t cin, int64_t cout, int kh, int kw, int sh,
                           int sw, const Padding& padding, const char* who) {
  if (input.size() != 4)
    throw ShapeError(std::string(who) + ": expected an NHWC input (N, H, W, " +
                     std::to_string(cin) + "), got " + shape_str(input));
  if (input[3] != cin)
    throw ShapeError(std::string(who) + ": expected " + std::to_string(cin) +
                     " input channels, got shape " + shape_str(input));
  if (kh < 1 || kw < 1 || sh < 1 || sw < 1)
    throw InvalidArgument(std::string(who) + ": kernel and stride must be >= 1");
  ConvGeometry g;
  g.n = input[0];
  g.h = input[1];
  g.w = input[2];
  g.cin = cin;
  g.cout = cout;
  g.kh = kh;
  g.kw = kw;
  g.sh = sh;
  g.sw = sw;
  switch (padding.mode) {
    case Padding::Mode::Same:
      same_padding(g.h, kh, sh, g.pt, g.pb);
      same_padding(g.w, kw, sw, g.pl, g.pr);
      break;
    case Padding::Mode::Valid:
      break;
    case Padding::Mode::Explicit:
      if (padding.top < 0 || padding.bottom < 0 || padding.left < 0 || padding.right < 0)
        throw InvalidArgument(std::string(who) + ": negative padding");
      g.pt = padding.top;
      g.pb = padding.bottom;
      g.pl = padding.left;
      g.pr = padding.right;
      break;
  }
  int64_t hp = g.h + g.pt + g.pb, wp = g.w + g.pl + g.pr;
  if (g.h < 1 || g.w < 1 || hp < kh || wp < kw)
    throw ShapeError(std::string(who) + ": input " + shape_str(input) + " (padded " +
                     std::to_string(hp) + "x" + std::to_string(wp) + ") is smaller than the " +
                     std::to_string(kh) + "x" + std::to_string(kw) + " kernel");
  g.ho = (hp - kh) / sh + 1;
  g.wo = (wp - kw) / sw + 1;
  return g;
}

namespace {

constexpr int64_t kMinChunkPixels = 512;

// Short runs (Cin = 1 or 2 gives 3..8 floats) are copied by an inlined loop,
// long ones by memcpy.
inline void copy_floats(float* dst, const float* src, int64_t n) {
  if (n <= 16) {
    for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
  } else {
    std::memcpy(dst, src, sizeof(float) * n);
  }
}

inline void zero_floats(float* dst, int64_t n) {
  if (n <= 16) {
    for (int64_t i = 0; i < n; ++i) dst[i] = 0.0f;
  } else {
    std::memset(dst, 0, sizeof(float) * n);
  }
}

// rows of y (each `cols` long) = bias
void fill_rows(float* y, int64_t rows, int64_t cols, const float* bias) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) std::memcpy(y + r * cols, bias, sizeof(float) * cols);
}

}  // namespace

Initializer conv2d_weight_init(const Conv2dSpec& s) {
  const int64_t rf = static_cast<int64_t>(s.kernel_h) * s.kernel_w;
  switch (s.init) {
    case WeightInit::HeNormal: return init_he_normal(rf * s.in_channels);
    case WeightInit::TorchDefault: return init_torch_default(rf * s.in_channels);
    case WeightInit::GlorotUniform: break;
  }
  return init_glorot_uniform(rf * s.in_channels, rf * s.out_channels);
}

Initializer conv2d_bias_init(const Conv2dSpec& s) {
  const int64_t fan_in = static_cast<int64_t>(s.kernel_h) * s.kernel_w * s.in_channels;
  return s.init == WeightInit::TorchDefault ? init_torch_default(fan_in) : init_zeros();
}

Conv2d::Conv2d(ParameterSet& params, const std::string& name, const Conv2dSpec& spec)
    : spec_(spec), name_(name) {
  if (spec.in_channels < 1 || spec.out_channels < 1)
    throw InvalidArgument("Conv2d(" + name + "): channel counts must be >= 1");
  if (spec.kernel_h < 1 || spec.kernel_w < 1 || spec.stride_h < 1 || spec.stride_w < 1)
    throw InvalidArgument("Conv2d(" + name + "): kernel and stride must be >= 1");
  if (spec.column_budget < 1)
    throw InvalidArgument("Conv2d(" + name + "): column_budget must be >= 1");
  if (spec.winograd_chunk_tiles < 1)
    throw InvalidArgument("Conv2d(" + name + "): winograd_chunk_tiles must be >= 1");
  weight_ = &params.add(name + ".weight",
                        {spec.kernel_h, spec.kernel_w, spec.in_channels, spec.out_channels},
                        conv2d_weight_init(spec), Layout::ConvHWIO);
  if (spec.bias) bias_ = &params.add(name + ".bias", {spec.out_channels}, conv2d_bias_init(spec));
}

Conv2d::Conv2d(ParameterSet& params, const std::string& name, int64_t in_channels,
               int64_t out_channels, int kernel, int stride, Padding padding, bool bias)
    : Conv2d(params, name, [&] {
        Conv2dSpec s;
        s.in_channels = in_channels;
        s.out_channels = out_channels;
        s.kernel_h = s.kernel_w = kernel;
        s.stride_h = s.stride_w = stride;
        s.padding = padding;
        s.bias = bias;
        return s;
      }()) {}

Conv2d::~Conv2d() = default;
Conv2d::Conv2d(Conv2d&&) noexcept = default;
Conv2d& Conv2d::operator=(Conv2d&&) noexcept = default;

Shape Conv2d::output_shape(const Shape& input) const {
  ConvGeometry g = conv_geometry(input, spec_.in_channels, spec_.out_channels, spec_.kernel_h,
                                 spec_.kernel_w, spec_.stride_h, spec_.stride_w, spec_.padding,
                                 "Conv2d::output_shape");
  return {g.n, g.ho, g.wo, g.cout};
}

bool Conv2d::is_pointwise(const ConvGeometry& g) const {
  return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pb == 0 &&
         g.pl == 0 && g.pr == 0;
}

int64_t Conv2d::rows_per_chunk(const ConvGeometry& g) const {
  // Enough output rows to fill the budget, but at least kMinChunkPixels pixels:
  // a GEMM with a short M repacks the whole (K x Cout) weight matrix per call.
  const int64_t per_row = g.wo * g.k();
  int64_t r = std::max<int64_t>(1, spec_.column_budget / per_row);
  r = std::max(r, (kMinChunkPixels + g.wo - 1) / g.wo);
  return std::min(r, g.n * g.ho);
}

// cols[(r - r0) * wo + ox, (ky * kw + kx) * cin + ci] = x[n, oy*sh - pt + ky, ox*sw - pl + kx, ci]
// for the output rows r = n * ho + oy in [r0, r1). For one (ky) the kw pixels
// of a patch are adjacent in x, so a fully in-range patch row is one copy of
// kw * cin floats whatever the stride.
void Conv2d::im2col(const float* x, const ConvGeometry& g, int64_t r0, int64_t r1, float* cols) {
  const int64_t K = g.k(), run = g.kw * g.cin, wo = g.wo, cin = g.cin;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t r = r0; r < r1; ++r) {
    for (int64_t ox = 0; ox < wo; ++ox) {
      const int64_t n = r / g.ho, oy = r % g.ho;
      float* dst = cols + ((r - r0) * wo + ox) * K;
      const int64_t ix0 = ox * g.sw - g.pl;
      for (int ky = 0; ky < g.kh; ++ky) {
        float* d = dst + ky * run;
        const int64_t iy = oy * g.sh - g.pt + ky;
        if (iy < 0 || iy >= g.h) {
          zero_floats(d, run);
          continue;
        }
        const float* src = x + (n * g.h + iy) * g.w * cin;
        if (ix0 >= 0 && ix0 + g.kw <= g.w) {
          copy_floats(d, src + ix0 * cin, run);
        } else {
          for (int kx = 0; kx < g.kw; ++kx) {
            const int64_t ix = ix0 + kx;
            if (ix < 0 || ix >= g.w)
              zero_floats(d + kx * cin, cin);
            else
              copy_floats(d + kx * cin, src + ix * cin, cin);
          }
        }
      }
    }
  }
}

// The adjoint of im2col for output rows [r0, r1): dx += scatter(dcols). Work is
// split over input rows (n, iy): each thread owns whole rows of dx, so the
// scatter within a row needs no synchronisation.
void Conv2d::col2im_add(const float* dcols, const ConvGeometry& g, int64_t r0, int64_t r1,
                        float* dx) {
  const int64_t K = g.k(), run = g.kw * g.cin, wo = g.wo, cin = g.cin;
  const int64_t n0 = r0 / g.ho, oy0 = r0 % g.ho, n1 = (r1 - 1) / g.ho, oy1 = (r1 - 1) % g.ho;
  const int64_t qmin = n0 * g.h + std::clamp<int64_t>(oy0 * g.sh - g.pt, 0, g.h);
  const int64_t qmax = n1 * g.h + std::clamp<int64_t>(oy1 * g.sh - g.pt + g.kh - 1, -1, g.h - 1);
#pragma omp parallel for schedule(static)
  for (int64_t q = qmin; q <= qmax; ++q) {
    const int64_t n = q / g.h, iy = q % g.h;
    float* drow = dx + q * g.w * cin;
    for (int ky = 0; ky < g.kh; ++ky) {
      const int64_t t = iy + g.pt - ky;
      if (t < 0 || t % g.sh != 0) continue;
      const int64_t oy = t / g.sh;
      if (oy >= g.ho) continue;
      const int64_t r = n * g.ho + oy;
      if (r < r0 || r >= r1) continue;
      const float* src_row = dcols + (r - r0) * wo * K + ky * run;
      for (int64_t ox = 0; ox < wo; ++ox) {
        const float* s = src_row + ox * K;
        const int64_t ix0 = ox * g.sw - g.pl;
        if (ix0 >= 0 && ix0 + g.kw <= g.w) {
          float* d = drow + ix0 * cin;
          for (int64_t j = 0; j < run; ++j) d[j] += s[j];
        } else {
          for (int kx = 0; kx < g.kw; ++kx) {
            const int64_t ix = ix0 + kx;
            if (ix < 0 || ix >= g.w) continue;
            float* d = drow + ix * cin;
            const float* sk = s + kx * cin;
            for (int64_t j = 0; j < cin; ++j) d[j] += sk[j];
          }
        }
      }
    }
  }
}

const Tensor& Conv2d::forward(const Tensor& x) {
  const std::string who = "Conv2d::forward(" + name_ + ")";
  if (!weight_->value.data())
    throw InvalidArgument(who + ": parameters not allocated (call ParameterSet::allocate)");
  const ConvGeometry g =
      conv_geometry(x.shape(), spec_.in_channels, spec_.out_channels, spec_.kernel_h,
                    spec_.kernel_w, spec_.stride_h, spec_.stride_w, spec_.padding, who.c_str());
  geom_ = g;
  x_ = Tensor::view(const_cast<float*>(x.data()), x.shape());
  have_x_ = true;
  cols_hold_all_ = false;
  y_.resize({g.n, g.ho, g.wo, g.cout});
  const float* w = weight_->value.data();
  const float* b = bias_ ? bias_->value.data() : nullptr;
  const float beta = b ? 1.0f : 0.0f;
  wino_active_ = false;
  wino_s2_active_ = false;
  const bool wino_ok = detail::winograd_applies(g);
  const bool wino_s2_ok = detail::winograd_s2_applies(g);
  if (spec_.algorithm == ConvAlgorithm::Winograd && !wino_ok && !wino_s2_ok)
    throw InvalidArgument(who + ": ConvAlgorithm::Winograd needs a 3x3 stride-1 convolution "
                                "padded 1 on every side or a 4x4 stride-2 one padded 1 before");
  if (wino_s2_ok && (spec_.algorithm == ConvAlgorithm::Winograd ||
                     (spec_.algorithm == ConvAlgorithm::Auto &&
                      std::min(g.cin, g.cout) >= detail::kWinogradMinChannels))) {
    if (!wino_s2_) wino_s2_ = std::make_unique<detail::WinogradS2>();
    wino_s2_->chunk_tiles = spec_.winograd_chunk_tiles;
    wino_s2_->forward(x.data(), g, w, b, y_.data());
    wino_s2_active_ = true;
    return y_;
  }
  if (wino_ok && (spec_.algorithm == ConvAlgorithm::Winograd ||
                  (spec_.algorithm == ConvAlgorithm::Auto &&
                   std::min(g.cin, g.cout) >= detail::kWinogradMinChannels))) {
    if (!wino_) wino_ = std::make_unique<detail::Winograd3x3>();
    wino_->chunk_tiles = spec_.winograd_chunk_tiles;
    wino_->forward({x.data()}, g, w, b, y_.data());
    wino_active_ = true;
    return y_;
  }
  if (is_pointwise(g)) {
    const int64_t m = g.n * g.h * g.w;
    if (b) fill_rows(y_.data(), m, g.cout, b);
    gemm(Trans::No, Trans::No, m, g.cout, g.cin, 1.0f, x.data(), g.cin, w, g.cout, beta,
         y_.data(), g.cout);
    return y_;
  }
  const int64_t K = g.k(), rows = g.n * g.ho, rpc = rows_per_chunk(g);
  const int64_t chunks = (rows + rpc - 1) / rpc, chunk_floats = rpc * g.wo * K;
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  // One chunk: im2col, bias, product; the output rows of chunks are disjoint.
  auto run_chunk = [&](int64_t r0, float* cols) {
    const int64_t r1 = std::min(rows, r0 + rpc), m = (r1 - r0) * g.wo;
    im2col(x.data(), g, r0, r1, cols);
    float* yc = y_.data() + r0 * g.wo * g.cout;
    if (b) fill_rows(yc, m, g.cout, b);
    gemm(Trans::No, Trans::No, m, g.cout, K, 1.0f, cols, K, w, g.cout, beta, yc, g.cout);
  };
  if (threads > 1 && chunks >= 2 * threads) {
    // Many chunks: one parallel region for the whole layer, each thread taking
    // whole chunks with its own column buffer (im2col and gemm then run on the
    // calling thread). Opening two regions per chunk instead cost a wake-up and
    // a join each time: 55 % of the 2-thread peak on the first AR-CNN level.
    // Each element is computed as in the sequential loop, so the output does
    // not depend on the thread count.
    cols_.resize({threads * chunk_floats});
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (int64_t c = 0; c < chunks; ++c)
      run_chunk(c * rpc, cols_.data() + omp_get_thread_num() * chunk_floats);
    return y_;
  }
  cols_.resize({chunk_floats});
  for (int64_t r0 = 0; r0 < rows; r0 += rpc) {
    run_chunk(r0, cols_.data());
    cols_hold_all_ = r0 == 0 && r0 + rpc >= rows;
  }
  return y_;
}

const Tensor& Conv2d::backward(const Tensor& dy) {
  const std::string who = "Conv2d::backward(" + name_ + ")";
  if (!have_x_) throw InvalidArgument(who + ": backward called before forward");
  const ConvGeometry& g = geom_;
  dy.expect_shape({g.n, g.ho, g.wo, g.cout}, who.c_str());
  const Tensor& x = x_;
  x.expect_shape({g.n, g.h, g.w, g.cin}, who.c_str());
  const float* w = weight_->value.data();
  float* dw = weight_->grad.data();
  if (bias_ && weight_grad_) add_column_sums(dy.data(), g.n * g.ho * g.wo, g.cout, bias_->grad.data());
  if (input_grad_) dx_.resize(x.shape());
  else dx_.resize({0});
  if (!weight_grad_ && !input_grad_) return dx_;
  if (wino_s2_active_) {  // its backward skips dW when not wanted
    wino_s2_->backward(x.data(), dy.data(), g, weight_grad_ ? dw : nullptr, input_grad_ ? dx_.data() : nullptr);
    return dx_;
  }
  if (wino_active_) {
    if (!weight_grad_) {  // the Winograd backward always forms dW: into a scratch buffer
      dw_part_.resize({weight_->grad.size()});
      dw_part_.zero();
      dw = dw_part_.data();
    }
    wino_->backward({x.data()}, dy.data(), g, dw, input_grad_ ? dx_.data() : nullptr);
    return dx_;
  }

  if (is_pointwise(g)) {
    const int64_t m = g.n * g.h * g.w;
    if (weight_grad_)
      gemm(Trans::Yes, Trans::No, g.cin, g.cout, m, 1.0f, x.data(), g.cin, dy.data(), g.cout, 1.0f,
           dw, g.cout);
    if (input_grad_)
      gemm(Trans::No, Trans::Yes, m, g.cin, g.cout, 1.0f, dy.data(), g.cout, w, g.cout, 0.0f,
           dx_.data(), g.cin);
    return dx_;
  }
  const int64_t K = g.k(), rows = g.n * g.ho, rpc = rows_per_chunk(g);
  const int64_t chunks = (rows + rpc - 1) / rpc, chunk_floats = rpc * g.wo * K;
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (input_grad_) dx_.zero();
  // Chunks c and c + 2 never add into the same row of dx when
  // (rpc + 1) * stride >= kernel height (their input rows are disjoint).
  if (threads > 1 && chunks >= 2 * threads && (rpc + 1) * g.sh >= g.kh) {
    // One chunk: im2col, dW partial of this thread, dcols, col2im into dx.
    const int64_t kc = K * g.cout;
    cols_.resize({threads * chunk_floats});
    if (input_grad_) dcols_.resize({threads * chunk_floats});
    dw_part_.resize({threads * kc});
    dw_part_.zero();
    // Even chunks, then odd chunks: within a phase no two chunks touch the same
    // dx row. Chunks go to threads round robin (static, 1), so the partial sums,
    // and dW, are the same for the same thread count.
    for (int64_t phase = 0; phase < 2; ++phase) {
#pragma omp parallel for schedule(static, 1) num_threads(threads)
      for (int64_t c = phase; c < chunks; c += 2) {
        const int t = omp_get_thread_num();
        const int64_t r0 = c * rpc, r1 = std::min(rows, r0 + rpc), m = (r1 - r0) * g.wo;
        const float* dyc = dy.data() + r0 * g.wo * g.cout;
        if (weight_grad_) {
          float* cols = cols_.data() + t * chunk_floats;
          im2col(x.data(), g, r0, r1, cols);
          gemm(Trans::Yes, Trans::No, K, g.cout, m, 1.0f, cols, K, dyc, g.cout, 1.0f,
               dw_part_.data() + t * kc, g.cout);
        }
        if (input_grad_) {
          float* dcols = dcols_.data() + t * chunk_floats;
          gemm(Trans::No, Trans::Yes, m, K, g.cout, 1.0f, dyc, g.cout, w, g.cout, 0.0f, dcols, K);
          col2im_add(dcols, g, r0, r1, dx_.data());
        }
      }
    }
    if (!weight_grad_) return dx_;
    const float* part = dw_part_.data();
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t i = 0; i < kc; ++i) {
      float s = 0.0f;
      for (int t = 0; t < threads; ++t) s += part[t * kc + i];
      dw[i] += s;
    }
    return dx_;
  }
  cols_.resize({chunk_floats});
  if (input_grad_) dcols_.resize({chunk_floats});
  for (int64_t r0 = 0; r0 < rows; r0 += rpc) {
    const int64_t r1 = std::min(rows, r0 + rpc), m = (r1 - r0) * g.wo;
    const float* dyc = dy.data() + r0 * g.wo * g.cout;
    if (weight_grad_) {
      if (!cols_hold_all_) im2col(x.data(), g, r0, r1, cols_.data());
      // dW (K x Cout) += cols^T (K x m) * dY (m x Cout)
      gemm(Trans::Yes, Trans::No, K, g.cout, m, 1.0f, cols_.data(), K, dyc, g.cout, 1.0f, dw,
           g.cout);
    }
    if (input_grad_) {
      // dcols (m x K) = dY (m x Cout) * W^T (Cout x K)
      gemm(Trans::No, Trans::Yes, m, K, g.cout, 1.0f, dyc, g.cout, w, g.cout, 0.0f,
           dcols_.data(), K);
      col2im_add(dcols_.data(), g, r0, r1, dx_.data());
    }
  }
  return dx_;
}

void conv2d_reference_forward(const Tensor& x, const Tensor& w, const Tensor* b,
                              const ConvGeometry& g, Tensor& y) {
  x.expect_shape({g.n, g.h, g.w, g.cin}, "conv2d_reference_forward");
  w.expect_shape({g.kh, g.kw, g.cin, g.cout}, "conv2d_reference_forward");
  y.resize({g.n, g.ho, g.wo, g.cout});
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t oy = 0; oy < g.ho; ++oy)
      for (int64_t ox = 0; ox < g.wo; ++ox)
        for (int64_t co = 0; co < g.cout; ++co) {
          double acc = b ? (*b)[co] : 0.0;
          for (int ky = 0; ky < g.kh; ++ky) {
            const int64_t iy = oy * g.sh - g.pt + ky;
            if (iy < 0 || iy >= g.h) continue;
            for (int kx = 0; kx < g.kw; ++kx) {
              const int64_t ix = ox * g.sw - g.pl + kx;
              if (ix < 0 || ix >= g.w) continue;
              for (int64_t ci = 0; ci < g.cin; ++ci)
                acc += static_cast<double>(x[((n * g.h + iy) * g.w + ix) * g.cin + ci]) *
                       w[((ky * g.kw + kx) * g.cin + ci) * g.cout + co];
            }
          }
          y[((n * g.ho + oy) * g.wo + ox) * g.cout + co] = static_cast<float>(acc);
        }
}

void conv2d_reference_backward(const Tensor& x, const Tensor& w, const Tensor& dy,
                               const ConvGeometry& g, Tensor& dx, Tensor& dw, Tensor* db) {
  x.expect_shape({g.n, g.h, g.w, g.cin}, "conv2d_reference_backward");
  w.expect_shape({g.kh, g.kw, g.cin, g.cout}, "conv2d_reference_backward");
  dw.expect_shape({g.kh, g.kw, g.cin, g.cout}, "conv2d_reference_backward");
  dy.expect_shape({g.n, g.ho, g.wo, g.cout}, "conv2d_reference_backward");
  std::vector<double> gx(static_cast<size_t>(x.size()), 0.0), gw(static_cast<size_t>(w.size()), 0.0),
      gb(static_cast<size_t>(g.cout), 0.0);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t oy = 0; oy < g.ho; ++oy)
      for (int64_t ox = 0; ox < g.wo; ++ox)
        for (int64_t co = 0; co < g.cout; ++co) {
          const double d = dy[((n * g.ho + oy) * g.wo + ox) * g.cout + co];
          gb[static_cast<size_t>(co)] += d;
          for (int ky = 0; ky < g.kh; ++ky) {
            const int64_t iy = oy * g.sh - g.pt + ky;
            if (iy < 0 || iy >= g.h) continue;
            for (int kx = 0; kx < g.kw; ++kx) {
              const int64_t ix = ox * g.sw - g.pl + kx;
              if (ix < 0 || ix >= g.w) continue;
              for (int64_t ci = 0; ci < g.cin; ++ci) {
                const int64_t xi = ((n * g.h + iy) * g.w + ix) * g.cin + ci;
                const int64_t wi = ((ky * g.kw + kx) * g.cin + ci) * g.cout + co;
                gx[static_cast<size_t>(xi)] += d * w[wi];
                gw[static_cast<size_t>(wi)] += d * x[xi];
              }
            }
          }
        }
  dx.resize(x.shape());
  for (int64_t i = 0; i < x.size(); ++i) dx[i] = static_cast<float>(gx[static_cast<size_t>(i)]);
  for (int64_t i = 0; i < w.size(); ++i) dw[i] += static_cast<float>(gw[static_cast<size_t>(i)]);
  if (db)
    for (int64_t c = 0; c < g.cout; ++c) (*db)[c] += static_cast<float>(gb[static_cast<size_t>(c)]);
}

}  // namespace partita::nn
