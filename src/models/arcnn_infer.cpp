// ArcnnInference: folded, packed, incremental batch-1 AR-CNN (see arcnn_infer.hpp).
#include "models/arcnn_infer.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "models/arcnn_impl.hpp"
#include "partita/core/error.hpp"

namespace partita::models {

using std::int64_t;
using infer::ConvJob;

namespace {

int64_t cpad(int64_t c) { return (c + 15) / 16 * 16; }
int nb_for(int64_t cp) { return infer::preferred_nb(cp); }

// A 3x3 HWIO weight tensor (3, 3, cin, cout) and its bias.
struct Weights3 {
  const float* w = nullptr;
  const float* b = nullptr;
  int64_t cin = 0, cout = 0;
  float at(int ky, int kx, int64_t ci, int64_t o) const { return w[((ky * 3 + kx) * cin + ci) * cout + o]; }
};

Weights3 weights3(nn::Parameter& w, const nn::Parameter* b) {
  Weights3 r;
  const Shape& s = w.value.shape();
  if (s.size() != 4 || s[0] != 3 || s[1] != 3 || !b)
    throw InvalidArgument("ArcnnInference: " + w.name + " is not a 3x3 convolution with a bias");
  r.w = w.value.data();
  r.b = b->value.data();
  r.cin = s[2];
  r.cout = s[3];
  return r;
}
Weights3 weights3(nn::Conv2d& c) { return weights3(c.weight(), c.bias()); }
Weights3 weights3(nn::UpConcatConv2d& c) { return weights3(c.weight(), &c.bias()); }

// Eval-mode BatchNorm as y = a * x + b per channel.
using Affine = nn::ChannelAffine;

Affine eval_affine(nn::SplitBatchNorm& bn) {
  return nn::batchnorm_eval_affine(bn.weight(), bn.bias(), bn.running_mean(), bn.running_var(), bn.spec().eps);
}

// Taps of a 3x3 kernel inside the image for a pixel of border class `cls`.
bool tap_valid(int k, int cls) {
  switch (cls) {
    case 0: return k != 0;  // first row: tap 0 reads the padding
    case 2: return k != 2;  // last row
    case 3: return k == 1;  // a single row
    default: return true;
  }
}

// Bias of every border class: conv bias + the folded BatchNorm constants of all
// input channels through the taps inside the image.
std::vector<float> bias_classes(const Weights3& w, const Affine& f, int64_t cp) {
  std::vector<float> out(static_cast<size_t>(16 * cp), 0.0f);
  if (std::all_of(f.b.begin(), f.b.end(), [](double v) { return v == 0.0; })) {
    for (int c = 0; c < 16; ++c) std::copy_n(w.b, w.cout, out.begin() + c * cp);  // no BatchNorm before
    return out;
  }
  for (int ry = 0; ry < 4; ++ry)
    for (int rx = 0; rx < 4; ++rx)
      for (int64_t o = 0; o < w.cout; ++o) {
        double s = w.b[o];
        for (int ky = 0; ky < 3; ++ky)
          for (int kx = 0; kx < 3; ++kx) {
            if (!tap_valid(ky, ry) || !tap_valid(kx, rx)) continue;
            for (int64_t ci = 0; ci < w.cin; ++ci) s += f.b[ci] * w.at(ky, kx, ci, o);
          }
        out[static_cast<size_t>((ry * 4 + rx) * cp + o)] = static_cast<float>(s);
      }
  return out;
}

// Segment matrices of a 3x3 "same" convolution over channels [c0, c0 + cin) of
// w's input, read from a buffer with `stored` channels per pixel: one per kernel
// row, (3 * stored) x cp, row kx * stored + ci.
std::vector<std::vector<float>> rows3(const Weights3& w, const Affine& f, int64_t c0, int64_t cin,
                                      int64_t stored, int64_t cp) {
  std::vector<std::vector<float>> seg(3, std::vector<float>(static_cast<size_t>(3 * stored * cp), 0.0f));
  for (int ky = 0; ky < 3; ++ky)
    for (int kx = 0; kx < 3; ++kx)
      for (int64_t ci = 0; ci < cin; ++ci)
        for (int64_t o = 0; o < w.cout; ++o)
          seg[ky][static_cast<size_t>((kx * stored + ci) * cp + o)] =
              static_cast<float>(w.at(ky, kx, c0 + ci, o) * f.a[c0 + ci]);
  return seg;
}

// Kernel taps that land on low-resolution offset r (0, 1) for output phase d.
bool phase_tap(int d, int r, int k) {
  if (d == 0) return r == 0 ? k == 0 : k >= 1;
  return r == 0 ? k <= 1 : k == 2;
}

// The two segments of output phase (dy, dx) of the upsampled part (channels
// [0, cin) of w), over a low-resolution buffer with `stored` channels.
std::vector<std::vector<float>> phase_rows(const Weights3& w, const Affine& f, int64_t cin,
                                           int64_t stored, int64_t cp, int dy, int dx) {
  std::vector<std::vector<float>> seg(2, std::vector<float>(static_cast<size_t>(2 * stored * cp), 0.0f));
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 2; ++c)
      for (int64_t ci = 0; ci < cin; ++ci)
        for (int64_t o = 0; o < w.cout; ++o) {
          double s = 0.0;
          for (int ky = 0; ky < 3; ++ky)
            for (int kx = 0; kx < 3; ++kx)
              if (phase_tap(dy, r, ky) && phase_tap(dx, c, kx)) s += w.at(ky, kx, ci, o);
          seg[r][static_cast<size_t>((c * stored + ci) * cp + o)] = static_cast<float>(s * f.a[ci]);
        }
  return seg;
}

}  // namespace

