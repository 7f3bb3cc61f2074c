// GanInference: the generator packed for one window at a time (see gan_infer.hpp).
#include "models/gan_infer.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "models/gan_impl.hpp"
#include "partita/core/error.hpp"

namespace partita::models {

using std::int64_t;
using nn::infer::ConvJob;

namespace {

int64_t cpad(int64_t c) { return (c + 15) / 16 * 16; }
int nb_for(int64_t cp) { return nn::infer::preferred_nb(cp); }

// Where input channel ci of a layer is stored in its input buffer: the buffer
// holds the concatenation of two parts (n0 channels at 0, the rest at off1;
// each part padded to a multiple of 16 channels).
struct ChannelMap {
  int64_t n0 = 0, off1 = 0;
  int64_t operator()(int64_t ci) const { return ci < n0 ? ci : off1 + (ci - n0); }
  static ChannelMap one(int64_t n) { return ChannelMap{n, n}; }
};

// A 4x4 HWIO weight tensor (4, 4, cin, cout) and its bias.
struct Weights4 {
  const float* w = nullptr;
  const float* b = nullptr;
  int64_t cin = 0, cout = 0;
  double at(int ky, int kx, int64_t ci, int64_t o) const { return w[((ky * 4 + kx) * cin + ci) * cout + o]; }
};

Weights4 weights4(nn::Parameter& w, nn::Parameter* b, int64_t cin) {
  const Shape& s = w.value.shape();
  if (s.size() != 4 || s[0] != 4 || s[1] != 4 || s[2] != cin || !b || b->value.size() != s[3])
    throw InvalidArgument("GanInference: " + w.name + " is not a 4x4 convolution over " + std::to_string(cin) +
                          " channels with a bias");
  return Weights4{w.value.data(), b->value.data(), cin, s[3]};
}

std::vector<float> same_bias(const std::vector<double>& b, int64_t cp) {
  std::vector<float> one(static_cast<size_t>(cp), 0.0f), out;
  for (size_t o = 0; o < b.size(); ++o) one[o] = static_cast<float>(b[o]);
  out.reserve(static_cast<size_t>(16 * cp));
  for (int c = 0; c < 16; ++c) out.insert(out.end(), one.begin(), one.end());
  return out;  // every border class alike: nothing is folded across the padding
}

// Weights in nn::infer::pack_weights' block layout, written a row (one input
// float of every output) at a time: kt rows, cp outputs in blocks of 16 nb.
// `buf` is the previous pack of the same layer when repacking (its padding is
// zero and its size right: it is only overwritten, no page is touched anew).
struct Packed {
  int64_t kt = 0, bw = 0;
  std::vector<float> data;
  Packed(int64_t rows, int64_t cp, int nb, std::vector<float> buf)
      : kt(rows), bw(16 * nb), data(std::move(buf)) {
    if (data.size() != static_cast<size_t>(rows * cp)) data.assign(static_cast<size_t>(rows * cp), 0.0f);
  }
  // Row r's first n outputs (the rest stay zero).
  void put(int64_t r, const float* v, int64_t n) {
    for (int64_t b = 0; b * bw < n; ++b)
      std::copy_n(v + b * bw, std::min(bw, n - b * bw), data.data() + (b * kt + r) * bw);
  }
};

// Restrict each segment of `j`, which reads the zero-padded buffer `data`
// (rows of `row` floats, h real rows between one padding row above and below),
// to the output rows whose input row through that segment is a real one.
void read_real_rows(ConvJob& j, const float* data, int64_t row, int64_t h) {
  for (int s = 0; s < j.nseg; ++s) {
    const int64_t p0 = (j.base[s] - data) / row, step = j.row[s] / row;  // padded row at output row 0
    if (step <= 0 || j.row[s] % row != 0) continue;                      // not a row-aligned walk: keep all
    j.y_from[s] = p0 >= 1 ? 0 : (1 - p0 + step - 1) / step;
    j.y_to[s] = h < p0 ? 0 : (h - p0) / step + 1;
  }
}

}  // namespace

GanInference::GanInference(GanGenerator& gen, int threads, bool bfloat16)
    : steps_(gen.c_.steps), pitches_(gen.c_.pitches), tracks_(gen.c_.tracks), latent_(gen.c_.latent_channels),
      bf16_(bfloat16), team_(threads) {
  if (bf16_ && !nn::infer::bf16_kernel_available())
    throw InvalidArgument("GanInference: bfloat16 needs AVX512_BF16 and the avx512 SIMD level in use");
  const GanConfig& c = gen.c_;
  const int64_t F = c.filters, S = steps_, P = pitches_;
  if (S % 16 != 0 || P % 16 != 0 || S < 16 || P < 16)
    throw ShapeError("GanInference: the window (" + std::to_string(S) + " x " + std::to_string(P) +
                     ") must be multiples of 16");
  const bool bf16 = bf16_;
  auto grid = [bf16](int64_t h, int64_t w, int64_t ch) {
    Grid g;
    g.h = h, g.w = w, g.c = ch;
    g.data.assign(static_cast<size_t>((h + 2) * (w + 2) * ch), 0.0f);
    if (bf16) g.d16.assign(g.data.size(), 0);
    return g;
  };
  // Buffers first (the jobs keep pointers into them).
  x_ = grid(S, P, c.melody_chroma ? 2 : 1);
  for (int i = 0; i < 3; ++i) enc_.push_back(grid(S >> (i + 1), P >> (i + 1), cpad(F << i)));
  z_offset_ = cpad(F << 3);
  bott_ = grid(S / 16, P / 16, z_offset_ + cpad(latent_));
  for (int j = 0; j < 3; ++j) {
    const int64_t f = F << (2 - j);
    skip_offset_.push_back(cpad(f));
    dec_.push_back(grid(S >> (3 - j), P >> (3 - j), 2 * cpad(f)));
  }
  head_c_ = cpad(4 * tracks_);
  head_.assign(static_cast<size_t>((S / 2) * (P / 2) * head_c_), 0.0f);
  build(gen);
}

void GanInference::repack(GanGenerator& gen) {
  for (auto& layer : layers_)
    for (Conv& cv : layer) recycled_.push_back(std::move(cv.wpack));
  next_recycled_ = 0;
  build(gen);
  recycled_.clear();
}

std::uint16_t* GanInference::word_of(const float* p) {
  for (Grid* g : {&x_, &enc_[0], &enc_[1], &enc_[2], &bott_, &dec_[0], &dec_[1], &dec_[2]})
    if (p >= g->data.data() && p < g->data.data() + g->data.size()) return g->d16.data() + (p - g->data.data());
  return nullptr;
}

void GanInference::to_bfloat16() {
  for (auto& layer : layers_)
    for (Conv& cv : layer) {
      const ConvJob& f = cv.job;
      nn::infer::ConvJobBf16& j = cv.job16;
      j = nn::infer::ConvJobBf16{};
      static_cast<nn::infer::ConvShape&>(j) = f;  // geometry, bias and epilogue
      for (int s = 0; s < f.nseg; ++s) {
        j.base[s] = word_of(f.base[s]);
        const bool even = j.k[s] % 2 == 0 && j.row[s] % 2 == 0 && j.lda[s] % 2 == 0 && j.base[s] != nullptr &&
                          reinterpret_cast<std::uintptr_t>(j.base[s]) % 4 == 0;  // vectors start 4-aligned
        if (!even) throw InvalidArgument("GanInference: a bfloat16 job reads an odd word offset");
      }
      cv.wpack16 = nn::infer::pack_weights_bf16(cv.wpack, f.ktot(), f.cout, f.nb);
      std::vector<float>().swap(cv.wpack);  // the float32 pack is not kept
      j.wpack = cv.wpack16.data();
      j.out16 = word_of(f.out);
      if (!j.out16) j.out32 = f.out;  // the head's float32 buffer
    }
}

std::vector<float> GanInference::recycled() {
  return next_recycled_ < recycled_.size() ? std::move(recycled_[next_recycled_++]) : std::vector<float>{};
}

void GanInference::build(GanGenerator& gen) {
  const GanConfig& c = gen.c_;
  const int64_t F = c.filters;
  layers_.clear();
  layers_.resize(8);

  // Encoder block i: Conv 4x4 stride 2 (TensorFlow "same": one row and column of
  // zeros before and after), LeakyReLU, BatchNorm (i >= 1) as the epilogue.
  int64_t cin = x_.c;  // the melody (and its pitch classes)
  for (int i = 0; i < 4; ++i) {
    GanGenerator::Down& d = gen.enc_[static_cast<size_t>(i)];
    Grid& in = i == 0 ? x_ : enc_[static_cast<size_t>(i - 1)];
    const Weights4 w = weights4(d.conv->weight(), d.conv->bias(), cin);
    const int64_t cp = cpad(w.cout), nb = nb_for(cp);
    // Segment ky, row kx * in.c + ci: the weights of input (ky, kx, ci), as stored.
    Packed pk(16 * in.c, cp, static_cast<int>(nb), recycled());
    team_.run(16 * cin, 64, [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const int64_t tap = r / cin, ci = r % cin;
        pk.put(tap * in.c + ci, w.w + r * w.cout, w.cout);
      }
    });
    Conv cv;
    cv.wpack = std::move(pk.data);
    cv.bias_classes = same_bias(std::vector<double>(w.b, w.b + w.cout), cp);
    if (d.bn) {
      const nn::ChannelAffine f = d.bn->eval_affine();
      cv.scale.assign(static_cast<size_t>(cp), 0.0f);
      cv.shift.assign(static_cast<size_t>(cp), 0.0f);
      for (int64_t o = 0; o < w.cout; ++o) {
        cv.scale[static_cast<size_t>(o)] = static_cast<float>(f.a[static_cast<size_t>(o)]);
        cv.shift[static_cast<size_t>(o)] = static_cast<float>(f.b[static_cast<size_t>(o)]);
      }
    }
    ConvJob& j = cv.job;
    j.nseg = 4;
    for (int ky = 0; ky < 4; ++ky) {
      j.base[ky] = in.data.data() + ky * in.row();
      j.row[ky] = 2 * in.row();
      j.lda[ky] = 2 * in.c;
      j.k[ky] = 4 * in.c;
    }
    Grid& out = i < 3 ? enc_[static_cast<size_t>(i)] : bott_;
    j.height = out.h, j.width = out.w, j.cout = cp, j.nb = static_cast<int>(nb);
    j.out = out.at(0, 0), j.out_row = out.row(), j.out_ld = out.c;
    j.leaky = true, j.slope = c.leak;
    read_real_rows(j, in.data.data(), in.row(), in.h);
    layers_[static_cast<size_t>(i)].push_back(std::move(cv));
    cin = w.cout;
  }

