// Winograd F(2x2, 2x2) on the parity streams of a 4x4 stride-2 convolution:
// the transforms, vectorised over channels, and the chunked, threaded driver.
// The math is in winograd_s2.hpp.
#include "nn/winograd_s2.hpp"

#include <algorithm>
#include <cstring>

#include <omp.h>

#include "core/simd_target.hpp"
#include "nn/winograd_common.hpp"
#include "partita/core/cpu.hpp"
#include "partita/core/error.hpp"
#include "partita/core/gemm.hpp"

namespace partita::nn::detail {

using i64 = std::int64_t;

bool winograd_s2_applies(const ConvGeometry& g) {
  return g.kh == 4 && g.kw == 4 && g.sh == 2 && g.sw == 2 && g.pt == 1 && g.pl == 1;
}

namespace {

using wino::ChunkLayout;
using wino::for_blocks;
using wino::for_tile_rows;
using wino::kCB;
using wino::kZeros;

// Input offsets of a stream's three samples from 4 x the tile index, and the
// kernel taps of its two weights: stream 0 = even input rows (x[2i]: taps 1,
// 3), stream 1 = odd rows (x[2i + 1], one sample back: taps 0, 2).
constexpr int kOffset[2][3] = {{0, 2, 4}, {-1, 1, 3}};
constexpr int kTap[2][2] = {{1, 3}, {0, 2}};

// The input pixel of stream (sy, sx), sample (i, j) of tile (n, ty, tx), or
// null outside the image.
inline const float* stream_pixel(const float* x, const ConvGeometry& g, i64 n, i64 ty, i64 tx, int sy,
                                 int sx, int i, int j) {
  const i64 iy = 4 * ty + kOffset[sy][i], ix = 4 * tx + kOffset[sx][j];
  if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) return nullptr;
  return x + ((n * g.h + iy) * g.w + ix) * g.cin;
}

// V = B^T d B per stream for the tiles of tile rows [qa, qb); V_k's row for a
// tile holds the four streams' Cin channels in order s = 2 sy + sx.
PARTITA_INLINE_BODY
void input_transform_body(const float* x, const ConvGeometry& g, const ChunkLayout& L, i64 qa, i64 qb,
                          float* v) {
  const i64 C = g.cin, C4 = 4 * C, ks = L.tiles * C4;
  for (i64 q = qa; q < qb; ++q) {
    const i64 n = q / L.th, ty = q % L.th;
    for (i64 tx = 0; tx < L.tw; ++tx) {
      float* out = v + ((q - L.q0) * L.tw + tx) * C4;
      for (int s = 0; s < 4; ++s) {
        const int sy = s >> 1, sx = s & 1;
        const float* src[9];
        for (int i = 0; i < 3; ++i)
          for (int j = 0; j < 3; ++j) src[i * 3 + j] = stream_pixel(x, g, n, ty, tx, sy, sx, i, j);
        for (i64 c0 = 0; c0 < C; c0 += kCB) {
          const int cb = static_cast<int>(std::min<i64>(kCB, C - c0));
          const float* d[9];
          for (int p = 0; p < 9; ++p) d[p] = src[p] ? src[p] + c0 : kZeros;
          float* o = out + s * C + c0;
#pragma omp simd
          for (int c = 0; c < cb; ++c) {
            float r[3][3];  // B^T d
            for (int j = 0; j < 3; ++j) {
              const float d0 = d[j][c], d1 = d[3 + j][c], d2 = d[6 + j][c];
              r[0][j] = d0 - d1;
              r[1][j] = d1;
              r[2][j] = d2 - d1;
            }
            for (int i = 0; i < 3; ++i) {
              o[(i * 3 + 0) * ks + c] = r[i][0] - r[i][1];
              o[(i * 3 + 1) * ks + c] = r[i][1];
              o[(i * 3 + 2) * ks + c] = r[i][2] - r[i][1];
            }
          }
        }
      }
    }
  }
}

// y = A^T M A (+ bias) for the tiles of tile rows [qa, qb); outputs past the
// image (odd output sizes) are dropped.
PARTITA_INLINE_BODY
void output_transform_body(const float* m, const ConvGeometry& g, const ChunkLayout& L, i64 qa, i64 qb,
                           const float* bias, float* y) {
  const i64 C = g.cout, ks = L.tiles * C;
  alignas(64) float o[4][kCB];
  for (i64 q = qa; q < qb; ++q) {
    const i64 n = q / L.th, ty = q % L.th;
    for (i64 tx = 0; tx < L.tw; ++tx) {
      const float* in = m + ((q - L.q0) * L.tw + tx) * C;
      float* dst[4];
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j) {
          const i64 oy = 2 * ty + i, ox = 2 * tx + j;
          dst[i * 2 + j] = (oy < g.ho && ox < g.wo) ? y + ((n * g.ho + oy) * g.wo + ox) * C : nullptr;
        }
      const bool full = dst[0] && dst[1] && dst[2] && dst[3];
      for (i64 c0 = 0; c0 < C; c0 += kCB) {
        const int cb = static_cast<int>(std::min<i64>(kCB, C - c0));
        const float* s = in + c0;
        const float* bb = bias ? bias + c0 : kZeros;
        float* o0 = full ? dst[0] + c0 : o[0];
        float* o1 = full ? dst[1] + c0 : o[1];
        float* o2 = full ? dst[2] + c0 : o[2];
        float* o3 = full ? dst[3] + c0 : o[3];
#pragma omp simd
        for (int c = 0; c < cb; ++c) {
          float t[2][3];  // A^T M
          for (int j = 0; j < 3; ++j) {
            const float m0 = s[(0 + j) * ks + c], m1 = s[(3 + j) * ks + c], m2 = s[(6 + j) * ks + c];
            t[0][j] = m0 + m1;
            t[1][j] = m1 + m2;
          }
          o0[c] = t[0][0] + t[0][1] + bb[c];
          o1[c] = t[0][1] + t[0][2] + bb[c];
          o2[c] = t[1][0] + t[1][1] + bb[c];
          o3[c] = t[1][1] + t[1][2] + bb[c];
        }
        if (!full)
          for (int p = 0; p < 4; ++p)
            if (dst[p]) std::memcpy(dst[p] + c0, o[p], sizeof(float) * static_cast<size_t>(cb));
      }
    }
  }
}

