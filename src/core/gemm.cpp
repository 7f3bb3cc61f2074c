// gemm: the matrix product under every layer, a packed AVX-512 kernel with
// cache blocking and OpenMP, beside the plain reference loop it is tested against.
//
// C (m x n) = alpha * op(A) (m x k) * op(B) (k x n) + beta * C, row-major.
//
// How the fast path works (BLIS-style blocking, see docs/performance.md):
//  * B is packed, per (KC x NC) block, into column panels of NR = 32 floats:
//    panel[p * 32 + j] = op(B)(pc + p, jc + jr + j), zero-padded past n. A panel
//    (KC x 32 floats, 16 KB) stays in L1 while the kernel sweeps down the rows.
//  * A is NOT packed: the micro-kernel broadcasts op(A)(i, p) straight from the
//    caller's matrix (either layout). With im2col matrices A is usually read once
//    (few column panels), so copying it would cost as much as the product itself
//    when n is small (n = 32..64 in the first U-Net levels).
//  * The micro-kernel keeps a 14 x 32 tile of C in 28 zmm registers and does
//    28 FMAs per step of k; with one 512-bit FMA per cycle (Zen 4 double-pumps
//    AVX-512) that is 28 cycles per step for 2 vector loads and 14 broadcasts.
//    Rows past m use a shorter template instance; columns past n use masks.
//  * alpha is applied when a tile is written; beta only on the first k block,
//    later k blocks add. beta == 0 never reads C.
//  * Threads: C is split along m (or n when m is short) into one contiguous part
//    per thread; each thread runs the serial blocked product on its part with its
//    own thread-local packing buffer (grown once, never freed in the hot path).
//    When m and n are both small but k is long (weight gradients of the first
//    layers), k is split instead and the partial products are summed.
#include "partita/core/gemm.hpp"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <new>
#include <string>
#include <utility>

#include "partita/core/error.hpp"
#include "partita/core/threads.hpp"

namespace partita {

namespace {

using i64 = std::int64_t;

constexpr int kMR = 14;    // rows of the register tile
constexpr int kNR = 32;    // columns of the register tile (two zmm)
constexpr i64 kKC = 256;   // k block: a packed B panel is kKC * 32 * 4 = 32 KB
constexpr i64 kMC = 14 * 12;  // rows of A swept per B panel (A block ~170 KB in L2)
constexpr i64 kNC = 512;   // columns of B packed at once (kKC * kNC * 4 = 512 KB)

// A float buffer, 64-byte aligned, that grows and never shrinks: one per thread
// for packed B and one for k-split partial sums.
class GrowBuffer {
 public:
  GrowBuffer() = default;
  GrowBuffer(const GrowBuffer&) = delete;
  GrowBuffer& operator=(const GrowBuffer&) = delete;
  ~GrowBuffer() { std::free(data_); }
  float* get(i64 count) {
    if (count > capacity_) {
      std::free(data_);
      data_ = nullptr;
      capacity_ = 0;
      const std::size_t bytes = (static_cast<std::size_t>(count) * sizeof(float) + 63) / 64 * 64;
      data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!data_) throw std::bad_alloc();
      capacity_ = count;
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  i64 capacity_ = 0;
};

GrowBuffer& pack_buffer() {
  static thread_local GrowBuffer buf;
  return buf;
}
GrowBuffer& partial_buffer() {
  static thread_local GrowBuffer buf;
  return buf;
}

inline __mmask16 low_mask(int count) {
  if (count >= 16) return static_cast<__mmask16>(0xFFFF);
  if (count <= 0) return 0;
  return static_cast<__mmask16>((1u << count) - 1u);
}

// Packs op(B)(pc .. pc+kc, jc .. jc+nc) into ceil(nc / 32) panels of kc x 32.
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
      // op(B)(p, j) = b[j * ldb + p]: transpose 16 x 16 blocks through a small
      // scratch tile, rows of B (columns of op(B)) read contiguously.
      const float* src = b + (jc + jr) * ldb + pc;
      for (i64 p0 = 0; p0 < kc; p0 += 16) {
        const int pk = static_cast<int>(std::min<i64>(16, kc - p0));
        const __mmask16 pm = low_mask(pk);
        for (int half = 0; half < 2; ++half) {
          alignas(64) float tile[16][16];
          for (int j = 0; j < 16; ++j) {
            const int col = half * 16 + j;
            __m512 row = col < nr ? _mm512_maskz_loadu_ps(pm, src + col * ldb + p0)
                                  : _mm512_setzero_ps();
            _mm512_store_ps(tile[j], row);
          }
          for (int p = 0; p < pk; ++p) {
            // gather column p of the scratch tile (stride 16 floats)
            const __m512i idx = _mm512_set_epi32(240, 224, 208, 192, 176, 160, 144, 128, 112,
                                                 96, 80, 64, 48, 32, 16, 0);
            __m512 col = _mm512_i32gather_ps(_mm512_add_epi32(idx, _mm512_set1_epi32(p)),
                                             &tile[0][0], 4);
            _mm512_store_ps(panel + (p0 + p) * kNR + half * 16, col);
          }
        }
      }
    }
  }
}

