// Direct convolution kernels for batch-1 inference (see infer_conv.hpp).
#include "nn/infer_conv.hpp"
#include "nn/infer_conv_epilogue.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/simd_target.hpp"
#include "partita/core/cpu.hpp"
#include "partita/core/error.hpp"

#if PARTITA_SIMD_X86
#include <immintrin.h>
#endif

namespace partita::nn::infer {

using std::int64_t;

namespace {

// init(y, x) for column block b: a cached buffer or a border-class bias.
inline const float* init_of(const ConvJob& j, int64_t y, int64_t x, int64_t col) {
  if (j.init_base) return j.init_base + y * j.init_row + x * j.init_ld + col;
  const int c = border_class(y, j.height) * 4 + border_class(x, j.width);
  return j.bias_classes + c * j.cout + col;
}

// The plain loop (the reference the SIMD kernels are tested against).
inline void conv_plain(const ConvJob& j, int64_t y0, int64_t y1, int64_t x0,
                                    int64_t x1, int64_t b0, int64_t b1) {
  const int64_t bw = 16 * j.nb, kt = j.ktot();
  for (int64_t b = b0; b < b1; ++b) {
    const float* wb = j.wpack + b * kt * bw;
    for (int64_t y = y0; y < y1; ++y)
      for (int64_t x = x0; x < x1; ++x) {
        float acc[64];
        for (int64_t o = 0; o < bw; ++o) acc[o] = 0.0f;
        const float* w = wb;
        for (int s = 0; s < j.nseg; ++s) {
          if (!j.reads(s, y)) {
            w += j.k[s] * bw;
            continue;
          }
          const float* a = j.base[s] + y * j.row[s] + x * j.lda[s];
          for (int64_t q = 0; q < j.k[s]; ++q, w += bw)
            for (int64_t o = 0; o < bw; ++o) acc[o] = std::fma(a[q], w[o], acc[o]);
        }
        const float* init = init_of(j, y, x, b * bw);
        float* out = j.out + y * j.out_row + x * j.out_ld + b * bw;
        for (int64_t o = 0; o < bw; ++o) {
          out[o] = epilogue(j, acc[o] + init[o], b * bw + o);
        }
      }
  }
}

}  // namespace

void run_conv_reference(const ConvJob& j, int64_t y0, int64_t y1, int64_t x0, int64_t x1,
                        int64_t b0, int64_t b1) {
  conv_plain(j, y0, y1, x0, x1, b0, b1);
}

#if PARTITA_SIMD_X86
// AVX2+FMA kernels (namespace named after the level, like the AVX-512 ones
// below). A tile is 16 outputs (two ymm) of P = R x PC pixels: PC consecutive
// pixels of R = 1 or 2 output rows. 2P accumulators, 2 weight vectors and a
// broadcast fit the 16 registers with P = 6; a column block of 16 * nb
// outputs takes nb passes (preferred_nb() packs one vector per block at this
// level, so that a pass reads its weights contiguously). On grids narrower
// than 2P (the GAN's 8-pixel-wide layers) a tile takes two rows of 3 pixels
// rather than one row of 4: more products per weight vector loaded. Each
// output gets the same fused multiply-adds in the same order as
// run_conv_reference.
namespace avx2 {
namespace {

// Products of packed rows [q0, q1) of one segment for tile pixels [PB, PE)
// (pixel p is column p % PC of row p / PC; a points at pixel 0's input).
template <int PB, int PE, int PC, int P>
PARTITA_TARGET_AVX2 PARTITA_INLINE_BODY void products16(__m256 (&acc)[P][2], const float* a, int64_t row,
                                                        int64_t lda, const float* w, int64_t bw, int64_t q0,
                                                        int64_t q1) {
  for (int64_t q = q0; q < q1; ++q, w += bw) {
    // the weights one chunk ahead on their way to L1: the next chunk's tiles
    // then read them from cache rather than wait on memory
    _mm_prefetch(reinterpret_cast<const char*>(w + kChunkBytesL1 / sizeof(float)), _MM_HINT_T0);
    const __m256 w0 = _mm256_loadu_ps(w), w1 = _mm256_loadu_ps(w + 8);
#pragma GCC unroll 16
    for (int p = PB; p < PE; ++p) {
      const __m256 av = _mm256_broadcast_ss(a + (p / PC) * row + (p % PC) * lda + q);
      acc[p][0] = _mm256_fmadd_ps(av, w0, acc[p][0]);
      acc[p][1] = _mm256_fmadd_ps(av, w1, acc[p][1]);
    }
  }
}

template <int R, int PC>
PARTITA_TARGET_AVX2 void tile16(const ConvJob& j, const float* wb, int64_t bw, int64_t y, int64_t x,
                                int64_t col, int64_t k0, int64_t k1, float* part, int64_t part_row, bool first,
                                bool last) {
  constexpr int P = R * PC;
  __m256 acc[P][2];
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 16
    for (int h = 0; h < 2; ++h)
      acc[p][h] = first ? _mm256_setzero_ps() : _mm256_loadu_ps(part + (p / PC) * part_row + 16 * (p % PC) + 8 * h);
  int64_t start = 0;  // packed row of segment s's first input float
  for (int s = 0; s < j.nseg; ++s) {
    const int64_t lda = j.lda[s], k = j.k[s];
    const int64_t q0 = std::max<int64_t>(k0 - start, 0), q1 = std::min(k1 - start, k);
    const float* w = wb + (start + q0) * bw;
    start += k;
    if (q0 >= q1) continue;
    const float* a = j.base[s] + y * j.row[s] + x * lda;
    const bool top = j.reads(s, y), bottom = R == 2 && j.reads(s, y + 1);
    if (R == 1 || (top && bottom)) {
      if (R == 1 && !top) continue;
      products16<0, P, PC>(acc, a, j.row[s], lda, w, bw, q0, q1);
    } else if (top) {
      products16<0, PC, PC>(acc, a, j.row[s], lda, w, bw, q0, q1);
    } else if (bottom) {
      products16<PC, P, PC>(acc, a, j.row[s], lda, w, bw, q0, q1);
    }
  }
  if (!last) {
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p)
#pragma GCC unroll 16
      for (int h = 0; h < 2; ++h) _mm256_storeu_ps(part + (p / PC) * part_row + 16 * (p % PC) + 8 * h, acc[p][h]);
    return;
  }
  const __m256 zero = _mm256_setzero_ps(), slope = _mm256_set1_ps(j.slope);
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p) {
    const int64_t yp = y + p / PC, xp = x + p % PC;
    const float* init = init_of(j, yp, xp, col);
    float* out = j.out + yp * j.out_row + xp * j.out_ld + col;
#pragma GCC unroll 16
    for (int h = 0; h < 2; ++h) {
      __m256 r = _mm256_add_ps(acc[p][h], _mm256_loadu_ps(init + 8 * h));
      if (j.relu) r = _mm256_max_ps(r, zero);
      else if (j.leaky) r = _mm256_blendv_ps(r, _mm256_mul_ps(r, slope), _mm256_cmp_ps(r, zero, _CMP_LT_OQ));
      if (j.post_scale)
        r = _mm256_fmadd_ps(r, _mm256_loadu_ps(j.post_scale + col + 8 * h), _mm256_loadu_ps(j.post_shift + col + 8 * h));
      _mm256_storeu_ps(out + 8 * h, r);
    }
  }
}

// A tile of R rows and n <= PC pixels a row.
template <int R, int PC>
PARTITA_TARGET_AVX2 void tail16(const ConvJob& j, const float* wb, int64_t bw, int64_t y, int64_t x,
                                int64_t col, int n, int64_t k0, int64_t k1, float* part, int64_t part_row,
                                bool first, bool last) {
  if constexpr (PC > 0) {
    if (n == PC) tile16<R, PC>(j, wb, bw, y, x, col, k0, k1, part, part_row, first, last);
    else tail16<R, PC - 1>(j, wb, bw, y, x, col, n, k0, k1, part, part_row, first, last);
  }
}

PARTITA_TARGET_AVX2 void rows(const ConvJob& j, int64_t y0, int64_t y1, int64_t x0, int64_t x1,
                              int64_t b0, int64_t b1) {
  constexpr int P = 6;
  const int64_t bw = 16 * j.nb, kt = j.ktot();
  const bool pairs = x1 - x0 < 2 * P;
  for (int64_t b = b0; b < b1; ++b)
    for (int v = 0; v < j.nb; ++v) {
      const float* wb = j.wpack + b * kt * bw + 16 * v;
      const int64_t col = b * bw + 16 * v;
      for_tiles_in_chunks(kt, bw * 4, 1, 16, kChunkBytesL1, pairs ? P / 2 : P, pairs, y0, y1, x0, x1,
                          [&](int64_t y, int64_t x, int rows, int n, int64_t k0, int64_t k1, float* part,
                              int64_t part_row, bool first, bool last) {
                            if (rows == 2) tail16<2, P / 2>(j, wb, bw, y, x, col, n, k0, k1, part, part_row, first, last);
                            else tail16<1, P>(j, wb, bw, y, x, col, n, k0, k1, part, part_row, first, last);
                          });
    }
}

}  // namespace
}  // namespace avx2