// A 3x3 "same" convolution reading grid `in` (output grid of the same size,
// cp channels); the caller sets where it writes.
ArcnnInference::Conv ArcnnInference::same3(Grid& in, int64_t cp, const std::vector<std::vector<float>>& rows,
                                           std::vector<float> biases) {
  Conv c;
  const int nb = nb_for(cp);
  c.wpack = infer::pack_weights(rows, cp, nb);
  c.bias_classes = std::move(biases);
  ConvJob& j = c.job;
  j.nseg = 3;
  for (int ky = 0; ky < 3; ++ky) {
    j.base[ky] = in.data.data() + ky * in.row();
    j.row[ky] = in.row();
    j.lda[ky] = in.c;
    j.k[ky] = 3 * in.c;
  }
  j.height = in.h, j.width = in.w, j.cout = cp, j.nb = nb;
  return c;
}

ArcnnInference::ArcnnInference(ArcnnImpl& impl, int64_t steps, int64_t pitches, int threads)
    : levels_(impl.config.levels), steps_(steps), pitches_(pitches), team_(threads) {
  const int L = levels_;
  const int64_t m = int64_t{1} << L;
  if (steps < m || pitches < m || steps % m != 0 || pitches % m != 0)
    throw ShapeError("ArcnnInference: the roll (" + std::to_string(steps) + " x " +
                     std::to_string(pitches) + ") must be multiples of 2^levels = " + std::to_string(m));
  const int64_t F = impl.config.base_filters, B = impl.config.bottleneck();
  auto grid = [](int64_t h, int64_t w, int64_t c) {
    Grid g;
    g.h = h, g.w = w, g.c = c;
    g.data.assign(static_cast<size_t>((h + 2) * (w + 2) * c), 0.0f);
    return g;
  };
  // A 3x3 convolution from grid `in` into grid `out` (same size).
  // `bn`: the BatchNorm the input went through last (nullptr: none).
  auto conv3 = [&](Grid& in, Grid& out, nn::Conv2d& conv, const nn::BatchNorm* bn, bool relu) {
    Weights3 w = weights3(conv);
    const Affine f = bn ? bn->eval_affine() : Affine::identity(w.cin);
    Conv c = same3(in, out.c, rows3(w, f, 0, w.cin, in.c, out.c), bias_classes(w, f, out.c));
    c.job.out = out.at(0, 0), c.job.out_row = out.row(), c.job.out_ld = out.c;
    c.job.relu = relu;
    return c;
  };

  x_ = grid(steps, pitches, 1);
  int64_t h = steps, w = pitches, cin = 1;
  for (int i = 0; i < L; ++i) {
    const int64_t f = cpad(F << i);
    e1_.push_back(grid(h, w, f));
    skip_.push_back(grid(h, w, f));
    pooled_.push_back(grid(h / 2, w / 2, f));
    h /= 2, w /= 2;
    cin = f;
  }
  (void)cin;
  m1_ = grid(h, w, cpad(B));
  m2_ = grid(h, w, cpad(B));
  for (int j = 0; j < L; ++j) {
    const int i = L - 1 - j;
    const int64_t f = cpad(F << i), hs = steps >> i, ws = pitches >> i;
    c1_.push_back(grid(hs, ws, f));
    c2_.push_back(grid(hs, ws, f));
    pre_.emplace_back(static_cast<size_t>(hs * ws * f), 0.0f);
  }
  // Build the convolutions only after every buffer exists (the jobs hold pointers).
  for (int i = 0; i < L; ++i) {
    Grid& in = i == 0 ? x_ : pooled_[i - 1];
    enc1_.push_back(conv3(in, e1_[i], impl.enc[i]->conv1, i == 0 ? nullptr : &impl.enc[i - 1]->bn, true));
    enc2_.push_back(conv3(e1_[i], skip_[i], impl.enc[i]->conv2, nullptr, true));
  }
  mid1_ = conv3(pooled_[L - 1], m1_, *impl.mid1, &impl.enc[L - 1]->bn, true);
  mid2_ = conv3(m1_, m2_, *impl.mid2, nullptr, true);
  up_.resize(static_cast<size_t>(L));
  for (int j = 0; j < L; ++j) {
    const int i = L - 1 - j;
    DecoderLevel& level = *impl.dec[j];
    Grid& hin = j == 0 ? m2_ : c2_[j - 1];
    Grid& skip = skip_[i];
    Grid& out = c1_[j];
    const int64_t cp = out.c, cu = j == 0 ? B : (F << (i + 1)), fr = F << i;
    const int nb = nb_for(cp);
    Weights3 wt = weights3(level.conv1);
    if (wt.cin != cu + fr)
      throw InvalidArgument("ArcnnInference: " + level.conv1.weight().name + " has " + std::to_string(wt.cin) +
                            " inputs, expected " + std::to_string(cu + fr));
    const Affine f = eval_affine(level.bn);
    // Skip part (+ every bias) into pre_[j].
    Conv pc = same3(skip, cp, rows3(wt, f, cu, fr, skip.c, cp), bias_classes(wt, f, cp));
    pc.job.out = pre_[j].data(), pc.job.out_row = skip.w * cp, pc.job.out_ld = cp;
    pre_conv_.push_back(std::move(pc));
    // Upsampled part, four phases at low resolution, starting from pre_[j].
    for (int ph = 0; ph < 4; ++ph) {
      const int dy = ph / 2, dx = ph % 2;
      Conv uc;
      uc.wpack = infer::pack_weights(phase_rows(wt, f, cu, hin.c, cp, dy, dx), cp, nb);
      ConvJob& uj = uc.job;
      uj.nseg = 2;
      for (int r = 0; r < 2; ++r) {
        uj.base[r] = hin.data.data() + ((dy + r) * (hin.w + 2) + dx) * hin.c;
        uj.row[r] = hin.row();
        uj.lda[r] = hin.c;
        uj.k[r] = 2 * hin.c;
      }
      uj.height = hin.h, uj.width = hin.w, uj.cout = cp, uj.nb = nb;
      uj.out = out.at(dy, dx), uj.out_row = 2 * out.row(), uj.out_ld = 2 * out.c;
      uj.init_base = pre_[j].data() + (dy * out.w + dx) * cp;
      uj.init_row = 2 * out.w * cp, uj.init_ld = 2 * cp;
      uj.relu = true;
      up_[j].push_back(std::move(uc));
    }
    dec2_.push_back(conv3(c1_[j], c2_[j], level.conv2, nullptr, true));
  }
  // The jobs point at the packed data (vectors keep their buffers when moved).
  auto finish = [](Conv& c) {
    c.job.wpack = c.wpack.data();
    c.job.bias_classes = c.bias_classes.empty() ? nullptr : c.bias_classes.data();
  };
  for (auto* v : {&enc1_, &enc2_, &pre_conv_, &dec2_})
    for (Conv& c : *v) finish(c);
  for (auto& v : up_)
    for (Conv& c : v) finish(c);
  finish(mid1_);
  finish(mid2_);
  nn::Parameter& hw = impl.out->weight();
  head_c_ = F;
  if (hw.value.size() != F || !impl.out->bias()) throw InvalidArgument("ArcnnInference: " + hw.name + " has the wrong size");
  head_w_.assign(hw.value.data(), hw.value.data() + F);
  head_b_ = impl.out->bias()->value[0];
  logits_.assign(static_cast<size_t>(steps * pitches), 0.0f);
  last_x_.assign(static_cast<size_t>(steps * pitches), 0.0f);
}

