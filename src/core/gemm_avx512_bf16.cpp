// gemm with bfloat16 operands and float32 sums (MatmulPrecision::BFloat16),
// compiled only inside functions targeted at AVX-512 with the BF16 extension
// (PARTITA_TARGET_AVX512_BF16) and called by gemm.cpp only when the CPU has it.
//
// VDPBF16PS multiplies 32 pairs of bfloat16 values and adds each pair's two
// products to one of 16 float32 sums, twice the multiply-adds of a float32
// FMA in one instruction. Both operands are therefore packed as pairs along k:
//  * B, per (KC x NC) block, into column panels of NR = 32: pair q of column j
//    (op(B)(2q, j), op(B)(2q + 1, j)) is 32-bit word j of the panel's row q.
//  * A, per (MC x KC) block: as stored (k along rows), each row converted in
//    order, so pair q of row r is 32-bit word q of the row's copy (a plain
//    conversion, no transpose); transposed, into row tiles of MR = 14
//    where pair q of row r is word r of the tile's row q. The kernel
//    broadcasts that word either way.
// Rounding is to nearest even (VCVTNE2PS2BF16); an odd k is padded with a zero.
// The register tile, the blocking, alpha/beta and the thread split are those
// of the float32 kernel (gemm_avx512.cpp); small products (few rows, short k)
// go to the float32 kernel, where bfloat16 would save little.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "core/gemm_avx512_tile.hpp"
#include "core/gemm_kernels.hpp"
#include "core/simd_target.hpp"