// The register tile: C(0..MR, 0..nr) (+)= alpha * sum_p op(A)(r, p) * panel(p, :).
// kATrans: op(A)(r, p) = a[p * lda + r], else a[r * lda + p].
// first: this is the first k block, so C = alpha * acc + beta * C.
template <int MR, bool kATrans>
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
    // Rows addressed from three bases so the broadcasts use base + index*scale
    // addressing instead of 14 row pointers (there are only 16 integer registers).
    const float* a0 = a;
    const float* a5 = a + 5 * lda;
    const float* a10 = a + 10 * lda;
#pragma GCC unroll 2
    for (i64 p = 0; p < kc; ++p) {
      const __m512 b0 = _mm512_load_ps(panel + p * kNR);
      const __m512 b1 = _mm512_load_ps(panel + p * kNR + 16);
#pragma GCC unroll 14
      for (int r = 0; r < MR; ++r) {
        const float* base = r < 5 ? a0 + r * lda : r < 10 ? a5 + (r - 5) * lda : a10 + (r - 10) * lda;
        const __m512 av = _mm512_set1_ps(base[p]);
        acc0[r] = _mm512_fmadd_ps(av, b0, acc0[r]);
        acc1[r] = _mm512_fmadd_ps(av, b1, acc1[r]);
      }
    }
  }
  const __m512 va = _mm512_set1_ps(alpha);
  const __m512 vb = _mm512_set1_ps(beta);
  if (nr == kNR) {
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
  } else {
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
}

using KernelFn = void (*)(i64, const float*, i64, const float*, float*, i64, int, float, float,
                          bool);

template <bool kATrans, int... Rs>
constexpr auto make_kernel_table(std::integer_sequence<int, Rs...>) {
  return std::array<KernelFn, sizeof...(Rs)>{&micro_kernel<Rs + 1, kATrans>...};
}

// kernels[t][mr - 1]: t = 0 for A as stored, 1 for A transposed.
const std::array<KernelFn, kMR> kKernelsN =
    make_kernel_table<false>(std::make_integer_sequence<int, kMR>{});
const std::array<KernelFn, kMR> kKernelsT =
    make_kernel_table<true>(std::make_integer_sequence<int, kMR>{});

// The blocked product on one thread. Needs m, n, k > 0.
void gemm_serial(Trans ta, Trans tb, i64 m, i64 n, i64 k, float alpha, const float* a, i64 lda,
                 const float* b, i64 ldb, float beta, float* c, i64 ldc) {
  const std::array<KernelFn, kMR>& kernels = ta == Trans::No ? kKernelsN : kKernelsT;
  const i64 nc_max = std::min<i64>(kNC, (n + kNR - 1) / kNR * kNR);
  float* packed = pack_buffer().get(std::min<i64>(kKC, k) * nc_max);
  for (i64 jc = 0; jc < n; jc += kNC) {
    const i64 nc = std::min<i64>(kNC, n - jc);
    for (i64 pc = 0; pc < k; pc += kKC) {
      const i64 kc = std::min<i64>(kKC, k - pc);
      pack_b(tb, b, ldb, pc, kc, jc, nc, packed);
      const bool first = pc == 0;
      for (i64 ic = 0; ic < m; ic += kMC) {
        const i64 mc = std::min<i64>(kMC, m - ic);
        for (i64 jr = 0; jr < nc; jr += kNR) {
          const int nr = static_cast<int>(std::min<i64>(kNR, nc - jr));
          const float* panel = packed + jr * kc;
          for (i64 ir = 0; ir < mc; ir += kMR) {
            const int mr = static_cast<int>(std::min<i64>(kMR, mc - ir));
            const i64 row = ic + ir;
            const float* ap = ta == Trans::No ? a + row * lda + pc : a + pc * lda + row;
            kernels[mr - 1](kc, ap, lda, panel, c + row * ldc + jc + jr, ldc, nr, alpha, beta,
                            first);
          }
        }
      }
    }
  }
}

