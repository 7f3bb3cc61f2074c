// Winograd F(2x2, 3x3): the transforms, vectorised over channels, and the
// chunked, threaded driver. The math is in winograd.hpp.
#include "nn/winograd.hpp"

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

bool winograd_applies(const ConvGeometry& g) {
  return g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.pt == 1 && g.pb == 1 &&
         g.pl == 1 && g.pr == 1;
}

namespace {

using wino::ChunkLayout;
using wino::for_blocks;
using wino::for_tile_rows;
using wino::kCB;
using wino::kZeros;

// Transform position k = 4 xi + nu is "sparse" when xi or nu is 2: there the
// transform of an upsampled input vanishes (see input_transform).
inline bool sparse_position(int k) { return (k >> 2) == 2 || (k & 3) == 2; }

// V = B^T d B for the tiles of tile rows [qa, qb) (inside the chunk); row t of
// V_k holds the low-res part's Cl channels, then x's.
//
// The upsampled part: along one axis a tile's 4 input rows 2ty-1 .. 2ty+2 of
// up2(low) are low-res rows ty-1, ty, ty, ty+1 = P l with P = [1 0 0; 0 1 0;
// 0 1 0; 0 0 1], and B^T P = [1 -1 0; 0 2 0; 0 0 0; 0 1 -1]: the transform
// reads the 3x3 low-res patch directly, and its row 2 is zero, so the sparse
// positions (xi = 2 or nu = 2) get no low-res part (never written or read).
PARTITA_INLINE_BODY
void input_transform_body(const WinogradInput& in, const ConvGeometry& g, const ChunkLayout& L,
                          i64 qa, i64 qb, float* v) {
  const i64 C = g.cin, Cl = in.low_channels, Cx = C - Cl, ks = L.tiles * C;
  const i64 S = g.h / 2, T = g.w / 2;
  for (i64 q = qa; q < qb; ++q) {
    const i64 n = q / L.th, ty = q % L.th;
    for (i64 tx = 0; tx < L.tw; ++tx) {
      float* out = v + ((q - L.q0) * L.tw + tx) * C;
      if (Cl > 0) {
        const float* src[9];
        for (int i = 0; i < 3; ++i) {
          const i64 iy = ty - 1 + i;
          for (int j = 0; j < 3; ++j) {
            const i64 ix = tx - 1 + j;
            src[i * 3 + j] = (iy >= 0 && iy < S && ix >= 0 && ix < T)
                                 ? in.low + ((n * S + iy) * T + ix) * Cl
                                 : nullptr;
          }
        }
        for (i64 c0 = 0; c0 < Cl; c0 += kCB) {
          const int cb = static_cast<int>(std::min<i64>(kCB, Cl - c0));
          const float* s[9];
          for (int p = 0; p < 9; ++p) s[p] = src[p] ? src[p] + c0 : kZeros;
          float* o = out + c0;
#pragma omp simd
          for (int c = 0; c < cb; ++c) {
            float r[3][3];  // rows xi = 0, 1, 3 of (B^T P) l
            for (int j = 0; j < 3; ++j) {
              const float l0 = s[j][c], l1 = s[3 + j][c], l2 = s[6 + j][c];
              r[0][j] = l0 - l1;
              r[1][j] = 2.0f * l1;
              r[2][j] = l1 - l2;
            }
            const int xi[3] = {0, 1, 3};
            for (int i = 0; i < 3; ++i) {
              o[(xi[i] * 4 + 0) * ks + c] = r[i][0] - r[i][1];
              o[(xi[i] * 4 + 1) * ks + c] = 2.0f * r[i][1];
              o[(xi[i] * 4 + 3) * ks + c] = r[i][1] - r[i][2];
            }
          }
        }
      }
      const float* src[16];
      for (int i = 0; i < 4; ++i) {
        const i64 iy = 2 * ty - 1 + i;
        for (int j = 0; j < 4; ++j) {
          const i64 ix = 2 * tx - 1 + j;
          src[i * 4 + j] = (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w)
                               ? in.x + ((n * g.h + iy) * g.w + ix) * Cx
                               : nullptr;
        }
      }
      for (i64 c0 = 0; c0 < Cx; c0 += kCB) {
        const int cb = static_cast<int>(std::min<i64>(kCB, Cx - c0));
        const float* s[16];
        for (int p = 0; p < 16; ++p) s[p] = src[p] ? src[p] + c0 : kZeros;
        float* o = out + Cl + c0;
#pragma omp simd
        for (int c = 0; c < cb; ++c) {
          float r[4][4];
          for (int j = 0; j < 4; ++j) {
            const float d0 = s[j][c], d1 = s[4 + j][c], d2 = s[8 + j][c], d3 = s[12 + j][c];
            r[0][j] = d0 - d2;
            r[1][j] = d1 + d2;
            r[2][j] = d2 - d1;
            r[3][j] = d1 - d3;
          }
          for (int i = 0; i < 4; ++i) {
            o[(i * 4 + 0) * ks + c] = r[i][0] - r[i][2];
            o[(i * 4 + 1) * ks + c] = r[i][1] + r[i][2];
            o[(i * 4 + 2) * ks + c] = r[i][2] - r[i][1];
            o[(i * 4 + 3) * ks + c] = r[i][1] - r[i][3];
          }
        }
      }
    }
  }
}

// y = A^T M A (+ bias) for the tiles of tile rows [qa, qb); outputs past the
// image (odd sizes) are dropped.
PARTITA_INLINE_BODY
void output_transform_body(const float* m, const ConvGeometry& g, const ChunkLayout& L, i64 qa,
                           i64 qb, const float* bias, float* y) {
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
          float t[2][4];
          for (int j = 0; j < 4; ++j) {
            const float m0 = s[(0 + j) * ks + c], m1 = s[(4 + j) * ks + c],
                        m2 = s[(8 + j) * ks + c], m3 = s[(12 + j) * ks + c];
            t[0][j] = m0 + m1 + m2;
            t[1][j] = m1 - m2 - m3;
          }
          o0[c] = t[0][0] + t[0][1] + t[0][2] + bb[c];
          o1[c] = t[0][1] - t[0][2] - t[0][3] + bb[c];
          o2[c] = t[1][0] + t[1][1] + t[1][2] + bb[c];
          o3[c] = t[1][1] - t[1][2] - t[1][3] + bb[c];
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
void grad_output_transform_body(const float* dy, const ConvGeometry& g, const ChunkLayout& L,
                                i64 qa, i64 qb, float* dm) {
  const i64 C = g.cout, ks = L.tiles * C;
  for (i64 q = qa; q < qb; ++q) {
    const i64 n = q / L.th, ty = q % L.th;
    for (i64 tx = 0; tx < L.tw; ++tx) {
      const float* src[4];
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j) {
          const i64 oy = 2 * ty + i, ox = 2 * tx + j;
          src[i * 2 + j] =
              (oy < g.ho && ox < g.wo) ? dy + ((n * g.ho + oy) * g.wo + ox) * C : nullptr;
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
          // rows: a[k][j] = (A dy)[k][j], then columns
          const float d00 = s0[c], d01 = s1[c], d10 = s2[c], d11 = s3[c];
          const float a[4][2] = {{d00, d01}, {d00 + d10, d01 + d11}, {d00 - d10, d01 - d11},
                                 {-d10, -d11}};
          for (int i = 0; i < 4; ++i) {
            o[(i * 4 + 0) * ks + c] = a[i][0];
            o[(i * 4 + 1) * ks + c] = a[i][0] + a[i][1];
            o[(i * 4 + 2) * ks + c] = a[i][0] - a[i][1];
            o[(i * 4 + 3) * ks + c] = -a[i][1];
          }
        }
      }
    }
  }
}