namespace partita::detail {

namespace avx512_bf16 {
namespace {

using avx512_tile::low_mask;

constexpr int kMR = 14;
constexpr int kNR = 32;
constexpr i64 kKC = 512;      // k values per block (256 pairs): a 14-row A tile is 14 KB
constexpr i64 kMC = 14 * 12;  // rows of A packed at once
constexpr i64 kNC = 512;      // columns of B packed at once (512 x 512 bf16 = 512 KB)
// Products this small (or this shallow) stay in float32.
constexpr i64 kMinRows = 57;
constexpr i64 kMinK = 32;
static_assert(kMR == kGemmMR && kNR == kGemmNR, "gemm.cpp splits threads by these tiles");

// 32 floats (lo: 0..15, hi: 16..31) -> 32 bfloat16 in order, as 16 words.
PARTITA_TARGET_AVX512_BF16 inline __m512i to_bf16(__m512 lo, __m512 hi) {
  return (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
}

// x[0..15], y[0..15] -> 16 words (bf16(x[j]), bf16(y[j])).
PARTITA_TARGET_AVX512_BF16 inline __m512i interleave_bf16(__m512 x, __m512 y) {
  alignas(64) static constexpr std::uint16_t kIdx[32] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5,
                                                         21, 6, 22, 7, 23, 8, 24, 9, 25, 10, 26,
                                                         11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
  return _mm512_permutexvar_epi16(_mm512_load_si512(kIdx), to_bf16(x, y));
}

// In-register transpose of 16 x 16 32-bit words: r[i] word j -> r[j] word i.
PARTITA_TARGET_AVX512_BF16 inline void transpose16(__m512i r[16]) {
  __m512 f[16];
  for (int i = 0; i < 16; ++i) f[i] = _mm512_castsi512_ps(r[i]);
  avx512_tile::transpose16(f);
  for (int i = 0; i < 16; ++i) r[i] = _mm512_castps_si512(f[i]);
}

// `count` (<= 16) lines, line i = src + i * ld, each read along its length from
// `at` over 32 values (fewer past `len`): 32 bf16 per line as 16 pair-words,
// transposed so that r[q] word i is pair q of line i. Lines past `count` are 0.
PARTITA_TARGET_AVX512_BF16 inline void load_pairs_transposed(const float* src, i64 ld, int count,
                                                            i64 at, i64 len, __m512i r[16]) {
  const __mmask16 m0 = low_mask(len - at), m1 = low_mask(len - at - 16);
  for (int i = 0; i < 16; ++i) {
    if (i < count) {
      const float* p = src + i * ld + at;
      r[i] = to_bf16(_mm512_maskz_loadu_ps(m0, p), _mm512_maskz_loadu_ps(m1, p + 16));
    } else {
      r[i] = _mm512_setzero_si512();
    }
  }
  transpose16(r);
}

// Packs op(B)(pc .. pc+kc, jc .. jc+nc) into ceil(nc / 32) panels of kp = ceil(kc / 2)
// rows of 32 pair-words (zero past n and past kc).
PARTITA_TARGET_AVX512_BF16
void pack_b(Trans tb, const float* b, i64 ldb, i64 pc, i64 kc, i64 jc, i64 nc, std::uint32_t* dst) {
  const i64 kp = (kc + 1) / 2;
  for (i64 jr = 0; jr < nc; jr += kNR) {
    const i64 nr = std::min<i64>(kNR, nc - jr);
    std::uint32_t* panel = dst + jr * kp;
    if (tb == Trans::No) {
      const float* src = b + pc * ldb + jc + jr;
      const __mmask16 m0 = low_mask(nr), m1 = low_mask(nr - 16);
      for (i64 q = 0; q < kp; ++q) {
        const float* r0 = src + 2 * q * ldb;
        const bool second = 2 * q + 1 < kc;
        const __m512 x0 = _mm512_maskz_loadu_ps(m0, r0), x1 = _mm512_maskz_loadu_ps(m1, r0 + 16);
        const __m512 y0 = second ? _mm512_maskz_loadu_ps(m0, r0 + ldb) : _mm512_setzero_ps();
        const __m512 y1 = second ? _mm512_maskz_loadu_ps(m1, r0 + ldb + 16) : _mm512_setzero_ps();
        _mm512_store_si512(panel + q * kNR, interleave_bf16(x0, y0));
        _mm512_store_si512(panel + q * kNR + 16, interleave_bf16(x1, y1));
      }
    } else {
      // op(B)(p, j) = b[j * ldb + p]: each stored row j is a column of op(B),
      // contiguous along k; 16 of them x 32 values of k are transposed at once.
      const float* src = b + (jc + jr) * ldb + pc;
      for (i64 p0 = 0; p0 < kc; p0 += 32) {
        const i64 qn = std::min<i64>(16, (kc - p0 + 1) / 2);
        for (int half = 0; half < 2; ++half) {
          __m512i r[16];
          const int count = static_cast<int>(std::max<i64>(0, std::min<i64>(16, nr - 16 * half)));
          load_pairs_transposed(src + 16 * half * ldb, ldb, count, p0, kc, r);
          for (i64 q = 0; q < qn; ++q)
            _mm512_store_si512(panel + (p0 / 2 + q) * kNR + 16 * half, r[q]);
        }
      }
    }
  }
}

// A as stored: rows ic .. ic+mc, columns pc .. pc+kc, each converted to kp =
// ceil(kc / 2) pair-words (the last one's second half 0 for an odd kc) at
// dst + r * ldw. Rows past mc are not written (the kernel never reads them).
PARTITA_TARGET_AVX512_BF16
void pack_a_rows(const float* a, i64 lda, i64 ic, i64 mc, i64 pc, i64 kc, std::uint32_t* dst, i64 ldw) {
  for (i64 r = 0; r < mc; ++r) {
    const float* src = a + (ic + r) * lda + pc;
    std::uint32_t* d = dst + r * ldw;
    // rows of an im2col matrix are far apart: fetch the one 4 ahead
    if (r + 4 < mc)
      for (i64 p = 0; p < kc; p += 16) _mm_prefetch(reinterpret_cast<const char*>(src + 4 * lda + p), _MM_HINT_T0);
    i64 p0 = 0;
    for (; p0 + 32 <= kc; p0 += 32)
      _mm512_storeu_si512(d + p0 / 2, to_bf16(_mm512_loadu_ps(src + p0), _mm512_loadu_ps(src + p0 + 16)));
    if (p0 < kc) {
      const __mmask16 m0 = low_mask(kc - p0), m1 = low_mask(kc - p0 - 16);
      const __m512i v = to_bf16(_mm512_maskz_loadu_ps(m0, src + p0), _mm512_maskz_loadu_ps(m1, src + p0 + 16));
      _mm512_mask_storeu_epi32(d + p0 / 2, low_mask((kc - p0 + 1) / 2), v);
    }
  }
}

// op(A) = A^T: rows ic .. ic+mc of op(A), columns pc .. pc+kc, into ceil(mc / 14)
// tiles of kp rows of 14 pair-words (zero past m and past kc). op(A)(r, p) =
// a[p * lda + r]: line p holds the rows side by side, so each pair of lines is
// read once along the block's mc rows (a tile at a time down the lines would
// touch two new lines per pair-word, far apart, and wait on each).
PARTITA_TARGET_AVX512_BF16
void pack_a_tiles(const float* a, i64 lda, i64 ic, i64 mc, i64 pc, i64 kc, std::uint32_t* dst) {
  const i64 kp = (kc + 1) / 2;
  const __mmask16 tile_mask = low_mask(kMR);
  const float* src = a + pc * lda + ic;
  for (i64 q = 0; q < kp; ++q) {
    const float* l0 = src + 2 * q * lda;
    const bool second = 2 * q + 1 < kc;
    if (2 * q + 3 < kc)
      for (i64 r = 0; r < mc; r += 16) {
        _mm_prefetch(reinterpret_cast<const char*>(l0 + 2 * lda + r), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(l0 + 3 * lda + r), _MM_HINT_T0);
      }
    for (i64 ir = 0; ir < mc; ir += kMR) {
      const __mmask16 rows = low_mask(std::min<i64>(kMR, mc - ir));
      const __m512 x = _mm512_maskz_loadu_ps(rows, l0 + ir);
      const __m512 y = second ? _mm512_maskz_loadu_ps(rows, l0 + lda + ir) : _mm512_setzero_ps();
      _mm512_mask_storeu_epi32(dst + ir * kp + q * kMR, tile_mask, interleave_bf16(x, y));
    }
  }
}

// C(0..MR, 0..nr) (+)= alpha * sum_q A(r, q) . panel(q, :), where the pair-word
// A(r, q) is a[r * ldw + q] (kRows: A's rows as converted by pack_a_rows) or
// a[q * 14 + r] (a tile of pack_a_tiles; ldw unused).
template <int MR, bool kRows>
PARTITA_TARGET_AVX512_BF16
void micro_kernel(i64 kp, const std::uint32_t* a, i64 ldw, const std::uint32_t* panel, float* c, i64 ldc,
                  int nr, float alpha, float beta, bool first) {
  __m512 acc0[MR], acc1[MR];
#pragma GCC unroll 14
  for (int r = 0; r < MR; ++r) {
    acc0[r] = _mm512_setzero_ps();
    acc1[r] = _mm512_setzero_ps();
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + 31), _MM_HINT_T0);
  }
#pragma GCC unroll 2
  for (i64 q = 0; q < kp; ++q) {
    const __m512bh b0 = (__m512bh)_mm512_load_si512(panel + q * kNR);
    const __m512bh b1 = (__m512bh)_mm512_load_si512(panel + q * kNR + 16);
#pragma GCC unroll 14
    for (int r = 0; r < MR; ++r) {
      const std::uint32_t word = kRows ? a[r * ldw + q] : a[q * kMR + r];
      const __m512bh av = (__m512bh)_mm512_set1_epi32(static_cast<int>(word));
      acc0[r] = _mm512_dpbf16_ps(acc0[r], av, b0);
      acc1[r] = _mm512_dpbf16_ps(acc1[r], av, b1);
    }
  }
  avx512_tile::store_tile<MR>(acc0, acc1, c, ldc, nr, alpha, beta, first);
}

using KernelFn = void (*)(i64, const std::uint32_t*, i64, const std::uint32_t*, float*, i64, int, float,
                          float, bool);

template <bool kRows, int... Rs>
constexpr auto make_kernel_table(std::integer_sequence<int, Rs...>) {
  return std::array<KernelFn, sizeof...(Rs)>{&micro_kernel<Rs + 1, kRows>...};
}
// [mr - 1]: A as stored (rows) and transposed (tiles).
constexpr std::array<KernelFn, kMR> kKernelsRows =
    make_kernel_table<true>(std::make_integer_sequence<int, kMR>{});
constexpr std::array<KernelFn, kMR> kKernelsTiles =
    make_kernel_table<false>(std::make_integer_sequence<int, kMR>{});

}  // namespace
}  // namespace avx512_bf16