// AVX-512 kernels, in a namespace named after their level (the disassembly
// check in scripts/check_portable.sh allows wide code only there).
namespace avx512 {
namespace {

// One tile: P consecutive pixels of one output row, NB vectors of outputs,
// packed rows [k0, k1) (for_tiles_in_chunks). Accumulators start at zero (or
// at the previous chunk's sums), take every segment's products in order (one
// fused multiply-add per input float and vector), then the init vector is
// added: the same operations as run_conv_reference, element by element.
template <int NB, int P>
PARTITA_TARGET_AVX512
void tile(const ConvJob& j, const float* wb, int64_t y, int64_t x, int64_t col, int64_t k0, int64_t k1,
          float* part, bool first, bool last) {
  __m512 acc[P][NB];
  #pragma GCC unroll 16
  for (int p = 0; p < P; ++p)
    #pragma GCC unroll 16
    for (int v = 0; v < NB; ++v)
      acc[p][v] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(part + 16 * (NB * p + v));
  int64_t start = 0;  // packed row of segment s's first input float
  for (int s = 0; s < j.nseg; ++s) {
    const int64_t lda = j.lda[s], k = j.k[s];
    const int64_t q0 = std::max<int64_t>(k0 - start, 0), q1 = std::min(k1 - start, k);
    const float* w = wb + (start + q0) * 16 * NB;
    start += k;
    if (q0 >= q1 || !j.reads(s, y)) continue;
    const float* a = j.base[s] + y * j.row[s] + x * lda;
    for (int64_t q = q0; q < q1; ++q, w += 16 * NB) {
      __m512 wv[NB];
      #pragma GCC unroll 16
      for (int v = 0; v < NB; ++v) wv[v] = _mm512_loadu_ps(w + 16 * v);
      #pragma GCC unroll 16
      for (int p = 0; p < P; ++p) {
        const __m512 av = _mm512_set1_ps(a[p * lda + q]);
        #pragma GCC unroll 16
        for (int v = 0; v < NB; ++v) acc[p][v] = _mm512_fmadd_ps(av, wv[v], acc[p][v]);
      }
    }
  }
  if (!last) {
    #pragma GCC unroll 16
    for (int p = 0; p < P; ++p)
      #pragma GCC unroll 16
      for (int v = 0; v < NB; ++v) _mm512_storeu_ps(part + 16 * (NB * p + v), acc[p][v]);
    return;
  }
  #pragma GCC unroll 16
  for (int p = 0; p < P; ++p) {
    const float* init = init_of(j, y, x + p, col);
    float* out = j.out + y * j.out_row + (x + p) * j.out_ld + col;
    #pragma GCC unroll 16
    for (int v = 0; v < NB; ++v)
      _mm512_storeu_ps(out + 16 * v,
                       epilogue_avx512(j, _mm512_add_ps(acc[p][v], _mm512_loadu_ps(init + 16 * v)), col + 16 * v));
  }
}

template <int NB, int P>
PARTITA_TARGET_AVX512
void tail(const ConvJob& j, const float* wb, int64_t y, int64_t x, int64_t col, int n, int64_t k0, int64_t k1,
          float* part, bool first, bool last) {
  if constexpr (P > 0) {
    if (n == P) tile<NB, P>(j, wb, y, x, col, k0, k1, part, first, last);
    else tail<NB, P - 1>(j, wb, y, x, col, n, k0, k1, part, first, last);
  }
}

template <int NB, int P>
PARTITA_TARGET_AVX512
void rows(const ConvJob& j, int64_t y0, int64_t y1, int64_t x0, int64_t x1, int64_t b0,
          int64_t b1) {
  const int64_t bw = 16 * NB, kt = j.ktot();
  for (int64_t b = b0; b < b1; ++b) {
    const float* wb = j.wpack + b * kt * bw;
    for_tiles_in_chunks(kt, bw * 4, 1, bw, kChunkBytesL2, P, false, y0, y1, x0, x1,
                        [&](int64_t y, int64_t x, int, int n, int64_t k0, int64_t k1, float* part, int64_t,
                            bool first, bool last) { tail<NB, P>(j, wb, y, x, b * bw, n, k0, k1, part, first, last); });
  }
}

}  // namespace
}  // namespace avx512
#endif