// dx += B dV B^T, scattered to each tile's 4x4 input patch, and (with a
// low-res part) dlow += (B^T P)^T dV (B^T P) to its 3x3 low-res patch, for the
// tiles of tile rows [qa, qb). Tile rows q and q + 1 overlap in dx, q and q + 2
// in dlow; q and q + 3 never do.
PARTITA_INLINE_BODY
void input_grad_scatter_body(const float* dv, const ConvGeometry& g, const ChunkLayout& L, i64 qa,
                             i64 qb, i64 Cl, float* dx, float* dlow) {
  const i64 C = g.cin, Cx = C - Cl, ks = L.tiles * C, S = g.h / 2, T = g.w / 2;
  alignas(64) float sink[16][kCB];  // where the parts of edge tiles outside dx go
  for (i64 q = qa; q < qb; ++q) {
    const i64 n = q / L.th, ty = q % L.th;
    for (i64 tx = 0; tx < L.tw; ++tx) {
      const float* tile = dv + ((q - L.q0) * L.tw + tx) * C;
      if (Cl > 0) {
        float* dst[9];
        bool full = true;
        for (int i = 0; i < 3; ++i) {
          const i64 iy = ty - 1 + i;
          for (int j = 0; j < 3; ++j) {
            const i64 ix = tx - 1 + j;
            const bool inside = iy >= 0 && iy < S && ix >= 0 && ix < T;
            dst[i * 3 + j] = inside ? dlow + ((n * S + iy) * T + ix) * Cl : nullptr;
            full = full && inside;
          }
        }
        for (i64 c0 = 0; c0 < Cl; c0 += kCB) {
          const int cb = static_cast<int>(std::min<i64>(kCB, Cl - c0));
          const float* s = tile + c0;
          float* o[9];
          for (int p = 0; p < 9; ++p) o[p] = dst[p] ? dst[p] + c0 : sink[p];
          if (!full) std::memset(sink, 0, sizeof(sink));
#pragma omp simd
          for (int c = 0; c < cb; ++c) {
            float e[3][3];  // along xi (rows 0, 1, 3 of dV), for nu = 0, 1, 3
            const int nu[3] = {0, 1, 3};
            for (int j = 0; j < 3; ++j) {
              const float v0 = s[(0 + nu[j]) * ks + c], v1 = s[(4 + nu[j]) * ks + c],
                          v3 = s[(12 + nu[j]) * ks + c];
              e[0][j] = v0;
              e[1][j] = 2.0f * v1 - v0 + v3;
              e[2][j] = -v3;
            }
            for (int i = 0; i < 3; ++i) {
              o[i * 3 + 0][c] += e[i][0];
              o[i * 3 + 1][c] += 2.0f * e[i][1] - e[i][0] + e[i][2];
              o[i * 3 + 2][c] -= e[i][2];
            }
          }
        }
      }
      float* dst[16];
      bool full = true;
      for (int i = 0; i < 4; ++i) {
        const i64 iy = 2 * ty - 1 + i;
        for (int j = 0; j < 4; ++j) {
          const i64 ix = 2 * tx - 1 + j;
          const bool inside = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w;
          dst[i * 4 + j] = inside ? dx + ((n * g.h + iy) * g.w + ix) * Cx : nullptr;
          full = full && inside;
        }
      }
      for (i64 c0 = 0; c0 < Cx; c0 += kCB) {
        const int cb = static_cast<int>(std::min<i64>(kCB, Cx - c0));
        const float* s = tile + Cl + c0;
        float* o[16];
        for (int p = 0; p < 16; ++p) o[p] = dst[p] ? dst[p] + c0 : sink[p];
        if (!full) std::memset(sink, 0, sizeof(sink));
#pragma omp simd
        for (int c = 0; c < cb; ++c) {
          float e[4][4];
          for (int j = 0; j < 4; ++j) {
            const float v0 = s[(0 + j) * ks + c], v1 = s[(4 + j) * ks + c],
                        v2 = s[(8 + j) * ks + c], v3 = s[(12 + j) * ks + c];
            e[0][j] = v0;
            e[1][j] = v1 - v2 + v3;
            e[2][j] = v1 + v2 - v0;
            e[3][j] = -v3;
          }
          for (int i = 0; i < 4; ++i) {
            o[i * 4 + 0][c] += e[i][0];
            o[i * 4 + 1][c] += e[i][1] - e[i][2] + e[i][3];
            o[i * 4 + 2][c] += e[i][1] + e[i][2] - e[i][0];
            o[i * 4 + 3][c] -= e[i][3];
          }
        }
      }
    }
  }
}

