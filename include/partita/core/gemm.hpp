// Matrix products for every layer: C = alpha * op(A) * op(B) + beta * C.
//
// Row-major, float32, BLAS-style leading dimensions. `gemm` is the fast path
// used by the layers (threaded with OpenMP over partita::num_threads());
// `gemm_reference` is the plain triple loop the fast one is tested against.
#pragma once
#include <cstdint>
#include <string>

namespace partita {

enum class Trans { No, Yes };

/// How `gemm` may compute its float32 products.
enum class MatmulPrecision {
  /// float32 multiplies and sums (the default).
  Float32,
  /// Operands rounded to bfloat16 (8 significant bits, round to nearest even),
  /// each product exact and summed in float32: twice the multiply-adds per
  /// instruction on CPUs with AVX512_BF16 (AMD Zen 4 and later, Intel Cooper
  /// Lake and Sapphire Rapids and later), with a relative error per operand of
  /// at most 2^-9. Elsewhere, or below the AVX-512 level, products stay float32.
  /// Small products (up to 56 rows of C, or k < 32) stay float32 too.
  BFloat16,
};

/// Use `p` for every product from now on (process-wide, like set_num_threads;
/// not meant to be changed while other threads run products). Also set by the
/// environment variable PARTITA_MATMUL_PRECISION=float32|bfloat16, read at the
/// first query.
void set_matmul_precision(MatmulPrecision p);
/// The precision asked for (which may not be in use: see bf16_matmul_active).
MatmulPrecision matmul_precision();
/// True when products run in bfloat16 now: BFloat16 asked for, the SIMD level
/// is AVX-512 and the CPU has AVX512_BF16.
bool bf16_matmul_active();
/// "float32" or "bfloat16".
const char* matmul_precision_name(MatmulPrecision p);
/// Parses "float32" / "fp32" / "bfloat16" / "bf16" (case-insensitive); InvalidArgument otherwise.
MatmulPrecision parse_matmul_precision(const std::string& name);

/// Sets a precision for its scope and restores the previous one.
class MatmulPrecisionScope {
 public:
  explicit MatmulPrecisionScope(MatmulPrecision p) : saved_(matmul_precision()) { set_matmul_precision(p); }
  ~MatmulPrecisionScope() { set_matmul_precision(saved_); }
  MatmulPrecisionScope(const MatmulPrecisionScope&) = delete;
  MatmulPrecisionScope& operator=(const MatmulPrecisionScope&) = delete;

 private:
  MatmulPrecision saved_;
};

/// C (m x n) = alpha * op(A) (m x k) * op(B) (k x n) + beta * C; row-major.
/// lda/ldb/ldc are row strides of A, B, C as stored (before op).
/// beta == 0 overwrites C without reading it (NaNs in C are ignored).
/// k == 0 (or alpha == 0) gives C = beta * C. Negative sizes, null pointers
/// with non-empty operands, or leading dimensions shorter than a row throw
/// InvalidArgument. Threaded over partita::num_threads() unless called from
/// inside an OpenMP parallel region (then it runs on the calling thread).
/// The fast path is a register-tile kernel for the SIMD level in use
/// (partita/core/cpu.hpp: AVX-512, AVX2+FMA or plain C++; src/core/gemm_*.cpp),
/// in bfloat16 with float32 sums when matmul_precision() is BFloat16 and the
/// CPU has it (src/core/gemm_avx512_bf16.cpp).
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
