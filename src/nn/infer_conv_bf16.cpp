// Direct convolutions on bfloat16 operands for batch-1 inference (see infer_conv.hpp).
#include <algorithm>
#include <cstring>
#include <string>

#include "core/simd_target.hpp"
#include "nn/infer_conv.hpp"
#include "nn/infer_conv_epilogue.hpp"
#include "partita/core/cpu.hpp"
#include "partita/core/error.hpp"

#if PARTITA_SIMD_X86
#include <immintrin.h>
#endif

namespace partita::nn::infer {

using std::int64_t;

std::uint16_t to_bf16(float v) {
  std::uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  if ((b & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((b >> 16) | 0x40);  // NaN stays NaN
  b += 0x7fffu + ((b >> 16) & 1u);
  return static_cast<std::uint16_t>(b >> 16);
}

float from_bf16(std::uint16_t v) {
  const std::uint32_t b = static_cast<std::uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}

namespace {

inline const float* bias_of(const ConvJobBf16& j, int64_t y, int64_t x, int64_t col) {
  return j.bias_classes + (border_class(y, j.height) * 4 + border_class(x, j.width)) * j.cout + col;
}

}  // namespace

void run_conv_bf16_reference(const ConvJobBf16& j, int64_t y0, int64_t y1, int64_t x0, int64_t x1,
                             int64_t b0, int64_t b1) {
  const int64_t bw = 16 * j.nb, kt = j.ktot();
  for (int64_t b = b0; b < b1; ++b) {
    const std::uint16_t* wb = j.wpack + b * kt * bw;
    for (int64_t y = y0; y < y1; ++y)
      for (int64_t x = x0; x < x1; ++x) {
        float acc[64] = {};
        const std::uint16_t* w = wb;
        for (int s = 0; s < j.nseg; ++s) {
          if (!j.reads(s, y)) {
            w += j.k[s] * bw;
            continue;
          }
          const std::uint16_t* a = j.base[s] + y * j.row[s] + x * j.lda[s];
          for (int64_t q = 0; q < j.k[s]; q += 2, w += 2 * bw) {
            const float a0 = from_bf16(a[q]), a1 = from_bf16(a[q + 1]);
            for (int64_t o = 0; o < bw; ++o)
              acc[o] += a0 * from_bf16(w[2 * o]) + a1 * from_bf16(w[2 * o + 1]);
          }
        }
        const float* bias = bias_of(j, y, x, b * bw);
        for (int64_t o = 0; o < bw; ++o) {
          const float v = epilogue(j, acc[o] + bias[o], b * bw + o);
          const int64_t at = y * j.out_row + x * j.out_ld + b * bw + o;
          if (j.out16) j.out16[at] = to_bf16(v);
          else j.out32[at] = v;
        }
      }
  }
}

#if PARTITA_SIMD_X86
namespace avx512_bf16 {
namespace {

// P consecutive pixels of one output row, NB vectors of 16 outputs, packed
// rows [k0, k1) (pairs; for_tiles_in_chunks).
template <int NB, int P>
PARTITA_TARGET_AVX512_BF16 void tile(const ConvJobBf16& j, const std::uint16_t* wb, int64_t y, int64_t x,
                                     int64_t col, int64_t k0, int64_t k1, float* part, bool first, bool last) {
  __m512 acc[P][NB];
  #pragma GCC unroll 16
  for (int p = 0; p < P; ++p)
    #pragma GCC unroll 16
    for (int v = 0; v < NB; ++v)
      acc[p][v] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(part + 16 * (NB * p + v));
  int64_t start = 0;  // packed row of segment s's first input word
  for (int s = 0; s < j.nseg; ++s) {
    const int64_t lda = j.lda[s], k = j.k[s];
    const int64_t q0 = std::max<int64_t>(k0 - start, 0), q1 = std::min(k1 - start, k);
    const std::uint16_t* w = wb + (start + q0) * 16 * NB;
    start += k;
    if (q0 >= q1 || !j.reads(s, y)) continue;
    const std::uint16_t* a = j.base[s] + y * j.row[s] + x * lda;
    for (int64_t q = q0; q < q1; q += 2, w += 32 * NB) {
      __m512bh wv[NB];
      #pragma GCC unroll 16
      for (int v = 0; v < NB; ++v) wv[v] = (__m512bh)_mm512_loadu_si512(w + 32 * v);
      #pragma GCC unroll 16
      for (int p = 0; p < P; ++p) {
        std::int32_t pair;
        std::memcpy(&pair, a + p * lda + q, sizeof pair);
        const __m512bh av = (__m512bh)_mm512_set1_epi32(pair);
        #pragma GCC unroll 16
        for (int v = 0; v < NB; ++v) acc[p][v] = _mm512_dpbf16_ps(acc[p][v], av, wv[v]);
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
    const float* bias = bias_of(j, y, x + p, col);
    const int64_t at = y * j.out_row + (x + p) * j.out_ld + col;
    #pragma GCC unroll 16
    for (int v = 0; v < NB; ++v) {
      const __m512 r =
          epilogue_avx512(j, _mm512_add_ps(acc[p][v], _mm512_loadu_ps(bias + 16 * v)), col + 16 * v);
      if (j.out16) _mm256_storeu_si256(reinterpret_cast<__m256i*>(j.out16 + at + 16 * v), (__m256i)_mm512_cvtneps_pbh(r));
      else _mm512_storeu_ps(j.out32 + at + 16 * v, r);
    }
  }
}

template <int NB, int P>
PARTITA_TARGET_AVX512_BF16 void tail(const ConvJobBf16& j, const std::uint16_t* wb, int64_t y, int64_t x,
                                     int64_t col, int n, int64_t k0, int64_t k1, float* part, bool first,
                                     bool last) {
  if constexpr (P > 0) {
    if (n == P) tile<NB, P>(j, wb, y, x, col, k0, k1, part, first, last);
    else tail<NB, P - 1>(j, wb, y, x, col, n, k0, k1, part, first, last);
  }
}

template <int NB, int P>
PARTITA_TARGET_AVX512_BF16 void rows(const ConvJobBf16& j, int64_t y0, int64_t y1, int64_t x0, int64_t x1,
                                     int64_t b0, int64_t b1) {
  const int64_t bw = 16 * NB, kt = j.ktot();
  for (int64_t b = b0; b < b1; ++b) {
    const std::uint16_t* wb = j.wpack + b * kt * bw;
    for_tiles_in_chunks(kt, bw * 2, 2, bw, kChunkBytesL2, P, false, y0, y1, x0, x1,
                        [&](int64_t y, int64_t x, int, int n, int64_t k0, int64_t k1, float* part, int64_t,
                            bool first, bool last) { tail<NB, P>(j, wb, y, x, b * bw, n, k0, k1, part, first, last); });
  }
}

}  // namespace
}  // namespace avx512_bf16
#endif

bool bf16_kernel_available() {
#if PARTITA_SIMD_X86
  return simd_level() == SimdLevel::Avx512 && cpu_has_avx512_bf16();
#else
  return false;
#endif
}

void run_conv_bf16(const ConvJobBf16& j, int64_t y0, int64_t y1, int64_t x0, int64_t x1, int64_t b0,
                   int64_t b1) {
  if (y0 >= y1 || x0 >= x1 || b0 >= b1) return;
  if (j.nb != 1 && j.nb != 2 && j.nb != 4)
    throw InvalidArgument("infer::run_conv_bf16: nb must be 1, 2 or 4, got " + std::to_string(j.nb));
  if (!bf16_kernel_available())
    throw InvalidArgument("infer::run_conv_bf16: needs AVX512_BF16 and the avx512 level in use");
#if PARTITA_SIMD_X86
  if (j.nb == 1) return avx512_bf16::rows<1, 16>(j, y0, y1, x0, x1, b0, b1);
  if (j.nb == 2) return avx512_bf16::rows<2, 12>(j, y0, y1, x0, x1, b0, b1);
  return avx512_bf16::rows<4, 6>(j, y0, y1, x0, x1, b0, b1);
#endif
}

std::vector<std::uint16_t> pack_weights_bf16(const std::vector<float>& packed, int64_t ktot, int64_t cout, int nb) {
  const int64_t bw = 16 * nb;
  if (ktot % 2 != 0 || cout % bw != 0 || static_cast<int64_t>(packed.size()) != ktot * cout)
    throw InvalidArgument("infer::pack_weights_bf16: expected ktot even and a ktot x cout float pack");
  std::vector<std::uint16_t> out(packed.size());
  for (int64_t b = 0; b < cout / bw; ++b) {
    const float* src = packed.data() + b * ktot * bw;
    std::uint16_t* dst = out.data() + b * ktot * bw;
    for (int64_t q = 0; q < ktot; q += 2)
      for (int64_t o = 0; o < bw; ++o) {
        dst[q * bw + 2 * o] = to_bf16(src[q * bw + o]);
        dst[q * bw + 2 * o + 1] = to_bf16(src[(q + 1) * bw + o]);
      }
  }
  return out;
}

}  // namespace partita::nn::infer