// dM = A dY A^T for the tiles of tile rows [qa, qb) (dY past the image reads 0).
PARTITA_INLINE_BODY
void grad_output_transform_body(const float* dy, const ConvGeometry& g, const ChunkLayout& L, i64 qa,
                                i64 qb, float* dm) {
  const i64 C = g.cout, ks = L.tiles * C;
  for (i64 q = qa; q < qb; ++q) {
    const i64 n = q / L.th, ty = q % L.th;
    for (i64 tx = 0; tx < L.tw; ++tx) {
      const float* src[4];
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j) {
          const i64 oy = 2 * ty + i, ox = 2 * tx + j;
          src[i * 2 + j] = (oy < g.ho && ox < g.wo) ? dy + ((n * g.ho + oy) * g.wo + ox) * C : nullptr;
        }
      float* out = dm + ((q - L.q0) * L.tw + tx) * C;
      for (i64 c0 = 0; c0 < C; c0 += kCB) {
        const int cb = static_cast<int>(std::min<i64>(kCB, C - c0));
        const float* s0 = src[0] ? src[0] + c0 : kZeros;
        const float* s1 = src[1] ? src[1] + c0 : kZeros;
        const float* s2 = src[2] ? src[2] + c0 : kZeros;
        const float* s3 = src[3] ? src[3] + c0 : kZeros;
        float* o = out + c0;
#pragma omp simd
        for (int c = 0; c < cb; ++c) {
          const float a[3][2] = {{s0[c], s1[c]}, {s0[c] + s2[c], s1[c] + s3[c]}, {s2[c], s3[c]}};  // A dY
          for (int i = 0; i < 3; ++i) {
            o[(i * 3 + 0) * ks + c] = a[i][0];
            o[(i * 3 + 1) * ks + c] = a[i][0] + a[i][1];
            o[(i * 3 + 2) * ks + c] = a[i][1];
          }
        }
      }
    }
  }
}

