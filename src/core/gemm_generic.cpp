// gemm, generic level: plain C++ for any CPU (x86-64 without AVX2, or a level
// forced with PARTITA_SIMD=generic). Compiled with the baseline flags only;
// the compiler vectorises the inner loops with what the baseline has (SSE2 on
// x86-64).
//
// op(B) is copied per (KC x NC) block into a dense row-major block; four rows
// of C at a time accumulate, for each step of k, a_ip * (row p of the block)
// into four row buffers that stay in L1, then alpha and beta are applied.
#include <algorithm>

#include "core/gemm_kernels.hpp"

namespace partita::detail {

namespace {

constexpr i64 kKC = 256;
constexpr i64 kNC = 128;  // 256 x 128 floats = 128 KB of B; 4 x 128 accumulators
constexpr int kRows = 4;

void pack_b(Trans tb, const float* b, i64 ldb, i64 pc, i64 kc, i64 jc, i64 nc, float* dst) {
  for (i64 p = 0; p < kc; ++p) {
    float* row = dst + p * nc;
    if (tb == Trans::No) {
      const float* src = b + (pc + p) * ldb + jc;
      std::copy(src, src + nc, row);
    } else {
      for (i64 j = 0; j < nc; ++j) row[j] = b[(jc + j) * ldb + pc + p];
    }
  }
}

// acc[r][0..nc) = sum_p op(A)(r, p) * block(p, :) for R rows.
template <int R>
void rows_times_block(bool at, const float* a, i64 lda, const float* block, i64 kc, i64 nc,
                      float (&acc)[kRows][kNC]) {
  for (int r = 0; r < R; ++r) std::fill(acc[r], acc[r] + nc, 0.0f);
  for (i64 p = 0; p < kc; ++p) {
    float av[kRows];
    for (int r = 0; r < R; ++r) av[r] = at ? a[p * lda + r] : a[r * lda + p];
    const float* __restrict bp = block + p * nc;
    for (int r = 0; r < R; ++r) {
      float* __restrict out = acc[r];
      const float s = av[r];
      for (i64 j = 0; j < nc; ++j) out[j] += s * bp[j];
    }
  }
}

}  // namespace

void gemm_serial_generic(Trans ta, Trans tb, i64 m, i64 n, i64 k, float alpha, const float* a,
                         i64 lda, const float* b, i64 ldb, float beta, float* c, i64 ldc,
                         i64 /*rows_of_whole*/) {
  const bool at = ta == Trans::Yes;
  const i64 kc_max = std::min(k, kKC);
  float* block = gemm_pack_buffer(kc_max * kNC);
  alignas(64) float acc[kRows][kNC];
  for (i64 jc = 0; jc < n; jc += kNC) {
    const i64 nc = std::min(kNC, n - jc);
    for (i64 pc = 0; pc < k; pc += kKC) {
      const i64 kc = std::min(kKC, k - pc);
      pack_b(tb, b, ldb, pc, kc, jc, nc, block);
      const bool first = pc == 0;
      for (i64 i = 0; i < m; i += kRows) {
        const int rows = static_cast<int>(std::min<i64>(kRows, m - i));
        const float* ap = at ? a + pc * lda + i : a + i * lda + pc;
        switch (rows) {
          case 4: rows_times_block<4>(at, ap, lda, block, kc, nc, acc); break;
          case 3: rows_times_block<3>(at, ap, lda, block, kc, nc, acc); break;
          case 2: rows_times_block<2>(at, ap, lda, block, kc, nc, acc); break;
          default: rows_times_block<1>(at, ap, lda, block, kc, nc, acc); break;
        }
        for (int r = 0; r < rows; ++r) {
          float* cr = c + (i + r) * ldc + jc;
          for (i64 j = 0; j < nc; ++j) {
            const float v = alpha * acc[r][j];
            if (!first) cr[j] += v;
            else cr[j] = beta == 0.0f ? v : v + beta * cr[j];
          }
        }
      }
    }
  }
}

}  // namespace partita::detail
