// gemm, AVX-512 level: the packed register-tile product, compiled only inside
// functions targeted at AVX-512 F/BW/DQ/VL (PARTITA_TARGET_AVX512) and called by
// gemm.cpp only when partita::simd_level() is Avx512.
//
// How it works (BLIS-style blocking; measurements and the reasons for each
// choice are in docs/performance.md):
//  * B is packed, per (KC x NC) block, into column panels of NR = 32 floats:
//    panel[p * 32 + j] = op(B)(pc + p, jc + jr + j), zero-padded past n; B^T
//    through an in-register 16 x 16 transpose.
//  * A is NOT packed: the micro-kernel broadcasts op(A)(i, p) straight from the
//    caller's matrix (either layout), prefetching each row ahead and the next
//    tile's rows. With im2col matrices A is usually read once (few column
//    panels), so copying it would cost as much as the product itself when n is
//    small (n = 32..64 in the first U-Net levels). Exception: rows ~4 KB apart
//    alias in L1, and such a block is copied to a padded stride first.
//  * The micro-kernel keeps a 14 x 32 tile of C in 28 zmm registers and does
//    28 FMAs per step of k; with one 512-bit FMA per cycle (Zen 4 double-pumps
//    AVX-512) that is 28 cycles per step for 2 vector loads and 14 broadcasts.
//    Rows past m use a shorter template instance; columns past n use masks.
//  * alpha is applied when a tile is written; beta only on the first k block,
//    later k blocks add. beta == 0 never reads C.
//  * Few rows (m <= 56, A as stored): nothing is packed; B^T with m <= 2 is a
//    set of dot products.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <utility>

#include "core/gemm_avx512_tile.hpp"
#include "core/gemm_kernels.hpp"
#include "core/simd_target.hpp"