// The tile transforms are most of a convolution's time outside the products at
// the first U-Net levels, and they vectorise over channels: each is compiled
// once per SIMD level (the bodies above are inlined into a function targeted
// at that level) and dispatched on partita::simd_level().
#define PARTITA_WINOGRAD_LEVEL(NS, TARGET)                                                        \
  namespace NS {                                                                                  \
  TARGET void input_transform(const WinogradInput& in, const ConvGeometry& g,                     \
                              const ChunkLayout& L, i64 qa, i64 qb, float* v) {                   \
    input_transform_body(in, g, L, qa, qb, v);                                                    \
  }                                                                                               \
  TARGET void output_transform(const float* m, const ConvGeometry& g, const ChunkLayout& L,       \
                               i64 qa, i64 qb, const float* bias, float* y) {                     \
    output_transform_body(m, g, L, qa, qb, bias, y);                                              \
  }                                                                                               \
  TARGET void grad_output_transform(const float* dy, const ConvGeometry& g, const ChunkLayout& L, \
                                    i64 qa, i64 qb, float* dm) {                                  \
    grad_output_transform_body(dy, g, L, qa, qb, dm);                                             \
  }                                                                                               \
  TARGET void input_grad_scatter(const float* dv, const ConvGeometry& g, const ChunkLayout& L,    \
                                 i64 qa, i64 qb, i64 Cl, float* dx, float* dlow) {                \
    input_grad_scatter_body(dv, g, L, qa, qb, Cl, dx, dlow);                                      \
  }                                                                                               \
  }
