// gemm, AVX2+FMA level: a packed register-tile product for CPUs without
// AVX-512 (most laptops and desktops before 2022, and current Intel client
// parts). Every function here is targeted at AVX2+FMA (PARTITA_TARGET_AVX2) and
// gemm.cpp calls it only when partita::simd_level() is Avx2.
//
// The same scheme as the AVX-512 kernel (gemm_avx512.cpp), scaled to 16 ymm
// registers: B is packed per (KC x NC) block into panels of 16 columns; A is
// broadcast straight from the caller's matrix (either layout); the micro-kernel
// keeps a 6 x 16 tile of C in 12 registers (12 FMAs per step of k for 2 loads
// and 6 broadcasts). alpha is applied when a tile is written, beta on the first
// k block only, and beta == 0 never reads C.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <utility>

#include "core/gemm_kernels.hpp"
#include "core/simd_target.hpp"

namespace partita::detail {

// Named after the level, so that a disassembly shows where wide code may be
// (scripts/check_portable.sh).
namespace avx2 {
namespace {

constexpr int kMR = 6;
constexpr int kNR = 16;
constexpr i64 kKC = 256;
constexpr i64 kNC = 512;  // 256 x 512 floats = 512 KB of packed B

// op(B)(pc .. pc+kc, jc .. jc+nc) into ceil(nc / 16) panels of kc x 16,
// zero-padded past nc.
PARTITA_TARGET_AVX2 void pack_b(Trans tb, const float* b, i64 ldb, i64 pc, i64 kc, i64 jc,
                                i64 nc, float* dst) {
  for (i64 jr = 0; jr < nc; jr += kNR) {
    const int nr = static_cast<int>(std::min<i64>(kNR, nc - jr));
    float* panel = dst + jr * kc;
    if (tb == Trans::No) {
      const float* src = b + pc * ldb + jc + jr;
      if (nr == kNR) {
        for (i64 p = 0; p < kc; ++p) {
          _mm256_store_ps(panel + p * kNR, _mm256_loadu_ps(src + p * ldb));
          _mm256_store_ps(panel + p * kNR + 8, _mm256_loadu_ps(src + p * ldb + 8));
        }
      } else {
        for (i64 p = 0; p < kc; ++p)
          for (int j = 0; j < kNR; ++j) panel[p * kNR + j] = j < nr ? src[p * ldb + j] : 0.0f;
      }
    } else {
      // op(B)(p, j) = b[j * ldb + p]: read each stored row along p.
      const float* src = b + (jc + jr) * ldb + pc;
      for (int j = 0; j < kNR; ++j) {
        if (j < nr)
          for (i64 p = 0; p < kc; ++p) panel[p * kNR + j] = src[j * ldb + p];
        else
          for (i64 p = 0; p < kc; ++p) panel[p * kNR + j] = 0.0f;
      }
    }
  }
}

// C(0..MR, 0..nr) (+)= alpha * sum_p op(A)(r, p) * panel(p, :).
// kATrans: op(A)(r, p) = a[p * lda + r], else a[r * lda + p].
// first: the first k block, so C = alpha * acc + beta * C; later blocks add.
template <int MR, bool kATrans>
PARTITA_TARGET_AVX2 void micro_kernel(i64 kc, const float* a, i64 lda, const float* panel,
                                      float* c, i64 ldc, int nr, float alpha, float beta,
                                      bool first) {
  __m256 acc0[MR], acc1[MR];
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) {
    acc0[r] = _mm256_setzero_ps();
    acc1[r] = _mm256_setzero_ps();
  }
#pragma GCC unroll 4
  for (i64 p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_load_ps(panel + p * kNR);
    const __m256 b1 = _mm256_load_ps(panel + p * kNR + 8);
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
      const __m256 av = _mm256_broadcast_ss(kATrans ? a + p * lda + r : a + r * lda + p);
      acc0[r] = _mm256_fmadd_ps(av, b0, acc0[r]);
      acc1[r] = _mm256_fmadd_ps(av, b1, acc1[r]);
    }
  }
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) {
    float* cr = c + r * ldc;
    const __m256 v0 = _mm256_mul_ps(va, acc0[r]);
    const __m256 v1 = _mm256_mul_ps(va, acc1[r]);
    if (nr == kNR) {
      __m256 o0 = v0, o1 = v1;
      if (!first) {
        o0 = _mm256_add_ps(v0, _mm256_loadu_ps(cr));
        o1 = _mm256_add_ps(v1, _mm256_loadu_ps(cr + 8));
      } else if (beta != 0.0f) {
        o0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr), v0);
        o1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr + 8), v1);
      }
      _mm256_storeu_ps(cr, o0);
      _mm256_storeu_ps(cr + 8, o1);
    } else {
      alignas(32) float tile[kNR];
      _mm256_store_ps(tile, v0);
      _mm256_store_ps(tile + 8, v1);
      for (int j = 0; j < nr; ++j) {
        if (!first) cr[j] = tile[j] + cr[j];
        else if (beta != 0.0f) cr[j] = beta * cr[j] + tile[j];
        else cr[j] = tile[j];
      }
    }
  }
}

