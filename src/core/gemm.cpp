// gemm: the matrix product under every layer. This file checks arguments,
// splits the work over OpenMP threads and hands each piece to the serial
// product of the SIMD level in use (partita/core/cpu.hpp): the packed AVX-512
// kernel (gemm_avx512.cpp), the AVX2+FMA one (gemm_avx2.cpp) or plain C++
// (gemm_generic.cpp). The plain reference loop the fast ones are tested against
// is here too.
//
// C (m x n) = alpha * op(A) (m x k) * op(B) (k x n) + beta * C, row-major.
//
// Threads: C is split along n (when n >= m) or m into chunks of whole tiles,
// about 8 per thread, taken first come first served; each chunk runs the serial
// blocked product with the thread's own packing buffer (grown once, never freed
// in the hot path). When m and n are both small but k is long (weight
// gradients of the first layers), k is split and the partial products are
// summed. The split depends only on the shape and the thread count, never on
// the SIMD level.
#include "partita/core/gemm.hpp"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>
#include <string>

#include "core/gemm_kernels.hpp"
#include "partita/core/cpu.hpp"
#include "partita/core/error.hpp"
#include "partita/core/threads.hpp"

namespace partita {

namespace detail {

namespace {

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
GrowBuffer& a_buffer() {
  static thread_local GrowBuffer buf;
  return buf;
}
GrowBuffer& partial_buffer() {
  static thread_local GrowBuffer buf;
  return buf;
}

}  // namespace

float* gemm_pack_buffer(i64 count) { return pack_buffer().get(count); }
float* gemm_a_buffer(i64 count) { return a_buffer().get(count); }

}  // namespace detail

namespace {

using detail::i64;
constexpr int kMR = detail::kGemmMR;
constexpr int kNR = detail::kGemmNR;
constexpr i64 kKC = detail::kGemmKC;
constexpr i64 kMC = detail::kGemmMC;

// -1: not read from the environment yet; else a MatmulPrecision.
std::atomic<int> g_precision{-1};

MatmulPrecision startup_precision() {
  const char* env = std::getenv("PARTITA_MATMUL_PRECISION");
  if (!env || !*env) return MatmulPrecision::Float32;
  try {
    return parse_matmul_precision(env);
  } catch (const InvalidArgument&) {
    // first asked for inside kernels, where an exception cannot propagate
    std::fprintf(stderr, "partita: PARTITA_MATMUL_PRECISION='%s' is not float32 or bfloat16; using float32\n",
                 env);
    return MatmulPrecision::Float32;
  }
}

// The serial product of the level in use (read per call: tests switch levels).
detail::GemmSerialFn serial_product() {
  switch (simd_level()) {
    case SimdLevel::Avx512:
      return bf16_matmul_active() ? &detail::gemm_serial_avx512_bf16 : &detail::gemm_serial_avx512;
    case SimdLevel::Avx2: return &detail::gemm_serial_avx2;
    case SimdLevel::Generic: break;
  }
  return &detail::gemm_serial_generic;
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

// Runs body(thread, team) on an OpenMP team of nt threads. An exception must
// not leave a parallel region, so the first one thrown is rethrown here.
template <class Body>
void parallel_run(int nt, Body&& body) {
  std::exception_ptr error;
#pragma omp parallel num_threads(nt)
  {
    try {
      body(static_cast<i64>(omp_get_thread_num()), static_cast<i64>(omp_get_num_threads()));
    } catch (...) {
#pragma omp critical(partita_gemm_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

// Products below this many flops run on the calling thread: waking a team
// costs a few microseconds.
constexpr double kParallelMinFlops = 4.0e6;

}  // namespace

void set_matmul_precision(MatmulPrecision p) {
  if (p != MatmulPrecision::Float32 && p != MatmulPrecision::BFloat16)
    throw InvalidArgument("set_matmul_precision: unknown precision " + std::to_string(static_cast<int>(p)));
  g_precision.store(static_cast<int>(p), std::memory_order_relaxed);
}

MatmulPrecision matmul_precision() {
  int p = g_precision.load(std::memory_order_relaxed);
  if (p == -1) {
    int expected = -1;
    g_precision.compare_exchange_strong(expected, static_cast<int>(startup_precision()));
    p = g_precision.load(std::memory_order_relaxed);
  }
  return static_cast<MatmulPrecision>(p);
}

bool bf16_matmul_active() {
  return matmul_precision() == MatmulPrecision::BFloat16 && simd_level() == SimdLevel::Avx512 &&
         cpu_has_avx512_bf16();
}

const char* matmul_precision_name(MatmulPrecision p) {
  return p == MatmulPrecision::BFloat16 ? "bfloat16" : "float32";
}

MatmulPrecision parse_matmul_precision(const std::string& name) {
  std::string s;
  for (char ch : name) s += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (s == "float32" || s == "fp32" || s == "f32") return MatmulPrecision::Float32;
  if (s == "bfloat16" || s == "bf16") return MatmulPrecision::BFloat16;
  throw InvalidArgument("parse_matmul_precision: '" + name + "' is not float32 or bfloat16");
}

void gemm(Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
          const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta,
          float* c, std::int64_t ldc) {
  check_args("gemm", ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == 0.0f) {
    scale_c(m, n, beta, c, ldc);
    return;
  }
  const detail::GemmSerialFn serial = serial_product();
  int nt = omp_in_parallel() ? 1 : num_threads();
  if (2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) <
      kParallelMinFlops)
    nt = 1;
  // Which dimension to split: m when each thread gets a few row tiles, else n
  // when each gets a few column panels, else k when it is long.
  enum class Split { None, M, N, K } split = Split::None;
  if (nt > 1) {
    // Splitting n halves each thread's B packing; splitting m makes every
    // thread pack all of B. So split n when it is the longer side.
    if (n >= m && n >= static_cast<i64>(nt) * 2 * kNR) split = Split::N;
    else if (m >= static_cast<i64>(nt) * 4 * kMR) split = Split::M;
    else if (n >= static_cast<i64>(nt) * 2 * kNR) split = Split::N;
    else if (k >= static_cast<i64>(nt) * 2 * kKC) split = Split::K;
    else if (m >= static_cast<i64>(nt) * kMR) split = Split::M;
  }
  if (split == Split::None) {
    serial(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, m);
    return;
  }
  if (split == Split::M || split == Split::N) {
    // Chunks of whole tiles, about 8 per thread, handed out first come first
    // served: on a shared machine a descheduled thread's share is taken over
    // by the other instead of the whole product waiting for it. Each chunk
    // packs its own B (all of B for a row chunk: < 1 % of the work at these
    // chunk sizes); the chunk boundaries depend only on the shape and thread
    // count, so results do too.
    const i64 total = split == Split::M ? m : n;
    const i64 unit = split == Split::M ? kMR : kNR;
    const i64 min_chunk = split == Split::M ? kMC : 4 * kNR;
    i64 chunk = (total + 8 * nt - 1) / (8 * nt);
    chunk = std::max(min_chunk, (chunk + unit - 1) / unit * unit);
    const i64 chunks = (total + chunk - 1) / chunk;
    std::atomic<i64> next{0};
    parallel_run(nt, [&](i64, i64) {
      for (i64 id = next.fetch_add(1); id < chunks; id = next.fetch_add(1)) {
        const i64 lo = id * chunk, hi = std::min(total, lo + chunk);
        if (split == Split::M) {
          const float* ap = ta == Trans::No ? a + lo * lda : a + lo;
          serial(ta, tb, hi - lo, n, k, alpha, ap, lda, b, ldb, beta, c + lo * ldc, ldc, m);
        } else {
          const float* bp = tb == Trans::No ? b + lo : b + lo * ldb;
          serial(ta, tb, m, hi - lo, k, alpha, a, lda, bp, ldb, beta, c + lo, ldc, m);
        }
      }
    });
    return;
  }
  // Split::K: thread 0 computes alpha * A0 B0 + beta * C into C; thread t > 0
  // computes alpha * At Bt into its slice of one scratch buffer (allocated
  // here, before the team starts); after a barrier the slices are added to C,
  // rows split over the team.
  const i64 kblocks = (k + kKC - 1) / kKC;
  float* partials = detail::partial_buffer().get(static_cast<i64>(nt - 1) * m * n);
  std::exception_ptr error;
#pragma omp parallel num_threads(nt)
  {
    const i64 t = omp_get_thread_num(), team = omp_get_num_threads();
    try {
      const i64 lo = std::min(k, kblocks * t / team * kKC);
      const i64 hi = std::min(k, kblocks * (t + 1) / team * kKC);
      const float* ap = ta == Trans::No ? a + lo : a + lo * lda;
      const float* bp = tb == Trans::No ? b + lo * ldb : b + lo;
      if (t == 0) {
        if (hi > lo) serial(ta, tb, m, n, hi - lo, alpha, ap, lda, bp, ldb, beta, c, ldc, m);
        else scale_c(m, n, beta, c, ldc);
      } else {
        float* part = partials + (t - 1) * m * n;
        if (hi > lo) serial(ta, tb, m, n, hi - lo, alpha, ap, lda, bp, ldb, 0.0f, part, n, m);
        else std::fill(part, part + m * n, 0.0f);
      }
    } catch (...) {
#pragma omp critical(partita_gemm_error)
      if (!error) error = std::current_exception();
    }
#pragma omp barrier
    const i64 r0 = m * t / team, r1 = m * (t + 1) / team;
    for (i64 s = 1; s < team; ++s)
      for (i64 i = r0; i < r1; ++i) {
        const float* src = partials + (s - 1) * m * n + i * n;
        float* dst = c + i * ldc;
        for (i64 j = 0; j < n; ++j) dst[j] += src[j];
      }
  }
  if (error) std::rethrow_exception(error);
}

void gemm_batched(Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
                  const float* a, std::int64_t lda, std::int64_t stride_a, const float* b,
                  std::int64_t ldb, std::int64_t stride_b, float beta, float* c, std::int64_t ldc,
                  std::int64_t stride_c, std::int64_t batch) {
  if (batch < 0) throw InvalidArgument("gemm_batched: negative batch " + std::to_string(batch));
  if (batch == 0) return;
  check_args("gemm_batched", ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
  if (m == 0 || n == 0) return;
  const detail::GemmSerialFn serial = serial_product();
  const int nt = omp_in_parallel() ? 1 : num_threads();
  // Whole products per thread, unless all of them together are too small to
  // be worth a team, or there are few of them, they do not divide evenly and
  // each is big enough to thread on its own (3 big products on 2 threads: 2 + 1).
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  if (nt == 1 || batch < nt || flops * static_cast<double>(batch) < kParallelMinFlops ||
      (batch < 4 * nt && batch % nt != 0 && flops >= 8 * kParallelMinFlops)) {
    for (i64 i = 0; i < batch; ++i)
      gemm(ta, tb, m, n, k, alpha, a + i * stride_a, lda, b + i * stride_b, ldb, beta,
           c + i * stride_c, ldc);
    return;
  }
  std::atomic<i64> next{0};  // products handed out first come first served
  parallel_run(nt, [&](i64, i64) {
    for (i64 i = next.fetch_add(1); i < batch; i = next.fetch_add(1)) {
      float* ci = c + i * stride_c;
      if (k == 0 || alpha == 0.0f)
        scale_c(m, n, beta, ci, ldc);
      else
        serial(ta, tb, m, n, k, alpha, a + i * stride_a, lda, b + i * stride_b, ldb, beta,
                    ci, ldc, m);
    }
  });
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