// C = beta * C (the k == 0 case); beta == 0 writes zeros without reading C.
void scale_c(i64 m, i64 n, float beta, float* c, i64 ldc) {
  for (i64 i = 0; i < m; ++i) {
    float* row = c + i * ldc;
    if (beta == 0.0f)
      std::fill(row, row + n, 0.0f);
    else
      for (i64 j = 0; j < n; ++j) row[j] *= beta;
  }
}

void check_args(const char* fn, Trans ta, Trans tb, i64 m, i64 n, i64 k, const float* a,
                i64 lda, const float* b, i64 ldb, const float* c, i64 ldc) {
  auto fail = [fn](const std::string& what) { throw InvalidArgument(std::string(fn) + ": " + what); };
  if (m < 0 || n < 0 || k < 0)
    fail("negative size m=" + std::to_string(m) + " n=" + std::to_string(n) +
         " k=" + std::to_string(k));
  if (m == 0 || n == 0) return;
  if (!c) fail("C is null");
  if (m > 1 && ldc < n) fail("ldc=" + std::to_string(ldc) + " < n=" + std::to_string(n));
  if (k == 0) return;
  if (!a || !b) fail("A or B is null");
  const i64 a_rows = ta == Trans::No ? m : k, a_cols = ta == Trans::No ? k : m;
  const i64 b_rows = tb == Trans::No ? k : n, b_cols = tb == Trans::No ? n : k;
  if (a_rows > 1 && lda < a_cols)
    fail("lda=" + std::to_string(lda) + " < " + std::to_string(a_cols) + " columns of A");
  if (b_rows > 1 && ldb < b_cols)
    fail("ldb=" + std::to_string(ldb) + " < " + std::to_string(b_cols) + " columns of B");
}

// Products below this many flops run on the calling thread: waking a team
// costs a few microseconds.
constexpr double kParallelMinFlops = 4.0e6;

}  // namespace