namespace partita::detail {

// Named after the level, so that a disassembly shows where wide code may be
// (scripts/check_portable.sh).
namespace avx512 {
namespace {

using namespace avx512_tile;

constexpr int kMR = 14;    // rows of the register tile
constexpr int kNR = 32;    // columns of the register tile (two zmm)
// Cache blocking, chosen by measurement on this machine (Zen 4: 32 KB L1d,
// 1 MB L2 per core; docs/performance.md has the sweep).
constexpr i64 kKC = 384;      // deepest k block; blocks are balanced (k = 500: 2 x 256)
constexpr i64 kMC = 14 * 12;  // rows of A per block (the copied-A block, when copied)
constexpr i64 kNC = 512;      // columns of B packed at once (384 x 512 floats = 768 KB)
constexpr i64 kPrefetchA = 64;  // floats ahead that the kernel prefetches each A row
// Up to these many rows of C nothing is packed (A as stored, measured on the
// Transformer-XL shapes: reading B in place wins up to m = 56, ties at 112;
// dot products beat packing B^T only for m <= 2).
constexpr i64 kDirectMaxM = 56;
constexpr i64 kDotMaxM = 2;
static_assert(kMR == kGemmMR && kNR == kGemmNR && kKC == kGemmKC && kMC == kGemmMC,
              "gemm.cpp splits threads by these tiles");

// Packs op(B)(pc .. pc+kc, jc .. jc+nc) into ceil(nc / 32) panels of kc x 32.
PARTITA_TARGET_AVX512
void pack_b(Trans tb, const float* b, i64 ldb, i64 pc, i64 kc, i64 jc, i64 nc, float* dst) {
  for (i64 jr = 0; jr < nc; jr += kNR) {
    const int nr = static_cast<int>(std::min<i64>(kNR, nc - jr));
    float* panel = dst + jr * kc;
    if (tb == Trans::No) {
      const float* src = b + pc * ldb + jc + jr;
      if (nr == kNR) {
        for (i64 p = 0; p < kc; ++p) {
          _mm512_store_ps(panel + p * kNR, _mm512_loadu_ps(src + p * ldb));
          _mm512_store_ps(panel + p * kNR + 16, _mm512_loadu_ps(src + p * ldb + 16));
        }
      } else {
        const __mmask16 m0 = low_mask(nr), m1 = low_mask(nr - 16);
        for (i64 p = 0; p < kc; ++p) {
          _mm512_store_ps(panel + p * kNR, _mm512_maskz_loadu_ps(m0, src + p * ldb));
          _mm512_store_ps(panel + p * kNR + 16, _mm512_maskz_loadu_ps(m1, src + p * ldb + 16));
        }
      }
    } else {
      // op(B)(p, j) = b[j * ldb + p]: 16 rows of stored B (16 columns of
      // op(B)) x 16 values of p are loaded and transposed in registers.
      const float* src = b + (jc + jr) * ldb + pc;
      for (i64 p0 = 0; p0 < kc; p0 += 16) {
        const int pk = static_cast<int>(std::min<i64>(16, kc - p0));
        const __mmask16 pm = low_mask(pk);
        for (int half = 0; half < 2; ++half) {
          __m512 r[16];
          for (int j = 0; j < 16; ++j) {
            const int col = half * 16 + j;
            r[j] = col < nr ? _mm512_maskz_loadu_ps(pm, src + col * ldb + p0) : _mm512_setzero_ps();
          }
          transpose16(r);
          for (int p = 0; p < pk; ++p) _mm512_store_ps(panel + (p0 + p) * kNR + half * 16, r[p]);
        }
      }
    }
  }
}

// The register tile: C(0..MR, 0..nr) (+)= alpha * sum_p op(A)(r, p) * panel(p, :).
// kATrans: op(A)(r, p) = a[p * lda + r], else a[r * lda + p].
// first: this is the first k block, so C = alpha * acc + beta * C.
template <int MR, bool kATrans>
PARTITA_TARGET_AVX512
void micro_kernel(i64 kc, const float* a, i64 lda, const float* panel, float* c, i64 ldc,
                  int nr, float alpha, float beta, bool first) {
  __m512 acc0[MR], acc1[MR];
#pragma GCC unroll 14
  for (int r = 0; r < MR; ++r) {
    acc0[r] = _mm512_setzero_ps();
    acc1[r] = _mm512_setzero_ps();
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + 31), _MM_HINT_T0);
  }
  if (kATrans) {
#pragma GCC unroll 2
    for (i64 p = 0; p < kc; ++p) {
      const __m512 b0 = _mm512_load_ps(panel + p * kNR);
      const __m512 b1 = _mm512_load_ps(panel + p * kNR + 16);
      const float* ap = a + p * lda;
#pragma GCC unroll 14
      for (int r = 0; r < MR; ++r) {
        const __m512 av = _mm512_set1_ps(ap[r]);
        acc0[r] = _mm512_fmadd_ps(av, b0, acc0[r]);
        acc1[r] = _mm512_fmadd_ps(av, b1, acc1[r]);
      }
    }
  } else {
    // Each row's cache line serves 16 steps of k; in every 16 steps one
    // prefetch per row fetches that row's line kPrefetchA floats ahead.
    i64 p = 0;
    for (; p + 16 <= kc; p += 16) {
#pragma GCC unroll 16
      for (int u = 0; u < 16; ++u) {
        if (u < MR)
          _mm_prefetch(reinterpret_cast<const char*>(a + u * lda + p + kPrefetchA), _MM_HINT_T0);
        // while the first kPrefetchA steps run, fetch the start of the next
        // 14 rows (the next tile down), whose lines the prefetch above skips
        if (u < MR && p < kPrefetchA)
          _mm_prefetch(reinterpret_cast<const char*>(a + (MR + u) * lda + p), _MM_HINT_T0);
        const __m512 b0 = _mm512_load_ps(panel + (p + u) * kNR);
        const __m512 b1 = _mm512_load_ps(panel + (p + u) * kNR + 16);
#pragma GCC unroll 14
        for (int r = 0; r < MR; ++r) {
          const __m512 av = _mm512_set1_ps(a[r * lda + p + u]);
          acc0[r] = _mm512_fmadd_ps(av, b0, acc0[r]);
          acc1[r] = _mm512_fmadd_ps(av, b1, acc1[r]);
        }
      }
    }
    for (; p < kc; ++p) {
      const __m512 b0 = _mm512_load_ps(panel + p * kNR);
      const __m512 b1 = _mm512_load_ps(panel + p * kNR + 16);
#pragma GCC unroll 14
      for (int r = 0; r < MR; ++r) {
        const __m512 av = _mm512_set1_ps(a[r * lda + p]);
        acc0[r] = _mm512_fmadd_ps(av, b0, acc0[r]);
        acc1[r] = _mm512_fmadd_ps(av, b1, acc1[r]);
      }
    }
  }
  store_tile<MR>(acc0, acc1, c, ldc, nr, alpha, beta, first);
}

using KernelFn = void (*)(i64, const float*, i64, const float*, float*, i64, int, float, float,
                          bool);

template <bool kATrans, int... Rs>
constexpr auto make_kernel_table(std::integer_sequence<int, Rs...>) {
  return std::array<KernelFn, sizeof...(Rs)>{&micro_kernel<Rs + 1, kATrans>...};
}

// kernels[t][mr - 1]: t = 0 for A as stored, 1 for A transposed.
constexpr std::array<KernelFn, kMR> kKernelsN =
    make_kernel_table<false>(std::make_integer_sequence<int, kMR>{});
constexpr std::array<KernelFn, kMR> kKernelsT =
    make_kernel_table<true>(std::make_integer_sequence<int, kMR>{});

// ---- Few rows of C (m <= 2 tiles): no packing --------------------------------
// Packing B pays off when its panels serve many row tiles; with m <= 28 (a few
// tokens through a Linear layer, one query in cached generation) it would cost
// more than the product, so these paths read both operands in place.

// C tile (MR x nr), nr <= 16 NV, for op(B) = B as stored: each step loads
// 16 NV floats of one row of B (masked past nr), over the whole k. NV = 2 for
// 4+ rows (the 14 x 32 tile); NV = 8 for 1-3 rows, so that a single row still
// has 8 independent FMA chains to cover the FMA latency.
template <int MR, int NV>
PARTITA_TARGET_AVX512
void direct_b_kernel(i64 k, const float* a, i64 lda, const float* b, i64 ldb, float* c, i64 ldc,
                     int nr, float alpha, float beta) {
  __mmask16 mask[NV];
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) mask[v] = low_mask(nr - 16 * v);
  __m512 acc[MR][NV];
#pragma GCC unroll 14
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();
  for (i64 p = 0; p < k; ++p) {
    _mm_prefetch(reinterpret_cast<const char*>(b + (p + 8) * ldb), _MM_HINT_T0);
    if (NV > 4)
      _mm_prefetch(reinterpret_cast<const char*>(b + (p + 8) * ldb + 64), _MM_HINT_T0);
    __m512 bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_maskz_loadu_ps(mask[v], b + p * ldb + 16 * v);
#pragma GCC unroll 14
    for (int r = 0; r < MR; ++r) {
      const __m512 av = _mm512_set1_ps(a[r * lda + p]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
    }
  }
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 14
  for (int r = 0; r < MR; ++r) {
    float* cr = c + r * ldc;
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      __m512 out = _mm512_mul_ps(va, acc[r][v]);
      if (beta != 0.0f) out = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mask[v], cr + 16 * v), out);
      _mm512_mask_storeu_ps(cr + 16 * v, mask[v], out);
    }
  }
}