int preferred_nb(int64_t cout) { return simd_level() == SimdLevel::Avx512 && cout % 32 == 0 ? 2 : 1; }

bool simd_kernel_available() { return simd_level() >= SimdLevel::Avx2; }

void run_conv(const ConvJob& j, int64_t y0, int64_t y1, int64_t x0, int64_t x1, int64_t b0,
              int64_t b1) {
  if (y0 >= y1 || x0 >= x1 || b0 >= b1) return;
  if (j.nb != 1 && j.nb != 2 && j.nb != 4)
    throw InvalidArgument("infer::run_conv: nb must be 1, 2 or 4, got " + std::to_string(j.nb));
#if PARTITA_SIMD_X86
  switch (simd_level()) {
    case SimdLevel::Avx512:
      if (j.nb == 1) return avx512::rows<1, 16>(j, y0, y1, x0, x1, b0, b1);
      if (j.nb == 2) return avx512::rows<2, 12>(j, y0, y1, x0, x1, b0, b1);
      return avx512::rows<4, 6>(j, y0, y1, x0, x1, b0, b1);
    case SimdLevel::Avx2: return avx2::rows(j, y0, y1, x0, x1, b0, b1);
    case SimdLevel::Generic: break;
  }
#endif
  run_conv_reference(j, y0, y1, x0, x1, b0, b1);
}

std::vector<float> pack_weights(const std::vector<std::vector<float>>& segments, int64_t cout,
                                int nb) {
  const int64_t bw = 16 * nb;
  if (cout % bw != 0) throw InvalidArgument("infer::pack_weights: cout is not a multiple of the block");
  int64_t kt = 0;
  for (const auto& s : segments) {
    if (static_cast<int64_t>(s.size()) % cout != 0)
      throw InvalidArgument("infer::pack_weights: a segment is not k x cout");
    kt += static_cast<int64_t>(s.size()) / cout;
  }
  const int64_t blocks = cout / bw;
  std::vector<float> out(static_cast<size_t>(blocks * kt * bw));
  for (int64_t b = 0; b < blocks; ++b) {
    float* dst = out.data() + b * kt * bw;
    for (const auto& s : segments) {
      const int64_t k = static_cast<int64_t>(s.size()) / cout;
      for (int64_t q = 0; q < k; ++q, dst += bw)
        std::copy_n(s.data() + q * cout + b * bw, bw, dst);
    }
  }
  return out;
}

}  // namespace partita::nn::infer