ArcnnInference::~ArcnnInference() = default;

void ArcnnInference::conv_parallel(std::initializer_list<Conv*> convs, Rect r) {
  if (r.empty()) return;
  int64_t per = 0, flops = 0;
  for (Conv* c : convs) {
    per += c->job.blocks() * (r.y1 - r.y0);
    flops += c->job.ktot() * c->job.cout * (r.y1 - r.y0) * (r.x1 - r.x0);
  }
  // Items (conv, column block, row) in order; a range of them is a run of rows
  // of one block (its packed weights stay in cache).
  auto work = [&](int64_t lo, int64_t hi) {
    int64_t base = 0;
    for (Conv* c : convs) {
      const int64_t rows = r.y1 - r.y0, items = c->job.blocks() * rows;
      const int64_t a = std::max(lo, base), b = std::min(hi, base + items);
      for (int64_t it = a; it < b;) {
        const int64_t blk = (it - base) / rows, y = (it - base) % rows;
        const int64_t y_end = std::min(rows, y + (b - it));  // rows of this block in range
        infer::run_conv(c->job, r.y0 + y, r.y0 + y_end, r.x0, r.x1, blk, blk + 1);
        it += y_end - y;
      }
      base += items;
    }
  };
  // Below about 1 MFLOP the hand-off costs more than it saves.
  if (team_.size() == 1 || flops < (int64_t{1} << 19) || per < 2) work(0, per);
  else team_.run(per, std::max<int64_t>(1, per / (8 * team_.size())), work);
}