PARTITA_WINOGRAD_LEVEL(generic, )
#if PARTITA_SIMD_X86
PARTITA_WINOGRAD_LEVEL(avx2, PARTITA_TARGET_AVX2)
PARTITA_WINOGRAD_LEVEL(avx512, PARTITA_TARGET_AVX512)
#endif
#undef PARTITA_WINOGRAD_LEVEL

void input_transform(const WinogradInput& in, const ConvGeometry& g, const ChunkLayout& L, i64 qa,
                     i64 qb, float* v) {
#if PARTITA_SIMD_X86
  switch (simd_level()) {
    case SimdLevel::Avx512: return avx512::input_transform(in, g, L, qa, qb, v);
    case SimdLevel::Avx2: return avx2::input_transform(in, g, L, qa, qb, v);
    case SimdLevel::Generic: break;
  }
#endif
  generic::input_transform(in, g, L, qa, qb, v);
}

void output_transform(const float* m, const ConvGeometry& g, const ChunkLayout& L, i64 qa, i64 qb,
                      const float* bias, float* y) {
#if PARTITA_SIMD_X86
  switch (simd_level()) {
    case SimdLevel::Avx512: return avx512::output_transform(m, g, L, qa, qb, bias, y);
    case SimdLevel::Avx2: return avx2::output_transform(m, g, L, qa, qb, bias, y);
    case SimdLevel::Generic: break;
  }
#endif
  generic::output_transform(m, g, L, qa, qb, bias, y);
}

void grad_output_transform(const float* dy, const ConvGeometry& g, const ChunkLayout& L, i64 qa,
                           i64 qb, float* dm) {
#if PARTITA_SIMD_X86
  switch (simd_level()) {
    case SimdLevel::Avx512: return avx512::grad_output_transform(dy, g, L, qa, qb, dm);
    case SimdLevel::Avx2: return avx2::grad_output_transform(dy, g, L, qa, qb, dm);
    case SimdLevel::Generic: break;
  }
#endif
  generic::grad_output_transform(dy, g, L, qa, qb, dm);
}

void input_grad_scatter(const float* dv, const ConvGeometry& g, const ChunkLayout& L, i64 qa,
                        i64 qb, i64 Cl, float* dx, float* dlow) {
#if PARTITA_SIMD_X86
  switch (simd_level()) {
    case SimdLevel::Avx512: return avx512::input_grad_scatter(dv, g, L, qa, qb, Cl, dx, dlow);
    case SimdLevel::Avx2: return avx2::input_grad_scatter(dv, g, L, qa, qb, Cl, dx, dlow);
    case SimdLevel::Generic: break;
  }
#endif
  generic::input_grad_scatter(dv, g, L, qa, qb, Cl, dx, dlow);
}

