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
void gemm(Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
          const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta,
          float* c, std::int64_t ldc);

/// Reference implementation (double accumulation, single thread).
void gemm_reference(Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k,
                    float alpha, const float* a, std::int64_t lda, const float* b,
                    std::int64_t ldb, float beta, float* c, std::int64_t ldc);

}  // namespace partita