  // Decoder block j: the four phases of upsample x2 + Conv 4x4, BatchNorm folded
  // into weights and bias, ReLU; into dec_[j]'s first channels.
  const nn::UpsampleConvTaps taps[2] = {nn::upsample_conv_taps(4, 0), nn::upsample_conv_taps(4, 1)};
  cin = (F << 3) + latent_;
  ChannelMap map{F << 3, z_offset_};
  for (int jd = 0; jd < 3; ++jd) {
    GanGenerator::Up& u = gen.dec_[static_cast<size_t>(jd)];
    Grid& in = jd == 0 ? bott_ : dec_[static_cast<size_t>(jd - 1)];
    Grid& out = dec_[static_cast<size_t>(jd)];
    const Weights4 w = weights4(u.conv->weight(), &u.conv->bias(), cin);
    const nn::ChannelAffine f = u.bn->eval_affine();
    const int64_t cp = cpad(w.cout), nb = nb_for(cp);
    std::vector<double> bias(static_cast<size_t>(w.cout));
    std::vector<float> scale(static_cast<size_t>(w.cout));
    for (int64_t o = 0; o < w.cout; ++o) {
      bias[static_cast<size_t>(o)] = f.a[static_cast<size_t>(o)] * w.b[o] + f.b[static_cast<size_t>(o)];
      scale[static_cast<size_t>(o)] = static_cast<float>(f.a[static_cast<size_t>(o)]);
    }
    // Phase (py, px), segment t, row s * in.c + map(ci): the summed taps of
    // input ci, scaled by the BatchNorm. One pass over the input channels reads
    // each of W's rows once for all four phases.
    std::vector<Packed> pk;
    for (int ph = 0; ph < 4; ++ph)
      pk.emplace_back(taps[ph / 2].count() * taps[ph % 2].count() * in.c, cp, static_cast<int>(nb), recycled());
    team_.run(cin, 8, [&](int64_t lo, int64_t hi) {
      std::vector<float> row(static_cast<size_t>(w.cout));
      for (int64_t ci = lo; ci < hi; ++ci)
        for (int ph = 0; ph < 4; ++ph) {
          const nn::UpsampleConvTaps& ty = taps[ph / 2];
          const nn::UpsampleConvTaps& tx = taps[ph % 2];
          for (int t = 0; t < ty.count(); ++t)
            for (int sx = 0; sx < tx.count(); ++sx) {
              std::fill(row.begin(), row.end(), 0.0f);
              for (int ky = ty.first[static_cast<size_t>(t)]; ky <= ty.last[static_cast<size_t>(t)]; ++ky)
                for (int kx = tx.first[static_cast<size_t>(sx)]; kx <= tx.last[static_cast<size_t>(sx)]; ++kx) {
                  const float* src = w.w + ((ky * 4 + kx) * cin + ci) * w.cout;
                  for (int64_t o = 0; o < w.cout; ++o) row[static_cast<size_t>(o)] += src[o];
                }
              for (int64_t o = 0; o < w.cout; ++o) row[static_cast<size_t>(o)] *= scale[static_cast<size_t>(o)];
              pk[static_cast<size_t>(ph)].put((t * tx.count() + sx) * in.c + map(ci), row.data(), w.cout);
            }
        }
    });
    for (int ph = 0; ph < 4; ++ph) {
      const int py = ph / 2, px = ph % 2;
      const nn::UpsampleConvTaps& ty = taps[py];
      const nn::UpsampleConvTaps& tx = taps[px];
      const int ny = ty.count(), nx = tx.count();
      Conv cv;
      cv.wpack = std::move(pk[static_cast<size_t>(ph)].data);
      cv.bias_classes = same_bias(bias, cp);
      ConvJob& j = cv.job;
      j.nseg = ny;
      for (int t = 0; t < ny; ++t) {
        j.base[t] = in.at(ty.offset + t, tx.offset);
        j.row[t] = in.row();
        j.lda[t] = in.c;
        j.k[t] = nx * in.c;
      }
      j.height = in.h, j.width = in.w, j.cout = cp, j.nb = static_cast<int>(nb);
      j.out = out.at(py, px), j.out_row = 2 * out.row(), j.out_ld = 2 * out.c;
      j.relu = true;
      read_real_rows(j, in.data.data(), in.row(), in.h);
      layers_[static_cast<size_t>(4 + jd)].push_back(std::move(cv));
    }
    cin = 2 * w.cout;
    map = ChannelMap{w.cout, skip_offset_[static_cast<size_t>(jd)]};
  }