// U = G w G^T for every (ci, co) pair in [e0, e1): w is HWIO (3, 3, E) with
// E = Cin * Cout, u is (16, E).
PARTITA_INLINE_BODY void weight_transform_body(const float* w, i64 E, float* u, i64 e0, i64 e1) {
#pragma omp simd
  for (i64 e = e0; e < e1; ++e) {
    float a[4][3];
    for (int kx = 0; kx < 3; ++kx) {
      const float g0 = w[(0 * 3 + kx) * E + e], g1 = w[(1 * 3 + kx) * E + e], g2 = w[(2 * 3 + kx) * E + e];
      a[0][kx] = g0;
      a[1][kx] = 0.5f * (g0 + g1 + g2);
      a[2][kx] = 0.5f * (g0 - g1 + g2);
      a[3][kx] = g2;
    }
    for (int i = 0; i < 4; ++i) {
      u[(i * 4 + 0) * E + e] = a[i][0];
      u[(i * 4 + 1) * E + e] = 0.5f * (a[i][0] + a[i][1] + a[i][2]);
      u[(i * 4 + 2) * E + e] = 0.5f * (a[i][0] - a[i][1] + a[i][2]);
      u[(i * 4 + 3) * E + e] = a[i][2];
    }
  }
}

// dw += G^T dU G over [e0, e1) (the adjoint of weight_transform).
PARTITA_INLINE_BODY void weight_grad_body(const float* du, i64 E, float* dw, i64 e0, i64 e1) {
#pragma omp simd
  for (i64 e = e0; e < e1; ++e) {
    float b[3][4];
    for (int j = 0; j < 4; ++j) {
      const float u0 = du[(0 + j) * E + e], u1 = du[(4 + j) * E + e], u2 = du[(8 + j) * E + e],
                  u3 = du[(12 + j) * E + e];
      b[0][j] = u0 + 0.5f * (u1 + u2);
      b[1][j] = 0.5f * (u1 - u2);
      b[2][j] = 0.5f * (u1 + u2) + u3;
    }
    for (int ky = 0; ky < 3; ++ky) {
      dw[(ky * 3 + 0) * E + e] += b[ky][0] + 0.5f * (b[ky][1] + b[ky][2]);
      dw[(ky * 3 + 1) * E + e] += 0.5f * (b[ky][1] - b[ky][2]);
      dw[(ky * 3 + 2) * E + e] += 0.5f * (b[ky][1] + b[ky][2]) + b[ky][3];
    }
  }
}

#define PARTITA_WINOGRAD_WEIGHT_LEVEL(NS, TARGET)                                        \
  namespace NS {                                                                         \
  TARGET void weight_transform(const float* w, i64 E, float* u, i64 e0, i64 e1) {       \
    weight_transform_body(w, E, u, e0, e1);                                              \
  }                                                                                      \
  TARGET void weight_grad(const float* du, i64 E, float* dw, i64 e0, i64 e1) {          \
    weight_grad_body(du, E, dw, e0, e1);                                                 \
  }                                                                                      \
  }
PARTITA_WINOGRAD_WEIGHT_LEVEL(generic, )
#if PARTITA_SIMD_X86
PARTITA_WINOGRAD_WEIGHT_LEVEL(avx2, PARTITA_TARGET_AVX2)
PARTITA_WINOGRAD_WEIGHT_LEVEL(avx512, PARTITA_TARGET_AVX512)
#endif
#undef PARTITA_WINOGRAD_WEIGHT_LEVEL

void weight_transform(const float* w, i64 E, float* u) {
  const SimdLevel level = simd_level();
  for_blocks(E, [&](i64 e0, i64 e1) {
#if PARTITA_SIMD_X86
    if (level == SimdLevel::Avx512) return avx512::weight_transform(w, E, u, e0, e1);
    if (level == SimdLevel::Avx2) return avx2::weight_transform(w, E, u, e0, e1);
#endif
    generic::weight_transform(w, E, u, e0, e1);
  });
}

void weight_grad(const float* du, i64 E, float* dw) {
  const SimdLevel level = simd_level();
  for_blocks(E, [&](i64 e0, i64 e1) {
#if PARTITA_SIMD_X86
    if (level == SimdLevel::Avx512) return avx512::weight_grad(du, E, dw, e0, e1);
    if (level == SimdLevel::Avx2) return avx2::weight_grad(du, E, dw, e0, e1);
#endif
    generic::weight_grad(du, E, dw, e0, e1);
  });
}