template <int... Rs>
constexpr auto make_direct_table(std::integer_sequence<int, Rs...>) {
  using Fn = void (*)(i64, const float*, i64, const float*, i64, float*, i64, int, float, float);
  return std::array<Fn, sizeof...(Rs)>{&direct_b_kernel<Rs + 1, 2>...};
}
constexpr auto kDirectKernels = make_direct_table(std::make_integer_sequence<int, kMR>{});

// C (m x n) for A as stored and B as stored, m small.
PARTITA_TARGET_AVX512
void gemm_direct_b(i64 m, i64 n, i64 k, float alpha, const float* a, i64 lda, const float* b,
                   i64 ldb, float beta, float* c, i64 ldc) {
  if (m <= 3) {  // one short row tile: 128-column panels
    using Fn = void (*)(i64, const float*, i64, const float*, i64, float*, i64, int, float, float);
    static constexpr Fn wide[3] = {&direct_b_kernel<1, 8>, &direct_b_kernel<2, 8>,
                                   &direct_b_kernel<3, 8>};
    for (i64 jr = 0; jr < n; jr += 128)
      wide[m - 1](k, a, lda, b + jr, ldb, c + jr, ldc, static_cast<int>(std::min<i64>(128, n - jr)),
                  alpha, beta);
    return;
  }
  for (i64 jr = 0; jr < n; jr += kNR) {
    const int nr = static_cast<int>(std::min<i64>(kNR, n - jr));
    for (i64 ir = 0; ir < m; ir += kMR) {
      const int mr = static_cast<int>(std::min<i64>(kMR, m - ir));
      kDirectKernels[mr - 1](k, a + ir * lda, lda, b + jr, ldb, c + ir * ldc + jr, ldc, nr, alpha,
                             beta);
    }
  }
}