  // The head: the four phases stacked as 4 x tracks outputs of one convolution
  // over the union of their low-resolution windows.
  {
    Grid& in = dec_[2];
    const Weights4 w = weights4(gen.out_->weight(), &gen.out_->bias(), cin);
    if (w.cout != tracks_)
      throw InvalidArgument("GanInference: " + gen.out_->weight().name + " has " + std::to_string(w.cout) +
                            " outputs, expected " + std::to_string(tracks_));
    const int lo = std::min(taps[0].offset, taps[1].offset);
    const int hi = std::max(taps[0].offset + taps[0].count(), taps[1].offset + taps[1].count()) - 1;
    const int n = hi - lo + 1;
    if (n > nn::infer::kMaxSegments) throw InvalidArgument("GanInference: the head's window is too tall");
    const int64_t cp = head_c_;
    std::vector<std::vector<float>> seg(static_cast<size_t>(n),
                                        std::vector<float>(static_cast<size_t>(n * in.c * cp), 0.0f));
    std::vector<double> bias(static_cast<size_t>(4 * tracks_));
    for (int py = 0; py < 2; ++py)
      for (int px = 0; px < 2; ++px)
        for (int64_t t = 0; t < tracks_; ++t) {
          const int64_t col = (py * 2 + px) * tracks_ + t;
          bias[static_cast<size_t>(col)] = w.b[t];
          for (int ry = 0; ry < n; ++ry) {
            const int ty = lo + ry - taps[py].offset;
            if (ty < 0 || ty >= taps[py].count()) continue;
            for (int rx = 0; rx < n; ++rx) {
              const int tx = lo + rx - taps[px].offset;
              if (tx < 0 || tx >= taps[px].count()) continue;
              for (int64_t ci = 0; ci < cin; ++ci) {
                double sum = 0.0;
                for (int ky = taps[py].first[static_cast<size_t>(ty)]; ky <= taps[py].last[static_cast<size_t>(ty)]; ++ky)
                  for (int kx = taps[px].first[static_cast<size_t>(tx)]; kx <= taps[px].last[static_cast<size_t>(tx)];
                       ++kx)
                    sum += w.at(ky, kx, ci, t);
                seg[static_cast<size_t>(ry)][static_cast<size_t>((rx * in.c + map(ci)) * cp + col)] =
                    static_cast<float>(sum);
              }
            }
          }
        }
    Conv cv;
    cv.wpack = nn::infer::pack_weights(seg, cp, 1);
    cv.bias_classes = same_bias(bias, cp);
    ConvJob& j = cv.job;
    j.nseg = n;
    for (int r = 0; r < n; ++r) {
      j.base[r] = in.at(lo + r, lo);
      j.row[r] = in.row();
      j.lda[r] = in.c;
      j.k[r] = n * in.c;
    }
    j.height = in.h, j.width = in.w, j.cout = cp, j.nb = 1;
    j.out = head_.data(), j.out_row = in.w * cp, j.out_ld = cp;
    read_real_rows(j, in.data.data(), in.row(), in.h);
    layers_[7].push_back(std::move(cv));
  }
  // The jobs point at the packed data (vectors keep their buffers when moved).
  for (auto& layer : layers_)
    for (Conv& cv : layer) {
      cv.job.wpack = cv.wpack.data();
      cv.job.bias_classes = cv.bias_classes.data();
      cv.job.post_scale = cv.scale.empty() ? nullptr : cv.scale.data();
      cv.job.post_shift = cv.shift.empty() ? nullptr : cv.shift.data();
    }
  if (bf16_) to_bfloat16();
}