// dx += B dV B^T per stream for the tiles of tile rows [qa, qb). Neighbouring
// tiles (in a row and in a column) share input pixels: a caller runs tile rows
// at least two apart at once, and a tile row on one thread.
PARTITA_INLINE_BODY
void input_grad_scatter_body(const float* dv, const ConvGeometry& g, const ChunkLayout& L, i64 qa, i64 qb,
                             float* dx) {
  const i64 C = g.cin, C4 = 4 * C, ks = L.tiles * C4;
  for (i64 q = qa; q < qb; ++q) {
    const i64 n = q / L.th, ty = q % L.th;
    for (i64 tx = 0; tx < L.tw; ++tx) {
      const float* in = dv + ((q - L.q0) * L.tw + tx) * C4;
      for (int s = 0; s < 4; ++s) {
        const int sy = s >> 1, sx = s & 1;
        float* dst[9];
        for (int i = 0; i < 3; ++i)
          for (int j = 0; j < 3; ++j)
            dst[i * 3 + j] = const_cast<float*>(stream_pixel(dx, g, n, ty, tx, sy, sx, i, j));
        for (i64 c0 = 0; c0 < C; c0 += kCB) {
          const int cb = static_cast<int>(std::min<i64>(kCB, C - c0));
          const float* d = in + s * C + c0;
          alignas(64) float r[9][kCB];
#pragma omp simd
          for (int c = 0; c < cb; ++c) {
            float b[3][3];  // B dV
            for (int j = 0; j < 3; ++j) {
              const float v0 = d[(0 + j) * ks + c], v1 = d[(3 + j) * ks + c], v2 = d[(6 + j) * ks + c];
              b[0][j] = v0;
              b[1][j] = v1 - v0 - v2;
              b[2][j] = v2;
            }
            for (int i = 0; i < 3; ++i) {
              r[i * 3 + 0][c] = b[i][0];
              r[i * 3 + 1][c] = b[i][1] - b[i][0] - b[i][2];
              r[i * 3 + 2][c] = b[i][2];
            }
          }
          for (int p = 0; p < 9; ++p) {
            if (!dst[p]) continue;
            float* o = dst[p] + c0;
#pragma omp simd
            for (int c = 0; c < cb; ++c) o[c] += r[p][c];
          }
        }
      }
    }
  }
}

// U = G g G^T per stream for (ci, co) pairs [e0, e1): w is HWIO (4, 4, E) with
// E = Cin * Cout; u is (9, 4, E): position k, stream s at (k * 4 + s) * E.
PARTITA_INLINE_BODY void weight_transform_body(const float* w, i64 E, float* u, i64 e0, i64 e1) {
  for (int s = 0; s < 4; ++s) {
    const int* ty = kTap[s >> 1];
    const int* tx = kTap[s & 1];
#pragma omp simd
    for (i64 e = e0; e < e1; ++e) {
      float gv[2][2];
      for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 2; ++b) gv[a][b] = w[(ty[a] * 4 + tx[b]) * E + e];
      const float r[3][2] = {{gv[0][0], gv[0][1]}, {gv[0][0] + gv[1][0], gv[0][1] + gv[1][1]}, {gv[1][0], gv[1][1]}};
      for (int i = 0; i < 3; ++i) {
        u[((i * 3 + 0) * 4 + s) * E + e] = r[i][0];
        u[((i * 3 + 1) * 4 + s) * E + e] = r[i][0] + r[i][1];
        u[((i * 3 + 2) * 4 + s) * E + e] = r[i][1];
      }
    }
  }
}

