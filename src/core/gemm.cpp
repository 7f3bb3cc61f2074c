// gemm: Eigen-backed fast path and a plain reference loop.
#include "partita/core/gemm.hpp"

#include <Eigen/Core>

namespace partita {

namespace {
using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Stride = Eigen::OuterStride<>;
using ConstMap = Eigen::Map<const RowMat, Eigen::Unaligned, Stride>;
using Map = Eigen::Map<RowMat, Eigen::Unaligned, Stride>;
}  // namespace

void gemm(Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
          const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta,
          float* c, std::int64_t ldc) {
  if (m == 0 || n == 0) return;
  Map C(c, m, n, Stride(ldc));
  if (k == 0) {
    if (beta == 0.0f) C.setZero(); else C *= beta;
    return;
  }
  ConstMap A(a, ta == Trans::No ? m : k, ta == Trans::No ? k : m, Stride(lda));
  ConstMap B(b, tb == Trans::No ? k : n, tb == Trans::No ? n : k, Stride(ldb));
  if (beta == 0.0f) C.setZero();
  else if (beta != 1.0f) C *= beta;
  if (ta == Trans::No && tb == Trans::No) C.noalias() += alpha * A * B;
  else if (ta == Trans::No) C.noalias() += alpha * A * B.transpose();
  else if (tb == Trans::No) C.noalias() += alpha * A.transpose() * B;
  else C.noalias() += alpha * A.transpose() * B.transpose();
}

void gemm_reference(Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k,
                    float alpha, const float* a, std::int64_t lda, const float* b,
                    std::int64_t ldb, float beta, float* c, std::int64_t ldc) {
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