void gemm(Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
          const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta,
          float* c, std::int64_t ldc) {
  check_args("gemm", ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == 0.0f) {
    scale_c(m, n, beta, c, ldc);
    return;
  }
  int nt = omp_in_parallel() ? 1 : num_threads();
  if (2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) <
      kParallelMinFlops)
    nt = 1;
  // Which dimension to split: m when each thread gets a few row tiles, else n
  // when each gets a few column panels, else k when it is long.
  enum class Split { None, M, N, K } split = Split::None;
  if (nt > 1) {
    if (m >= static_cast<i64>(nt) * 4 * kMR) split = Split::M;
    else if (n >= static_cast<i64>(nt) * 2 * kNR) split = Split::N;
    else if (k >= static_cast<i64>(nt) * 2 * kKC) split = Split::K;
    else if (m >= static_cast<i64>(nt) * kMR) split = Split::M;
  }
  if (split == Split::None) {
    gemm_serial(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  if (split == Split::M || split == Split::N) {
    const i64 total = split == Split::M ? m : n;
    const i64 unit = split == Split::M ? kMR : kNR;
    const i64 units = (total + unit - 1) / unit;
#pragma omp parallel num_threads(nt)
    {
      const i64 t = omp_get_thread_num(), team = omp_get_num_threads();
      const i64 lo = std::min(total, units * t / team * unit);
      const i64 hi = std::min(total, units * (t + 1) / team * unit);
      if (hi > lo) {
        if (split == Split::M) {
          const float* ap = ta == Trans::No ? a + lo * lda : a + lo;
          gemm_serial(ta, tb, hi - lo, n, k, alpha, ap, lda, b, ldb, beta, c + lo * ldc, ldc);
        } else {
          const float* bp = tb == Trans::No ? b + lo : b + lo * ldb;
          gemm_serial(ta, tb, m, hi - lo, k, alpha, a, lda, bp, ldb, beta, c + lo, ldc);
        }
      }
    }
    return;
  }
  // Split::K: thread 0 writes alpha * A0 B0 + beta * C into C; thread t > 0
  // writes alpha * At Bt into its own buffer; then the buffers are added to C.
  float* partials[64] = {};
  nt = std::min(nt, 64);
  const i64 kblocks = (k + kKC - 1) / kKC;
#pragma omp parallel num_threads(nt)
  {
    const i64 t = omp_get_thread_num(), team = omp_get_num_threads();
    const i64 lo = std::min(k, kblocks * t / team * kKC);
    const i64 hi = std::min(k, kblocks * (t + 1) / team * kKC);
    const float* ap = ta == Trans::No ? a + lo : a + lo * lda;
    const float* bp = tb == Trans::No ? b + lo * ldb : b + lo;
    if (t == 0) {
      if (hi > lo) gemm_serial(ta, tb, m, n, hi - lo, alpha, ap, lda, bp, ldb, beta, c, ldc);
      else scale_c(m, n, beta, c, ldc);
    } else {
      float* part = partial_buffer().get(m * n);
      partials[t] = part;
      if (hi > lo) gemm_serial(ta, tb, m, n, hi - lo, alpha, ap, lda, bp, ldb, 0.0f, part, n);
      else std::fill(part, part + m * n, 0.0f);
    }
#pragma omp barrier
    // add the partial sums into C, rows split over the team
    const i64 r0 = m * t / team, r1 = m * (t + 1) / team;
    for (i64 s = 1; s < team; ++s)
      for (i64 i = r0; i < r1; ++i) {
        const float* src = partials[s] + i * n;
        float* dst = c + i * ldc;
        for (i64 j = 0; j < n; ++j) dst[j] += src[j];
      }
  }
}

void gemm_batched(Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
                  const float* a, std::int64_t lda, std::int64_t stride_a, const float* b,
                  std::int64_t ldb, std::int64_t stride_b, float beta, float* c, std::int64_t ldc,
                  std::int64_t stride_c, std::int64_t batch) {
  if (batch < 0) throw InvalidArgument("gemm_batched: negative batch " + std::to_string(batch));
  if (batch == 0) return;
  check_args("gemm_batched", ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
  if (m == 0 || n == 0) return;
  const int nt = omp_in_parallel() ? 1 : num_threads();
  if (nt == 1 || batch < nt) {
    for (i64 i = 0; i < batch; ++i)
      gemm(ta, tb, m, n, k, alpha, a + i * stride_a, lda, b + i * stride_b, ldb, beta,
           c + i * stride_c, ldc);
    return;
  }
#pragma omp parallel for num_threads(nt) schedule(static)
  for (i64 i = 0; i < batch; ++i) {
    float* ci = c + i * stride_c;
    if (k == 0 || alpha == 0.0f)
      scale_c(m, n, beta, ci, ldc);
    else
      gemm_serial(ta, tb, m, n, k, alpha, a + i * stride_a, lda, b + i * stride_b, ldb, beta, ci,
                  ldc);
  }
}

void gemm_reference(Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k,
                    float alpha, const float* a, std::int64_t lda, const float* b,
                    std::int64_t ldb, float beta, float* c, std::int64_t ldc) {
  check_args("gemm_reference", ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double acc = 0.0;
      for (std::int64_t p = 0; p < k; ++p) {
        float av = ta == Trans::No ? a[i * lda + p] : a[p * lda + i];
        float bv = tb == Trans::No ? b[p * ldb + j] : b[j * ldb + p];
        acc += static_cast<double>(av) * bv;
      }
      float prev = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
      c[i * ldc + j] = static_cast<float>(alpha * acc) + prev;
    }
}

}  // namespace partita