// dw += G^T dU G on each stream's taps over [e0, e1) (the adjoint of weight_transform).
PARTITA_INLINE_BODY void weight_grad_body(const float* du, i64 E, float* dw, i64 e0, i64 e1) {
  for (int s = 0; s < 4; ++s) {
    const int* ty = kTap[s >> 1];
    const int* tx = kTap[s & 1];
#pragma omp simd
    for (i64 e = e0; e < e1; ++e) {
      float b[2][3];  // G^T dU
      for (int j = 0; j < 3; ++j) {
        const float u0 = du[((0 + j) * 4 + s) * E + e], u1 = du[((3 + j) * 4 + s) * E + e],
                    u2 = du[((6 + j) * 4 + s) * E + e];
        b[0][j] = u0 + u1;
        b[1][j] = u1 + u2;
      }
      for (int a = 0; a < 2; ++a) {
        dw[(ty[a] * 4 + tx[0]) * E + e] += b[a][0] + b[a][1];
        dw[(ty[a] * 4 + tx[1]) * E + e] += b[a][1] + b[a][2];
      }
    }
  }
}

#define PARTITA_WINOGRAD_S2_LEVEL(NS, TARGET)                                                             \
  namespace NS {                                                                                         \
  TARGET void input_transform(const float* x, const ConvGeometry& g, const ChunkLayout& L, i64 qa,      \
                              i64 qb, float* v) {                                                        \
    input_transform_body(x, g, L, qa, qb, v);                                                            \
  }                                                                                                      \
  TARGET void output_transform(const float* m, const ConvGeometry& g, const ChunkLayout& L, i64 qa,     \
                               i64 qb, const float* bias, float* y) {                                    \
    output_transform_body(m, g, L, qa, qb, bias, y);                                                     \
  }                                                                                                      \
  TARGET void grad_output_transform(const float* dy, const ConvGeometry& g, const ChunkLayout& L, i64 qa, \
                                    i64 qb, float* dm) {                                                 \
    grad_output_transform_body(dy, g, L, qa, qb, dm);                                                    \
  }                                                                                                      \
  TARGET void input_grad_scatter(const float* dv, const ConvGeometry& g, const ChunkLayout& L, i64 qa,  \
                                 i64 qb, float* dx) {                                                    \
    input_grad_scatter_body(dv, g, L, qa, qb, dx);                                                       \
  }                                                                                                      \
  TARGET void weight_transform(const float* w, i64 E, float* u, i64 e0, i64 e1) {                       \
    weight_transform_body(w, E, u, e0, e1);                                                              \
  }                                                                                                      \
  TARGET void weight_grad(const float* du, i64 E, float* dw, i64 e0, i64 e1) {                          \
    weight_grad_body(du, E, dw, e0, e1);                                                                 \
  }                                                                                                      \
  }
PARTITA_WINOGRAD_S2_LEVEL(generic, )
#if PARTITA_SIMD_X86
PARTITA_WINOGRAD_S2_LEVEL(avx2, PARTITA_TARGET_AVX2)
PARTITA_WINOGRAD_S2_LEVEL(avx512, PARTITA_TARGET_AVX512)
#endif
#undef PARTITA_WINOGRAD_S2_LEVEL

// Each transform at the current SIMD level.
#if PARTITA_SIMD_X86
#define PARTITA_S2_DISPATCH(call)                                   \
  do {                                                              \
    switch (simd_level()) {                                         \
      case SimdLevel::Avx512: avx512::call; return;                 \
      case SimdLevel::Avx2: avx2::call; return;                     \
      case SimdLevel::Generic: break;                               \
    }                                                               \
    generic::call;                                                  \
  } while (0)
#else
#define PARTITA_S2_DISPATCH(call) generic::call
#endif