// R x J dot products C(i, j) = alpha * A_i . B_j + beta * C(i, j) for A as
// stored and op(B) = B^T (rows of both contiguous along k): 16 values of k per
// step into R * J vector accumulators, summed across lanes at the end.
// Sum of the 16 lanes by halving shuffles. (The all-ones masked forms: GCC 12's
// unmasked ones, and _mm512_reduce_add_ps, trip -Wuninitialized in its header.)
PARTITA_TARGET_AVX512 inline float lane_sum(__m512 v) {
  const __mmask16 all = 0xFFFF;
  v = _mm512_add_ps(v, _mm512_mask_shuffle_f32x4(v, all, v, v, 0x4E));
  v = _mm512_add_ps(v, _mm512_mask_shuffle_f32x4(v, all, v, v, 0xB1));
  v = _mm512_add_ps(v, _mm512_mask_permute_ps(v, all, v, 0x4E));
  v = _mm512_add_ps(v, _mm512_mask_permute_ps(v, all, v, 0xB1));
  return _mm512_cvtss_f32(v);
}

template <int R, int J>
PARTITA_TARGET_AVX512
void dot_block(i64 k, const float* a, i64 lda, const float* b, i64 ldb, float* c, i64 ldc,
               float alpha, float beta) {
  __m512 acc[R][J];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int j = 0; j < J; ++j) acc[r][j] = _mm512_setzero_ps();
  i64 p = 0;
  for (; p < k; p += 16) {
    const __mmask16 mk = low_mask(static_cast<int>(std::min<i64>(16, k - p)));
    __m512 bv[J];
#pragma GCC unroll 4
    for (int j = 0; j < J; ++j) bv[j] = _mm512_maskz_loadu_ps(mk, b + j * ldb + p);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m512 av = _mm512_maskz_loadu_ps(mk, a + r * lda + p);
#pragma GCC unroll 4
      for (int j = 0; j < J; ++j) acc[r][j] = _mm512_fmadd_ps(av, bv[j], acc[r][j]);
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int j = 0; j < J; ++j) {
      const float dot = alpha * lane_sum(acc[r][j]);
      float& out = c[r * ldc + j];
      out = beta == 0.0f ? dot : dot + beta * out;
    }
}

// C (m x n) for A as stored and op(B) = B^T, m small: blocks of 4 x 4 dots.
PARTITA_TARGET_AVX512
void gemm_dot(i64 m, i64 n, i64 k, float alpha, const float* a, i64 lda, const float* b, i64 ldb,
              float beta, float* c, i64 ldc) {
  using Fn = void (*)(i64, const float*, i64, const float*, i64, float*, i64, float, float);
  static constexpr Fn wide[4] = {&dot_block<1, 4>, &dot_block<2, 4>, &dot_block<3, 4>,
                                 &dot_block<4, 4>};
  static constexpr Fn narrow[4] = {&dot_block<1, 1>, &dot_block<2, 1>, &dot_block<3, 1>,
                                   &dot_block<4, 1>};
  for (i64 i = 0; i < m; i += 4) {
    const int rows = static_cast<int>(std::min<i64>(4, m - i));
    i64 j = 0;
    for (; j + 4 <= n; j += 4)
      wide[rows - 1](k, a + i * lda, lda, b + j * ldb, ldb, c + i * ldc + j, ldc, alpha, beta);
    for (; j < n; ++j)
      narrow[rows - 1](k, a + i * lda, lda, b + j * ldb, ldb, c + i * ldc + j, ldc, alpha, beta);
  }
}

// True when 14 rows lda floats apart crowd into few L1 sets (32 KB, 8-way,
// 64 sets of 64-byte lines): strides near a multiple of 4 KB, e.g. k = 1024.
PARTITA_TARGET_AVX512 bool rows_alias(i64 lda) {
  int count[64] = {};
  int worst = 0;
  for (int r = 0; r < kMR; ++r) worst = std::max(worst, ++count[(r * lda * 4 / 64) % 64]);
  return worst > 2;
}

// Copies op(A) rows [0, mc) x cols [0, kc) (A as stored, not transposed) into
// dst with row stride ld (a padded stride that maps rows to distinct L1 sets).
PARTITA_TARGET_AVX512
void copy_a_rows(const float* a, i64 lda, i64 mc, i64 kc, float* dst, i64 ld) {
  const __mmask16 tail = low_mask(static_cast<int>(kc % 16));
  for (i64 r = 0; r < mc; ++r) {
    const float* src = a + r * lda;
    float* d = dst + r * ld;
    // rows are far apart (that is why we copy): fetch a row 8 ahead, whose
    // start the hardware prefetcher cannot guess
    if (r + 8 < mc)
      for (i64 p = 0; p < kc; p += 16)
        _mm_prefetch(reinterpret_cast<const char*>(src + 8 * lda + p), _MM_HINT_T0);
    i64 p = 0;
    for (; p + 16 <= kc; p += 16) _mm512_store_ps(d + p, _mm512_loadu_ps(src + p));
    if (p < kc) _mm512_mask_storeu_ps(d + p, tail, _mm512_maskz_loadu_ps(tail, src + p));
  }
}