// The 16 products of a chunk of `tiles` tiles; with a low-res part the sparse
// positions skip its Cl rows/columns (they are zero in V and in dU).
struct Products {
  const ConvGeometry& g;
  i64 Cl;
  const float* u;
  i64 E() const { return g.cin * g.cout; }
  i64 skip(int k) const { return Cl > 0 && sparse_position(k) ? Cl : 0; }
  // M_k = V_k U_k
  void forward(int k, i64 tiles, const float* v, float* m) const {
    const i64 C = g.cin, o = skip(k);
    gemm(Trans::No, Trans::No, tiles, g.cout, C - o, 1.0f, v + k * tiles * C + o, C,
         u + k * E() + o * g.cout, g.cout, 0.0f, m + k * tiles * g.cout, g.cout);
  }
  // dU_k += V_k^T dM_k
  void weights(int k, i64 tiles, const float* v, const float* dm, float* du) const {
    const i64 C = g.cin, o = skip(k);
    gemm(Trans::Yes, Trans::No, C - o, g.cout, tiles, 1.0f, v + k * tiles * C + o, C,
         dm + k * tiles * g.cout, g.cout, 1.0f, du + k * E() + o * g.cout, g.cout);
  }
  // dV_k = dM_k U_k^T
  void input(int k, i64 tiles, const float* dm, float* dv) const {
    const i64 C = g.cin, o = skip(k);
    gemm(Trans::No, Trans::Yes, tiles, C - o, g.cout, 1.0f, dm + k * tiles * g.cout, g.cout,
         u + k * E() + o * g.cout, g.cout, 0.0f, dv + k * tiles * C + o, C);
  }
};

}  // namespace

i64 Winograd3x3::rows_per_chunk(const ConvGeometry& g, bool low) const {
  const i64 th = (g.ho + 1) / 2, tw = (g.wo + 1) / 2, rows = g.n * th;
  // With a low-res part chunks c and c + 2 scatter into disjoint rows of its
  // gradient only from two tile rows a chunk on.
  const i64 r = std::max<i64>(low ? 2 : 1, chunk_tiles / tw);
  return std::min(r, rows);
}

void Winograd3x3::check(const WinogradInput& in, const ConvGeometry& g, const char* who) const {
  if (!winograd_applies(g))
    throw InvalidArgument(std::string(who) + ": needs a 3x3 stride-1 convolution padded 1");
  if (in.low_channels < 0 || in.low_channels >= g.cin || (in.low_channels > 0) != (in.low != nullptr))
    throw InvalidArgument(std::string(who) + ": bad low-res part");
  if (in.low && (g.h % 2 != 0 || g.w % 2 != 0))
    throw ShapeError(std::string(who) + ": an upsampled part needs even output sizes");
}

void Winograd3x3::forward(const WinogradInput& in, const ConvGeometry& g, const float* w,
                          const float* b, float* y) {
  check(in, g, "Winograd3x3::forward");
  geom_ = g;
  have_forward_ = true;
  const bool low = in.low_channels > 0;
  const i64 th = (g.ho + 1) / 2, tw = (g.wo + 1) / 2, rows = g.n * th, R = rows_per_chunk(g, low);
  const i64 E = g.cin * g.cout;
  const i64 vmax = 16 * R * tw * g.cin, mmax = 16 * R * tw * g.cout;
  u_.resize({16 * E});
  weight_transform(w, E, u_.data());
  const Products prod{g, in.low_channels, u_.data()};
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  const i64 ran = wino::run_forward(
      th, tw, rows, R, 16, vmax, mmax, threads, v_, m_,
      [&](const ChunkLayout& L, i64 a, i64 e, float* v) { input_transform(in, g, L, a, e, v); },
      [&](int k, i64 tiles, const float* v, float* m) { prod.forward(k, tiles, v, m); },
      [&](const ChunkLayout& L, i64 a, i64 e, const float* m) { output_transform(m, g, L, a, e, b, y); });
  v_holds_all_ = ran == 1;  // one chunk: v_ still holds every tile's V for backward
}