void input_transform(const float* x, const ConvGeometry& g, const ChunkLayout& L, i64 qa, i64 qb, float* v) {
  PARTITA_S2_DISPATCH(input_transform(x, g, L, qa, qb, v));
}
void output_transform(const float* m, const ConvGeometry& g, const ChunkLayout& L, i64 qa, i64 qb,
                      const float* bias, float* y) {
  PARTITA_S2_DISPATCH(output_transform(m, g, L, qa, qb, bias, y));
}
void grad_output_transform(const float* dy, const ConvGeometry& g, const ChunkLayout& L, i64 qa, i64 qb,
                           float* dm) {
  PARTITA_S2_DISPATCH(grad_output_transform(dy, g, L, qa, qb, dm));
}
void input_grad_scatter(const float* dv, const ConvGeometry& g, const ChunkLayout& L, i64 qa, i64 qb,
                        float* dx) {
  PARTITA_S2_DISPATCH(input_grad_scatter(dv, g, L, qa, qb, dx));
}
void weight_transform_range(const float* w, i64 E, float* u, i64 e0, i64 e1) {
  PARTITA_S2_DISPATCH(weight_transform(w, E, u, e0, e1));
}
void weight_grad_range(const float* du, i64 E, float* dw, i64 e0, i64 e1) {
  PARTITA_S2_DISPATCH(weight_grad(du, E, dw, e0, e1));
}
#undef PARTITA_S2_DISPATCH

// The 9 products of a chunk of `tiles` tiles: V_k is tiles x 4 Cin, U_k 4 Cin x Cout.
struct Products {
  const ConvGeometry& g;
  const float* u;
  i64 C4() const { return 4 * g.cin; }
  // M_k = V_k U_k
  void forward(int k, i64 tiles, const float* v, float* m) const {
    gemm(Trans::No, Trans::No, tiles, g.cout, C4(), 1.0f, v + k * tiles * C4(), C4(), u + k * C4() * g.cout,
         g.cout, 0.0f, m + k * tiles * g.cout, g.cout);
  }
  // dU_k += V_k^T dM_k
  void weights(int k, i64 tiles, const float* v, const float* dm, float* du) const {
    gemm(Trans::Yes, Trans::No, C4(), g.cout, tiles, 1.0f, v + k * tiles * C4(), C4(), dm + k * tiles * g.cout,
         g.cout, 1.0f, du + k * C4() * g.cout, g.cout);
  }
  // dV_k = dM_k U_k^T
  void input(int k, i64 tiles, const float* dm, float* dv) const {
    gemm(Trans::No, Trans::Yes, tiles, C4(), g.cout, 1.0f, dm + k * tiles * g.cout, g.cout,
         u + k * C4() * g.cout, g.cout, 0.0f, dv + k * tiles * C4(), C4());
  }
};

}  // namespace

i64 WinogradS2::rows_per_chunk(const ConvGeometry& g) const {
  const i64 th = (g.ho + 1) / 2, tw = (g.wo + 1) / 2, rows = g.n * th;
  return std::min(std::max<i64>(1, chunk_tiles / tw), rows);
}

void WinogradS2::forward(const float* x, const ConvGeometry& g, const float* w, const float* b, float* y) {
  if (!winograd_s2_applies(g))
    throw InvalidArgument("WinogradS2::forward: needs a 4x4 stride-2 convolution padded 1 before");
  geom_ = g;
  have_forward_ = true;
  const i64 th = (g.ho + 1) / 2, tw = (g.wo + 1) / 2, rows = g.n * th, R = rows_per_chunk(g);
  const i64 E = g.cin * g.cout;
  const i64 vmax = 9 * R * tw * 4 * g.cin, mmax = 9 * R * tw * g.cout;
  u_.resize({9 * 4 * E});
  for_blocks(E, [&](i64 e0, i64 e1) { weight_transform_range(w, E, u_.data(), e0, e1); });
  const Products prod{g, u_.data()};
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  wino::run_forward(
      th, tw, rows, R, 9, vmax, mmax, threads, v_, m_,
      [&](const ChunkLayout& L, i64 a, i64 e, float* v) { input_transform(x, g, L, a, e, v); },
      [&](int k, i64 tiles, const float* v, float* m) { prod.forward(k, tiles, v, m); },
      [&](const ChunkLayout& L, i64 a, i64 e, const float* m) { output_transform(m, g, L, a, e, b, y); });
}

