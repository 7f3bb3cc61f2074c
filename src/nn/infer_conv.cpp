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
// below). A tile is 16 outputs (two ymm) of P consecutive pixels: 2P
// accumulators, 2 weight vectors and a broadcast fit the 16 registers with
// P = 6; a column block of 16 * nb outputs takes nb passes. Each output gets
// the same fused multiply-adds in the same order as run_conv_reference.
namespace avx2 {
namespace {

template <int P>
PARTITA_TARGET_AVX2 void tile16(const ConvJob& j, const float* wb, int64_t bw, int64_t y,
                                int64_t x, int64_t col) {
  __m256 acc[P][2];
  for (int p = 0; p < P; ++p) acc[p][0] = acc[p][1] = _mm256_setzero_ps();
  const float* w = wb;
  for (int s = 0; s < j.nseg; ++s) {
    const int64_t lda = j.lda[s], k = j.k[s];
    const float* a = j.base[s] + y * j.row[s] + x * lda;
    for (int64_t q = 0; q < k; ++q, w += bw) {
      const __m256 w0 = _mm256_loadu_ps(w), w1 = _mm256_loadu_ps(w + 8);
      for (int p = 0; p < P; ++p) {
        const __m256 av = _mm256_broadcast_ss(a + p * lda + q);
        acc[p][0] = _mm256_fmadd_ps(av, w0, acc[p][0]);
        acc[p][1] = _mm256_fmadd_ps(av, w1, acc[p][1]);
      }
    }
  }
  const __m256 zero = _mm256_setzero_ps(), slope = _mm256_set1_ps(j.slope);
  for (int p = 0; p < P; ++p) {
    const float* init = init_of(j, y, x + p, col);
    float* out = j.out + y * j.out_row + (x + p) * j.out_ld + col;
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

template <int P>
PARTITA_TARGET_AVX2 void tail16(const ConvJob& j, const float* wb, int64_t bw, int64_t y,
                                int64_t x, int64_t col, int n) {
  if constexpr (P > 0) {
    if (n == P) tile16<P>(j, wb, bw, y, x, col);
    else tail16<P - 1>(j, wb, bw, y, x, col, n);
  }
}

PARTITA_TARGET_AVX2 void rows(const ConvJob& j, int64_t y0, int64_t y1, int64_t x0, int64_t x1,
                              int64_t b0, int64_t b1) {
  constexpr int P = 6;
  const int64_t bw = 16 * j.nb, kt = j.ktot();
  for (int64_t b = b0; b < b1; ++b)
    for (int v = 0; v < j.nb; ++v) {
      const float* wb = j.wpack + b * kt * bw + 16 * v;
      const int64_t col = b * bw + 16 * v;
      for (int64_t y = y0; y < y1; ++y)
        for (int64_t x = x0; x < x1;) {
          const int n = next_tile(x1 - x, P);
          if (n == P) tile16<P>(j, wb, bw, y, x, col);
          else tail16<P - 1>(j, wb, bw, y, x, col, n);
          x += n;
        }
    }
}

}  // namespace
}  // namespace avx2

// AVX-512 kernels, in a namespace named after their level (the disassembly
// check in scripts/check_portable.sh allows wide code only there).
namespace avx512 {
namespace {

// One tile: P consecutive pixels of one output row, NB vectors of outputs.
// Accumulators start at zero, take every segment's products in order (one
// fused multiply-add per input float and vector), then the init vector is
// added: the same operations as run_conv_reference, element by element.
template <int NB, int P>
PARTITA_TARGET_AVX512
void tile(const ConvJob& j, const float* wb, int64_t y, int64_t x, int64_t col) {
  __m512 acc[P][NB];
  for (int p = 0; p < P; ++p)
    for (int v = 0; v < NB; ++v) acc[p][v] = _mm512_setzero_ps();
  const float* w = wb;
  for (int s = 0; s < j.nseg; ++s) {
    const int64_t lda = j.lda[s], k = j.k[s];
    const float* a = j.base[s] + y * j.row[s] + x * lda;
    for (int64_t q = 0; q < k; ++q, w += 16 * NB) {
      __m512 wv[NB];
      for (int v = 0; v < NB; ++v) wv[v] = _mm512_loadu_ps(w + 16 * v);
      for (int p = 0; p < P; ++p) {
        const __m512 av = _mm512_set1_ps(a[p * lda + q]);
        for (int v = 0; v < NB; ++v) acc[p][v] = _mm512_fmadd_ps(av, wv[v], acc[p][v]);
      }
    }
  }
  for (int p = 0; p < P; ++p) {
    const float* init = init_of(j, y, x + p, col);
    float* out = j.out + y * j.out_row + (x + p) * j.out_ld + col;
    for (int v = 0; v < NB; ++v)
      _mm512_storeu_ps(out + 16 * v,
                       epilogue_avx512(j, _mm512_add_ps(acc[p][v], _mm512_loadu_ps(init + 16 * v)), col + 16 * v));
  }
}

template <int NB, int P>
PARTITA_TARGET_AVX512
void tail(const ConvJob& j, const float* wb, int64_t y, int64_t x, int64_t col, int n) {
  if constexpr (P > 0) {
    if (n == P) tile<NB, P>(j, wb, y, x, col);
    else tail<NB, P - 1>(j, wb, y, x, col, n);
  }
}

template <int NB, int P>
PARTITA_TARGET_AVX512
void rows(const ConvJob& j, int64_t y0, int64_t y1, int64_t x0, int64_t x1, int64_t b0,
          int64_t b1) {
  const int64_t bw = 16 * NB, kt = j.ktot();
  for (int64_t b = b0; b < b1; ++b) {
    const float* wb = j.wpack + b * kt * bw;
    for (int64_t y = y0; y < y1; ++y) {
      for (int64_t x = x0; x < x1;) {
        const int n = next_tile(x1 - x, P);
        if (n == P) tile<NB, P>(j, wb, y, x, b * bw);
        else tail<NB, P - 1>(j, wb, y, x, b * bw, n);
        x += n;
      }
    }
  }
}

}  // namespace
}  // namespace avx512
#endif

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