void Winograd3x3::backward(const WinogradInput& in, const float* dy, const ConvGeometry& g,
                           float* dw, float* dx, float* dlow) {
  if (!have_forward_)
    throw InvalidArgument("Winograd3x3::backward: backward called before forward");
  check(in, g, "Winograd3x3::backward");
  const ConvGeometry& f = geom_;
  if (g.n != f.n || g.h != f.h || g.w != f.w || g.cin != f.cin || g.cout != f.cout)
    throw ShapeError("Winograd3x3::backward: geometry differs from the forward's");
  const bool low = in.low_channels > 0;
  if (low && (dx == nullptr) != (dlow == nullptr))
    throw InvalidArgument("Winograd3x3::backward: dx and dlow go together");
  const i64 th = (g.ho + 1) / 2, tw = (g.wo + 1) / 2, rows = g.n * th, R = rows_per_chunk(g, low);
  const i64 chunks = (rows + R - 1) / R, E = g.cin * g.cout, Cl = in.low_channels;
  const i64 vmax = 16 * R * tw * g.cin, mmax = 16 * R * tw * g.cout;
  const Products prod{g, Cl, u_.data()};
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (dx) wino::zero_parallel(dx, g.n * g.h * g.w * (g.cin - Cl), threads);
  if (dlow) wino::zero_parallel(dlow, g.n * (g.h / 2) * (g.w / 2) * Cl, threads);

  if (threads > 1 && chunks >= 2 * threads) {
    // Per-thread dU partials; chunks c and c + 2 scatter into disjoint rows of
    // dx (and dlow), so even chunks run together, then odd ones. Static
    // round-robin keeps each thread's chunk sequence, hence dW, fixed for a
    // thread count.
    v_.resize({threads * vmax});
    m_.resize({threads * mmax});
    if (dx) dv_.resize({threads * vmax});
    du_.resize({threads * 16 * E});
    du_.zero();
    for (int phase = 0; phase < 2; ++phase) {
#pragma omp parallel for schedule(static, 1) num_threads(threads)
      for (i64 c = phase; c < chunks; c += 2) {
        const int t = omp_get_thread_num();
        const i64 q0 = c * R, q1 = std::min(rows, q0 + R);
        const ChunkLayout L{th, tw, q0, (q1 - q0) * tw};
        float* v = v_.data() + t * vmax;
        float* m = m_.data() + t * mmax;
        float* du = du_.data() + t * 16 * E;
        input_transform(in, g, L, q0, q1, v);
        grad_output_transform(dy, g, L, q0, q1, m);
        for (int k = 0; k < 16; ++k) prod.weights(k, L.tiles, v, m, du);
        if (!dx) continue;
        float* dv = dv_.data() + t * vmax;
        for (int k = 0; k < 16; ++k) prod.input(k, L.tiles, m, dv);
        input_grad_scatter(dv, g, L, q0, q1, Cl, dx, dlow);
      }
    }
    float* total = du_.data();
    wino::sum_partials(total, 16 * E, threads);
    weight_grad(total, E, dw);
    return;
  }
  v_.resize({vmax});
  m_.resize({mmax});
  if (dx) dv_.resize({vmax});
  du_.resize({16 * E});
  du_.zero();
  const int period = low ? 3 : 2;  // tile rows this far apart never scatter into the same rows
  for (i64 q0 = 0; q0 < rows; q0 += R) {
    const i64 q1 = std::min(rows, q0 + R);
    const ChunkLayout L{th, tw, q0, (q1 - q0) * tw};
    if (!v_holds_all_)
      for_tile_rows(q0, q1, 1, 0, [&](i64 a, i64 e) { input_transform(in, g, L, a, e, v_.data()); });
    for_tile_rows(q0, q1, 1, 0,
                  [&](i64 a, i64 e) { grad_output_transform(dy, g, L, a, e, m_.data()); });
    wino::for_positions(16, threads,
                  [&](int k) { prod.weights(k, L.tiles, v_.data(), m_.data(), du_.data()); });
    if (!dx) continue;
    wino::for_positions(16, threads, [&](int k) { prod.input(k, L.tiles, m_.data(), dv_.data()); });
    for (int phase = 0; phase < period; ++phase)
      for_tile_rows(q0, q1, period, phase, [&](i64 a, i64 e) {
        input_grad_scatter(dv_.data(), g, L, a, e, Cl, dx, dlow);
      });
  }
  weight_grad(du_.data(), E, dw);
}

}  // namespace partita::nn::detail