// The blocked product on one thread. Needs m, n, k > 0.
// rows_of_whole: the m of the whole product, which picks the path, so that a
// row chunk of a threaded product is computed exactly as on one thread.

}  // namespace
}  // namespace avx512

using namespace avx512;

PARTITA_TARGET_AVX512
void gemm_serial_avx512(Trans ta, Trans tb, i64 m, i64 n, i64 k, float alpha, const float* a,
                        i64 lda, const float* b, i64 ldb, float beta, float* c, i64 ldc,
                        i64 rows_of_whole) {
  // A row tile of up to 3 rows cannot crowd L1's sets, whatever its stride: one
  // generated token's products (m = 1) read the weights as stored, never packed.
  if (ta == Trans::No && tb == Trans::No && rows_of_whole <= kDirectMaxM &&
      (rows_of_whole <= 3 || !rows_alias(lda))) {
    gemm_direct_b(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  if (ta == Trans::No && tb == Trans::Yes && rows_of_whole <= kDotMaxM) {
    gemm_dot(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  const bool at = ta == Trans::Yes;
  const std::array<KernelFn, kMR>& kernels = at ? kKernelsT : kKernelsN;
  const i64 nc_max = std::min<i64>(kNC, (n + kNR - 1) / kNR * kNR);
  // k blocks of equal depth (a multiple of 16), at most kKC: k = 500 runs as
  // 2 x 256 rather than 384 + 116, so no pass over C is nearly empty.
  const i64 k_blocks = (k + kKC - 1) / kKC;
  const i64 kc_max = std::min<i64>(k, ((k + k_blocks - 1) / k_blocks + 15) / 16 * 16);
  float* packed = gemm_pack_buffer(kc_max * nc_max);
  // A (as stored) is copied per (MC x KC) block, to a padded stride, when its
  // rows would alias in L1: the kernel reuses each row's cache line over 16
  // steps of k, so 14 lines must stay resident together. A transposed A is
  // read one line per step of k and needs no copy.
  const bool copy_a = !at && rows_alias(lda);
  const i64 ld_copy = (kc_max + 15) / 16 * 16 + 16;  // 17 lines when kc = 256
  float* ablock = copy_a ? gemm_a_buffer(std::min<i64>(kMC, (m + kMR - 1) / kMR * kMR) * ld_copy)
                         : nullptr;
  for (i64 jc = 0; jc < n; jc += kNC) {
    const i64 nc = std::min<i64>(kNC, n - jc);
    for (i64 pc = 0; pc < k; pc += kc_max) {
      const i64 kc = std::min<i64>(kc_max, k - pc);
      pack_b(tb, b, ldb, pc, kc, jc, nc, packed);
      const bool first = pc == 0;
      for (i64 ic = 0; ic < m; ic += kMC) {
        const i64 mc = std::min<i64>(kMC, m - ic);
        // where row `ir` of this block starts, and its stride, for the kernel
        const float* a_base;
        i64 a_ld;
        if (!copy_a) {
          a_base = at ? a + pc * lda + ic : a + ic * lda + pc;
          a_ld = lda;
        } else {
          copy_a_rows(a + ic * lda + pc, lda, mc, kc, ablock, ld_copy);
          a_base = ablock;
          a_ld = ld_copy;
        }
        // Row tiles outer, column panels inner: the 14 rows of A stay in L1
        // while the B panels stream from L2, and C is written row by row.
        for (i64 ir = 0; ir < mc; ir += kMR) {
          const int mr = static_cast<int>(std::min<i64>(kMR, mc - ir));
          const float* ap = at ? a_base + ir : a_base + ir * a_ld;
          float* c_row = c + (ic + ir) * ldc + jc;
          for (i64 jr = 0; jr < nc; jr += kNR) {
            const int nr = static_cast<int>(std::min<i64>(kNR, nc - jr));
            kernels[mr - 1](kc, ap, a_ld, packed + jr * kc, c_row + jr, ldc, nr, alpha, beta,
                            first);
          }
        }
      }
    }
  }
}

}  // namespace partita::detail