void ArcnnInference::pool(int level, Rect r) {
  Grid& s = skip_[level];
  Grid& p = pooled_[level];
  const int64_t c = s.c;
  for (int64_t y = r.y0; y < r.y1; ++y)
    for (int64_t x = r.x0; x < r.x1; ++x) {
      const float* a = s.at(2 * y, 2 * x);
      const float* b = a + c;
      const float* d = s.at(2 * y + 1, 2 * x);
      const float* e = d + c;
      float* o = p.at(y, x);
      for (int64_t k = 0; k < c; ++k) o[k] = std::max(std::max(a[k], b[k]), std::max(d[k], e[k]));
    }
}

void ArcnnInference::head(Rect r) {
  Grid& g = c2_.back();
  const float* w = head_w_.data();
  for (int64_t y = r.y0; y < r.y1; ++y)
    for (int64_t x = r.x0; x < r.x1; ++x) {
      const float* v = g.at(y, x);
      float s = 0.0f;
      for (int64_t k = 0; k < head_c_; ++k) s += v[k] * w[k];
      logits_[static_cast<size_t>(y * pitches_ + x)] = s + head_b_;
    }
}

void ArcnnInference::decoder(const std::vector<Rect>& pre_rect) {
  const Rect mid{0, m1_.h, 0, m1_.w};
  conv_parallel({&mid1_}, mid);
  conv_parallel({&mid2_}, mid);
  for (int j = 0; j < levels_; ++j) {
    conv_parallel({&pre_conv_[j]}, pre_rect[j]);
    const Rect low{0, c1_[j].h / 2, 0, c1_[j].w / 2};
    conv_parallel({&up_[j][0], &up_[j][1], &up_[j][2], &up_[j][3]}, low);
    conv_parallel({&dec2_[j]}, Rect{0, c2_[j].h, 0, c2_[j].w});
  }
  head(Rect{0, steps_, 0, pitches_});
}