void WinogradS2::backward(const float* x, const float* dy, const ConvGeometry& g, float* dw, float* dx) {
  if (!have_forward_) throw InvalidArgument("WinogradS2::backward: backward called before forward");
  const ConvGeometry& f = geom_;
  if (g.n != f.n || g.h != f.h || g.w != f.w || g.cin != f.cin || g.cout != f.cout || g.ho != f.ho ||
      g.wo != f.wo)
    throw ShapeError("WinogradS2::backward: geometry differs from the forward's");
  const i64 th = (g.ho + 1) / 2, tw = (g.wo + 1) / 2, rows = g.n * th, R = rows_per_chunk(g);
  const i64 chunks = (rows + R - 1) / R, E = g.cin * g.cout, nu = 9 * 4 * E;
  const i64 vmax = 9 * R * tw * 4 * g.cin, mmax = 9 * R * tw * g.cout;
  const Products prod{g, u_.data()};
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (dx) wino::zero_parallel(dx, g.n * g.h * g.w * g.cin, threads);
  if (threads > 1 && chunks >= 2 * threads) {
    // Per-thread dU partials; chunks c and c + 2 scatter into disjoint input
    // rows (tile rows two apart share none), so even chunks run together,
    // then odd ones. Static round robin fixes each thread's chunks, hence dW,
    // for a thread count.
    v_.resize({threads * vmax});
    m_.resize({threads * mmax});
    if (dx) dv_.resize({threads * vmax});
    du_.resize({dw ? threads * nu : 0});
    du_.zero();
    for (int phase = 0; phase < 2; ++phase) {
#pragma omp parallel for schedule(static, 1) num_threads(threads)
      for (i64 c = phase; c < chunks; c += 2) {
        const int t = omp_get_thread_num();
        const i64 q0 = c * R, q1 = std::min(rows, q0 + R);
        const ChunkLayout L{th, tw, q0, (q1 - q0) * tw};
        float* v = v_.data() + t * vmax;
        float* m = m_.data() + t * mmax;
        float* du = du_.data() + t * nu;
        grad_output_transform(dy, g, L, q0, q1, m);
        if (dw) {
          input_transform(x, g, L, q0, q1, v);
          for (int k = 0; k < 9; ++k) prod.weights(k, L.tiles, v, m, du);
        }
        if (!dx) continue;
        float* dv = dv_.data() + t * vmax;
        for (int k = 0; k < 9; ++k) prod.input(k, L.tiles, m, dv);
        input_grad_scatter(dv, g, L, q0, q1, dx);
      }
    }
    if (dw) wino::sum_partials(du_.data(), nu, threads);
  } else {
    v_.resize({vmax});
    m_.resize({mmax});
    if (dx) dv_.resize({vmax});
    du_.resize({dw ? nu : 0});
    du_.zero();
    for (i64 q0 = 0; q0 < rows; q0 += R) {
      const i64 q1 = std::min(rows, q0 + R);
      const ChunkLayout L{th, tw, q0, (q1 - q0) * tw};
      for_tile_rows(q0, q1, 1, 0, [&](i64 a, i64 e) { grad_output_transform(dy, g, L, a, e, m_.data()); });
      if (dw) {
        for_tile_rows(q0, q1, 1, 0, [&](i64 a, i64 e) { input_transform(x, g, L, a, e, v_.data()); });
        wino::for_positions(9, threads, [&](int k) { prod.weights(k, L.tiles, v_.data(), m_.data(), du_.data()); });
      }
      if (!dx) continue;
      wino::for_positions(9, threads, [&](int k) { prod.input(k, L.tiles, m_.data(), dv_.data()); });
      for (int phase = 0; phase < 2; ++phase)
        for_tile_rows(q0, q1, 2, phase,
                      [&](i64 a, i64 e) { input_grad_scatter(dv_.data(), g, L, a, e, dx); });
    }
  }
  if (!dw) return;
  const float* du = du_.data();
  for_blocks(E, [&](i64 e0, i64 e1) { weight_grad_range(du, E, dw, e0, e1); });
}

}  // namespace partita::nn::detail