GanInference::~GanInference() = default;

void GanInference::run_jobs(std::vector<Conv>& convs) {
  int64_t per = 0, flops = 0;
  for (const Conv& c : convs) {
    per += c.job.blocks() * c.job.height;
    flops += c.job.ktot() * c.job.cout * c.job.height * c.job.width;
  }
  // Items (job, column block, row) in order; a range of them is a run of rows
  // of one block (its packed weights stay in cache).
  auto work = [&](int64_t lo, int64_t hi) {
    int64_t base = 0;
    for (Conv& c : convs) {
      const int64_t rows = c.job.height, items = c.job.blocks() * rows;
      const int64_t a = std::max(lo, base), b = std::min(hi, base + items);
      for (int64_t it = a; it < b;) {
        const int64_t blk = (it - base) / rows, y = (it - base) % rows;
        const int64_t y_end = std::min(rows, y + (b - it));
        if (bf16_) nn::infer::run_conv_bf16(c.job16, y, y_end, 0, c.job.width, blk, blk + 1);
        else nn::infer::run_conv(c.job, y, y_end, 0, c.job.width, blk, blk + 1);
        it += y_end - y;
      }
      base += items;
    }
  };
  // Below about 1 MFLOP the hand-off costs more than it saves.
  if (team_.size() == 1 || flops < (int64_t{1} << 19) || per < 2) work(0, per);
  else team_.run(per, std::max<int64_t>(1, per / (4 * team_.size())), work);
}

