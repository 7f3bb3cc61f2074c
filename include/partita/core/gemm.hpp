// Matrix products for every layer: C = alpha * op(A) * op(B) + beta * C.
//
// Row-major, float32, BLAS-style leading dimensions. `gemm` is the fast path
// used by the layers (threaded with OpenMP over partita::num_threads());
// `gemm_reference` is the plain triple loop the fast one is tested against.
#pragma once
#include <cstdint>

namespace partita {

enum class Trans { No, Yes };

/// C (m x n) = alpha * op(A) (m x k) * op(B) (k x n) + beta * C; row-major.
/// lda/ldb/ldc are row strides of A, B, C as stored (before op).
/// beta == 0 overwrites C without reading it (NaNs in C are ignored).
/// k == 0 (or alpha == 0) gives C = beta * C. Negative sizes, null pointers
/// with non-empty operands, or leading dimensions shorter than a row throw
/// InvalidArgument. Threaded over partita::num_threads() unless called from
/// inside an OpenMP parallel region (then it runs on the calling thread).
/// The fast path is a register-tile kernel for the SIMD level in use
/// (partita/core/cpu.hpp: AVX-512, AVX2+FMA or plain C++; src/core/gemm_*.cpp).
void gemm(Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
          const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta,
          float* c, std::int64_t ldc);

/// `batch` independent products of one shape: C_i = alpha * op(A_i) op(B_i) + beta * C_i
/// with X_i = x + i * stride_x (a stride may be 0 to share an operand). With at
/// least as many products as threads, threads take whole products (the attention
/// heads); with fewer, or few big ones that do not divide evenly, each product is
/// threaded as in `gemm`. Runs on the calling thread inside a parallel region.
void gemm_batched(Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
                  const float* a, std::int64_t lda, std::int64_t stride_a, const float* b,
                  std::int64_t ldb, std::int64_t stride_b, float beta, float* c, std::int64_t ldc,
                  std::int64_t stride_c, std::int64_t batch);

/// Reference implementation (double accumulation, single thread).
void gemm_reference(Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k,
                    float alpha, const float* a, std::int64_t lda, const float* b,
                    std::int64_t ldb, float beta, float* c, std::int64_t ldc);

}  // namespace partita