using KernelFn = void (*)(i64, const float*, i64, const float*, float*, i64, int, float, float,
                          bool);

template <bool kATrans, int... Rs>
constexpr std::array<KernelFn, sizeof...(Rs)> make_table(std::integer_sequence<int, Rs...>) {
  return {&micro_kernel<Rs + 1, kATrans>...};
}
constexpr std::array<KernelFn, kMR> kKernelsN =
    make_table<false>(std::make_integer_sequence<int, kMR>{});
constexpr std::array<KernelFn, kMR> kKernelsT =
    make_table<true>(std::make_integer_sequence<int, kMR>{});

}  // namespace
}  // namespace avx2

using namespace avx2;

PARTITA_TARGET_AVX2 void gemm_serial_avx2(Trans ta, Trans tb, i64 m, i64 n, i64 k, float alpha,
                                          const float* a, i64 lda, const float* b, i64 ldb,
                                          float beta, float* c, i64 ldc, i64 /*rows_of_whole*/) {
  const bool at = ta == Trans::Yes;
  const std::array<KernelFn, kMR>& kernels = at ? kKernelsT : kKernelsN;
  const i64 nc_max = std::min<i64>(kNC, (n + kNR - 1) / kNR * kNR);
  // k blocks of equal depth (k = 300 runs as 2 x 152, not 256 + 44)
  const i64 k_blocks = (k + kKC - 1) / kKC;
  const i64 kc_max = std::min<i64>(k, ((k + k_blocks - 1) / k_blocks + 7) / 8 * 8);
  float* packed = gemm_pack_buffer(kc_max * nc_max);
  for (i64 jc = 0; jc < n; jc += kNC) {
    const i64 nc = std::min<i64>(kNC, n - jc);
    for (i64 pc = 0; pc < k; pc += kc_max) {
      const i64 kc = std::min<i64>(kc_max, k - pc);
      pack_b(tb, b, ldb, pc, kc, jc, nc, packed);
      const bool first = pc == 0;
      const float* a_base = at ? a + pc * lda : a + pc;
      for (i64 ir = 0; ir < m; ir += kMR) {
        const int mr = static_cast<int>(std::min<i64>(kMR, m - ir));
        const float* ap = at ? a_base + ir : a_base + ir * lda;
        float* c_row = c + ir * ldc + jc;
        for (i64 jr = 0; jr < nc; jr += kNR) {
          const int nr = static_cast<int>(std::min<i64>(kNR, nc - jr));
          kernels[mr - 1](kc, ap, lda, packed + jr * kc, c_row + jr, ldc, nr, alpha, beta, first);
        }
      }
    }
  }
}

}  // namespace partita::detail