using namespace avx512_bf16;

PARTITA_TARGET_AVX512_BF16
void gemm_serial_avx512_bf16(Trans ta, Trans tb, i64 m, i64 n, i64 k, float alpha, const float* a,
                             i64 lda, const float* b, i64 ldb, float beta, float* c, i64 ldc,
                             i64 rows_of_whole) {
  if (rows_of_whole < kMinRows || k < kMinK) {
    gemm_serial_avx512(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, rows_of_whole);
    return;
  }
  const i64 nc_max = std::min<i64>(kNC, (n + kNR - 1) / kNR * kNR);
  // k blocks of equal depth (a multiple of 32), at most kKC.
  const i64 k_blocks = (k + kKC - 1) / kKC;
  const i64 kc_max = std::min<i64>(kKC, ((k + k_blocks - 1) / k_blocks + 31) / 32 * 32);
  const i64 kp_max = (kc_max + 1) / 2;
  const i64 mc_max = std::min<i64>(kMC, (m + kMR - 1) / kMR * kMR);
  // A as stored: a padded row stride (a line more than whole lines), so that the
  // kernel's 14 rows do not crowd a few L1 sets.
  const bool rows = ta == Trans::No;
  const i64 ldw = (kp_max + 15) / 16 * 16 + 16;
  // The float buffers hold the 32-bit pair words (bit copies, never read as floats).
  auto* packed_b = reinterpret_cast<std::uint32_t*>(gemm_pack_buffer(kp_max * nc_max));
  auto* packed_a = reinterpret_cast<std::uint32_t*>(gemm_a_buffer((rows ? ldw : kp_max) * mc_max));
  const std::array<KernelFn, kMR>& kernels = rows ? kKernelsRows : kKernelsTiles;
  for (i64 jc = 0; jc < n; jc += kNC) {
    const i64 nc = std::min<i64>(kNC, n - jc);
    for (i64 pc = 0; pc < k; pc += kc_max) {
      const i64 kc = std::min<i64>(kc_max, k - pc);
      const i64 kp = (kc + 1) / 2;
      pack_b(tb, b, ldb, pc, kc, jc, nc, packed_b);
      const bool first = pc == 0;
      for (i64 ic = 0; ic < m; ic += kMC) {
        const i64 mc = std::min<i64>(kMC, m - ic);
        if (rows) pack_a_rows(a, lda, ic, mc, pc, kc, packed_a, ldw);
        else pack_a_tiles(a, lda, ic, mc, pc, kc, packed_a);
        for (i64 ir = 0; ir < mc; ir += kMR) {
          const int mr = static_cast<int>(std::min<i64>(kMR, mc - ir));
          const std::uint32_t* ap = rows ? packed_a + ir * ldw : packed_a + ir * kp;
          float* c_row = c + (ic + ir) * ldc + jc;
          for (i64 jr = 0; jr < nc; jr += kNR) {
            const int nr = static_cast<int>(std::min<i64>(kNR, nc - jr));
            kernels[mr - 1](kp, ap, ldw, packed_b + jr * kp, c_row + jr, ldc, nr, alpha, beta, first);
          }
        }
      }
    }
  }
}

}  // namespace partita::detail