void ArcnnInference::run_full() {
  const int L = levels_;
  std::vector<Rect> pre(static_cast<size_t>(L));
  for (int i = 0; i < L; ++i) {
    const Rect r{0, e1_[i].h, 0, e1_[i].w};
    conv_parallel({&enc1_[i]}, r);
    conv_parallel({&enc2_[i]}, r);
    pool(i, Rect{0, pooled_[i].h, 0, pooled_[i].w});
    pre[static_cast<size_t>(L - 1 - i)] = r;
  }
  decoder(pre);
}

namespace {
// r widened by `by` pixels on every side, clipped to h x w.
inline void grow(int64_t& y0, int64_t& y1, int64_t& x0, int64_t& x1, int64_t by, int64_t h, int64_t w) {
  y0 = std::max<int64_t>(0, y0 - by), y1 = std::min(h, y1 + by);
  x0 = std::max<int64_t>(0, x0 - by), x1 = std::min(w, x1 + by);
}
}  // namespace

void ArcnnInference::run_incremental(Rect r) {
  // r: the changed input cells. Each 3x3 convolution widens the region by one
  // pixel, each pooling halves it (rounding outwards).
  const int L = levels_;
  std::vector<Rect> pre(static_cast<size_t>(L));
  for (int i = 0; i < L; ++i) {
    const int64_t h = e1_[i].h, w = e1_[i].w;
    grow(r.y0, r.y1, r.x0, r.x1, 1, h, w);
    conv_parallel({&enc1_[i]}, r);
    grow(r.y0, r.y1, r.x0, r.x1, 1, h, w);
    conv_parallel({&enc2_[i]}, r);
    Rect s = r;  // skip_[i] changed here: the decoder's skip part one pixel wider
    grow(s.y0, s.y1, s.x0, s.x1, 1, h, w);
    pre[static_cast<size_t>(L - 1 - i)] = s;
    r = Rect{r.y0 / 2, (r.y1 + 1) / 2, r.x0 / 2, (r.x1 + 1) / 2};
    pool(i, r);
  }
  decoder(pre);
}

const float* ArcnnInference::logits(const float* x) {
  const int64_t n = steps_ * pitches_;
  Rect changed{steps_, 0, pitches_, 0};
  int64_t count = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (have_ && x[i] == last_x_[static_cast<size_t>(i)]) continue;
    const int64_t y = i / pitches_, xx = i % pitches_;
    last_x_[static_cast<size_t>(i)] = x[i];
    *x_.at(y, xx) = x[i];
    ++count;
    changed.y0 = std::min(changed.y0, y), changed.y1 = std::max(changed.y1, y + 1);
    changed.x0 = std::min(changed.x0, xx), changed.x1 = std::max(changed.x1, xx + 1);
  }
  if (!have_ || count > max_incremental) {
    run_full();
    ++full_passes_;
  } else if (count > 0) {
    run_incremental(changed);
    ++incremental_passes_;
  }
  have_ = true;
  return logits_.data();
}

}  // namespace partita::models