void GanInference::copy_skip(Grid& from, Grid& to, int64_t offset) {
  for (int64_t y = 0; y < from.h; ++y)
    for (int64_t x = 0; x < from.w; ++x) {
      if (bf16_) std::memcpy(to.at16(y, x) + offset, from.at16(y, x), sizeof(std::uint16_t) * static_cast<size_t>(from.c));
      else std::memcpy(to.at(y, x) + offset, from.at(y, x), sizeof(float) * static_cast<size_t>(from.c));
    }
}

void GanInference::run(const float* melody, const float* z, float* out) {
  for (int64_t s = 0; s < steps_; ++s) {
    const float* m = melody + s * pitches_;
    bool pc[12] = {};
    if (x_.c == 2) sounding_pitch_classes(m, pitches_, pc);
    for (int64_t p = 0; p < pitches_; ++p) {
      const float v[2] = {m[p], pc[p % 12] ? 1.0f : -1.0f};  // as melody_input (gan_impl.hpp)
      for (int64_t ch = 0; ch < x_.c; ++ch) {
        if (bf16_) x_.at16(s, p)[ch] = nn::infer::to_bf16(v[ch]);
        else x_.at(s, p)[ch] = v[ch];
      }
    }
  }
  for (int i = 0; i < 3; ++i) {
    run_jobs(layers_[static_cast<size_t>(i)]);
    copy_skip(enc_[static_cast<size_t>(i)], dec_[static_cast<size_t>(2 - i)], skip_offset_[static_cast<size_t>(2 - i)]);
  }
  run_jobs(layers_[3]);
  for (int64_t y = 0; y < bott_.h; ++y)
    for (int64_t x = 0; x < bott_.w; ++x) {
      const float* src = z + (y * bott_.w + x) * latent_;
      if (bf16_) {
        std::uint16_t* d = bott_.at16(y, x) + z_offset_;
        for (int64_t c = 0; c < latent_; ++c) d[c] = nn::infer::to_bf16(src[c]);
      } else {
        std::memcpy(bott_.at(y, x) + z_offset_, src, sizeof(float) * static_cast<size_t>(latent_));
      }
    }
  for (int jd = 0; jd < 3; ++jd) run_jobs(layers_[static_cast<size_t>(4 + jd)]);
  run_jobs(layers_[7]);
  Eigen::Map<Eigen::ArrayXf> h(head_.data(), static_cast<Eigen::Index>(head_.size()));
  h = h.tanh();
  const int64_t hw = pitches_ / 2;
  for (int64_t y = 0; y < steps_ / 2; ++y)
    for (int64_t x = 0; x < hw; ++x) {
      const float* v = head_.data() + (y * hw + x) * head_c_;
      for (int py = 0; py < 2; ++py)
        for (int px = 0; px < 2; ++px) {
          float* o = out + ((2 * y + py) * pitches_ + 2 * x + px) * tracks_;
          std::memcpy(o, v + (py * 2 + px) * tracks_, sizeof(float) * static_cast<size_t>(tracks_));
        }
    }
}

}  // namespace partita::models
