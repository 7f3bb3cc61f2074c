// Pieces shared by the AVX-512 products (gemm_avx512.cpp, float32, and
// gemm_avx512_bf16.cpp, bfloat16 operands): masks, the 16 x 16 in-register
// transpose and the write of a 14 x 32 register tile to C. Compiled for
// AVX-512 F/BW/DQ/VL and inlined into each caller (whose target is that or a
// superset of it).
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "core/simd_target.hpp"

namespace partita::detail::avx512_tile {

/// The low `count` lanes of 16 (none for count <= 0, all for count >= 16).
PARTITA_TARGET_AVX512 PARTITA_INLINE_BODY __mmask16 low_mask(std::int64_t count) {
  if (count >= 16) return static_cast<__mmask16>(0xFFFF);
  if (count <= 0) return 0;
  return static_cast<__mmask16>((1u << count) - 1u);
}

// In-register transpose of a 16 x 16 block: r[i][j] -> r[j][i]. Three stages:
// interleave pairs of rows (32-bit), then pairs of pairs (64-bit), which leaves
// lane L of r[4g + c] holding column 4L + c of rows 4g..4g+3; then gather the
// four 128-bit lanes of each column across the four row groups.
PARTITA_TARGET_AVX512 PARTITA_INLINE_BODY void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int g = 0; g < 4; ++g) {
    const __m512d t0 = _mm512_castps_pd(t[4 * g]), t1 = _mm512_castps_pd(t[4 * g + 1]);
    const __m512d t2 = _mm512_castps_pd(t[4 * g + 2]), t3 = _mm512_castps_pd(t[4 * g + 3]);
    r[4 * g + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
    r[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
    r[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
    r[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
  }
  __m512 out[16];
  for (int c = 0; c < 4; ++c) {
    const __m512 a = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88);
    const __m512 b = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xDD);
    const __m512 d = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
    const __m512 e = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xDD);
    out[c] = _mm512_shuffle_f32x4(a, d, 0x88);
    out[8 + c] = _mm512_shuffle_f32x4(a, d, 0xDD);
    out[4 + c] = _mm512_shuffle_f32x4(b, e, 0x88);
    out[12 + c] = _mm512_shuffle_f32x4(b, e, 0xDD);
  }
  for (int i = 0; i < 16; ++i) r[i] = out[i];
}

// C(0..MR, 0..nr) = alpha * acc + (first ? beta * C : C), nr <= 32 columns as
// two vectors per row (acc0: columns 0..15, acc1: 16..31). beta == 0 on the
// first k block never reads C; columns past nr are neither read nor written.
template <int MR>
PARTITA_TARGET_AVX512 PARTITA_INLINE_BODY void store_tile(const __m512 (&acc0)[MR], const __m512 (&acc1)[MR], float* c,
                                             std::int64_t ldc, int nr, float alpha, float beta, bool first) {
  const __m512 va = _mm512_set1_ps(alpha);
  const __m512 vb = _mm512_set1_ps(beta);
  if (nr == 32) {
#pragma GCC unroll 14
    for (int r = 0; r < MR; ++r) {
      float* cr = c + r * ldc;
      __m512 v0 = _mm512_mul_ps(va, acc0[r]);
      __m512 v1 = _mm512_mul_ps(va, acc1[r]);
      if (!first) {
        v0 = _mm512_add_ps(v0, _mm512_loadu_ps(cr));
        v1 = _mm512_add_ps(v1, _mm512_loadu_ps(cr + 16));
      } else if (beta != 0.0f) {
        v0 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(cr), v0);
        v1 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(cr + 16), v1);
      }
      _mm512_storeu_ps(cr, v0);
      _mm512_storeu_ps(cr + 16, v1);
    }
    return;
  }
  const __mmask16 m0 = low_mask(nr), m1 = low_mask(nr - 16);
#pragma GCC unroll 14
  for (int r = 0; r < MR; ++r) {
    float* cr = c + r * ldc;
    __m512 v0 = _mm512_mul_ps(va, acc0[r]);
    __m512 v1 = _mm512_mul_ps(va, acc1[r]);
    if (!first) {
      v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, cr));
      v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, cr + 16));
    } else if (beta != 0.0f) {
      v0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, cr), v0);
      v1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, cr + 16), v1);
    }
    _mm512_mask_storeu_ps(cr, m0, v0);
    _mm512_mask_storeu_ps(cr + 16, m1, v1);
  }
}

}  // namespace partita::detail::avx512_tile
