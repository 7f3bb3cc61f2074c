// The single-thread blocked products behind partita::gemm, one per SIMD level.
//
// gemm.cpp checks arguments, splits the work over threads and calls the
// serial product of the level partita::simd_level() names; each level lives in
// its own file (gemm_avx512.cpp, gemm_avx2.cpp, gemm_generic.cpp) so that the
// wide kernels are compiled only inside functions targeted at their level.
#pragma once
#include <cstdint>

#include "partita/core/gemm.hpp"

namespace partita::detail {

using i64 = std::int64_t;

// Tile sizes the thread split rounds to (those of the AVX-512 kernel; the
// others' tiles divide or nearly divide them, which is all the split needs).
constexpr int kGemmMR = 14;
constexpr int kGemmNR = 32;
constexpr i64 kGemmKC = 384;
constexpr i64 kGemmMC = 14 * 12;

/// C (m x n) = alpha * op(A) op(B) + beta * C on the calling thread; m, n, k > 0.
/// rows_of_whole: the m of the whole (threaded) product, which picks the path,
/// so that a row chunk is computed exactly as on one thread.
using GemmSerialFn = void (*)(Trans ta, Trans tb, i64 m, i64 n, i64 k, float alpha,
                              const float* a, i64 lda, const float* b, i64 ldb, float beta,
                              float* c, i64 ldc, i64 rows_of_whole);

void gemm_serial_avx512(Trans ta, Trans tb, i64 m, i64 n, i64 k, float alpha, const float* a,
                        i64 lda, const float* b, i64 ldb, float beta, float* c, i64 ldc,
                        i64 rows_of_whole);
void gemm_serial_avx2(Trans ta, Trans tb, i64 m, i64 n, i64 k, float alpha, const float* a,
                      i64 lda, const float* b, i64 ldb, float beta, float* c, i64 ldc,
                      i64 rows_of_whole);
/// bfloat16 operands, float32 sums (MatmulPrecision::BFloat16; needs AVX512_BF16).
/// Products with few rows or a short k go to gemm_serial_avx512.
void gemm_serial_avx512_bf16(Trans ta, Trans tb, i64 m, i64 n, i64 k, float alpha, const float* a,
                             i64 lda, const float* b, i64 ldb, float beta, float* c, i64 ldc,
                             i64 rows_of_whole);
void gemm_serial_generic(Trans ta, Trans tb, i64 m, i64 n, i64 k, float alpha, const float* a,
                         i64 lda, const float* b, i64 ldb, float beta, float* c, i64 ldc,
                         i64 rows_of_whole);

/// Per-thread 64-byte aligned scratch that grows and never shrinks (compiled
/// once, for every level): packed B, a copied block of A.
float* gemm_pack_buffer(i64 count);
float* gemm_a_buffer(i64 count);

}  // namespace partita::detail
