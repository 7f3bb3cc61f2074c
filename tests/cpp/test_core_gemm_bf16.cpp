// Tests for MatmulPrecision::BFloat16: the bfloat16 kernel against a plain loop
// over the same operands rounded to bfloat16 (to nearest even) and summed in
// double, which it must match to float32 summation error, over the tile and
// block edges, odd k, every transpose case, padded strides, alpha/beta, 1 and 2
// threads; against the float32 reference within bfloat16's rounding; the
// setting itself (names, scope, environment-free default, CPUs without BF16).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "partita/core/cpu.hpp"
#include "partita/core/error.hpp"
#include "partita/core/gemm.hpp"
#include "partita/core/random.hpp"
#include "partita/core/threads.hpp"

namespace partita {
namespace {

using i64 = std::int64_t;

// Round to the nearest bfloat16, ties to even (finite inputs).
float to_bf16(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, 4);
  u += 0x7FFFu + ((u >> 16) & 1u);
  u &= 0xFFFF0000u;
  float y;
  std::memcpy(&y, &u, 4);
  return y;
}

std::vector<float> random_vector(i64 count, std::uint64_t seed) {
  Generator gen(seed);
  std::vector<float> v(static_cast<std::size_t>(count));
  for (auto& x : v) x = static_cast<float>(gen.uniform() * 2.0 - 1.0);
  return v;
}

struct Problem {
  Trans ta, tb;
  i64 m, n, k, pad;
  float alpha, beta;
};

// C = alpha * op(A) op(B) + beta * C with both operands rounded to bfloat16
// first, or not (round = false), summed in double.
void reference(const Problem& p, const std::vector<float>& a, i64 lda, const std::vector<float>& b, i64 ldb,
               std::vector<float>& c, i64 ldc, bool round) {
  for (i64 i = 0; i < p.m; ++i)
    for (i64 j = 0; j < p.n; ++j) {
      double s = 0.0;
      for (i64 q = 0; q < p.k; ++q) {
        float x = p.ta == Trans::No ? a[i * lda + q] : a[q * lda + i];
        float y = p.tb == Trans::No ? b[q * ldb + j] : b[j * ldb + q];
        if (round) x = to_bf16(x), y = to_bf16(y);
        s += static_cast<double>(x) * y;
      }
      float& out = c[i * ldc + j];
      out = static_cast<float>(p.alpha * s + (p.beta == 0.0f ? 0.0 : static_cast<double>(p.beta) * out));
    }
}

// Compares against the rounded-operand loop (to float32 summation error) and
// the float32 loop (to bfloat16 rounding error); checks the padding of C is
// untouched. Returns the largest difference from each loop.
std::pair<double, double> check(const Problem& p, std::uint64_t seed) {
  const i64 a_rows = p.ta == Trans::No ? p.m : p.k, a_cols = p.ta == Trans::No ? p.k : p.m;
  const i64 b_rows = p.tb == Trans::No ? p.k : p.n, b_cols = p.tb == Trans::No ? p.n : p.k;
  const i64 lda = a_cols + p.pad, ldb = b_cols + p.pad, ldc = p.n + p.pad;
  const auto a = random_vector(a_rows * lda, seed), b = random_vector(b_rows * ldb, seed + 1);
  auto c0 = random_vector(p.m * ldc, seed + 2);
  if (p.beta == 0.0f)
    for (auto& x : c0) x = std::numeric_limits<float>::quiet_NaN();
  auto fast = c0, rounded = c0, exact = c0;
  gemm(p.ta, p.tb, p.m, p.n, p.k, p.alpha, a.data(), lda, b.data(), ldb, p.beta, fast.data(), ldc);
  reference(p, a, lda, b, ldb, rounded, ldc, true);
  reference(p, a, lda, b, ldb, exact, ldc, false);
  // |a|, |b| < 1: sum |a||b| <= k; float32 sums of k terms err by ~k * 2^-24.
  const double scale = std::abs(p.alpha) * static_cast<double>(p.k) + std::abs(p.beta) + 1.0;
  std::pair<double, double> worst{0.0, 0.0};
  for (i64 i = 0; i < p.m; ++i) {
    for (i64 j = 0; j < p.n; ++j) {
      const double f = fast[i * ldc + j];
      worst.first = std::max(worst.first, std::abs(f - rounded[i * ldc + j]));
      worst.second = std::max(worst.second, std::abs(f - exact[i * ldc + j]));
      EXPECT_NEAR(f, rounded[i * ldc + j], 2e-6 * scale)
          << "at (" << i << "," << j << ") m=" << p.m << " n=" << p.n << " k=" << p.k << " ta="
          << (p.ta == Trans::Yes) << " tb=" << (p.tb == Trans::Yes) << " pad=" << p.pad;
      // each operand's rounding error is at most 2^-9 relative
      EXPECT_NEAR(f, exact[i * ldc + j], 2.0 * std::ldexp(1.0, -9) * scale);
    }
    for (i64 j = p.n; j < ldc; ++j) {
      const float before = c0[i * ldc + j], after = fast[i * ldc + j];
      EXPECT_TRUE((std::isnan(before) && std::isnan(after)) || before == after) << "padding written";
    }
  }
  return worst;
}

class GemmBf16 : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    // the level in use: PARTITA_SIMD=avx2 (the portable CI run) lowers it
    if (simd_level() != SimdLevel::Avx512 || !cpu_has_avx512_bf16())
      GTEST_SKIP() << "no AVX512_BF16 at the level in use (" << simd_level_name(simd_level()) << "; "
                   << cpu_features() << ")";
    saved_threads_ = num_threads();
    set_num_threads(GetParam());
    set_matmul_precision(MatmulPrecision::BFloat16);
    ASSERT_TRUE(bf16_matmul_active());
  }
  void TearDown() override {
    set_matmul_precision(MatmulPrecision::Float32);
    set_num_threads(saved_threads_);
  }
  int saved_threads_ = 1;
};

TEST_P(GemmBf16, MatchesTheRoundedOperandLoop) {
  // rows around the 14-row tile and the 168-row block (57 is the first the
  // bfloat16 kernel takes), columns around the 32-column panel, k odd, around
  // the 32-value pack step and the 512-deep block
  const i64 ms[] = {57, 70, 171};
  const i64 ns[] = {1, 17, 32, 45};
  const i64 ks[] = {32, 33, 47, 513, 1100};
  std::uint64_t seed = 1;
  for (Trans ta : {Trans::No, Trans::Yes})
    for (Trans tb : {Trans::No, Trans::Yes})
      for (i64 m : ms)
        for (i64 n : ns)
          for (i64 k : ks) check({ta, tb, m, n, k, (m + n + k) % 3, 1.0f, 0.0f}, seed++);
  // The operands really are rounded: far nearer the rounded loop than the float32 one.
  const auto [to_rounded, to_exact] = check({Trans::No, Trans::No, 100, 64, 256, 0, 1.0f, 0.0f}, 99);
  EXPECT_GT(to_exact, 1e-3);
  EXPECT_LT(to_rounded * 20, to_exact);
}

TEST_P(GemmBf16, AlphaBetaWideAndThreadSplits) {
  std::uint64_t seed = 500;
  for (Trans ta : {Trans::No, Trans::Yes})
    for (Trans tb : {Trans::No, Trans::Yes})
      for (float beta : {0.0f, 1.0f, 0.5f}) check({ta, tb, 100, 70, 300, 2, -0.5f, beta}, seed++);
  check({Trans::No, Trans::No, 600, 96, 200, 0, 1.0f, 0.0f}, 7);     // m split
  check({Trans::No, Trans::Yes, 60, 1100, 150, 3, 1.0f, 0.5f}, 8);   // n split, two column blocks
  check({Trans::Yes, Trans::No, 64, 32, 3000, 0, 1.0f, 1.0f}, 9);    // long k
}

TEST_P(GemmBf16, SmallProductsStayFloat32) {
  // 56 rows or fewer, or k < 32: the float32 kernel, to float32 accuracy.
  for (const auto& [m, k] : {std::pair<i64, i64>{56, 300}, {200, 31}}) {
    const i64 n = 40;
    const auto a = random_vector(m * k, 3), b = random_vector(k * n, 4);
    std::vector<float> fast(static_cast<size_t>(m * n)), ref(fast.size());
    gemm(Trans::No, Trans::No, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, fast.data(), n);
    gemm_reference(Trans::No, Trans::No, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, ref.data(), n);
    for (size_t i = 0; i < fast.size(); ++i) ASSERT_NEAR(fast[i], ref[i], 1e-4) << "m=" << m << " k=" << k;
  }
}

INSTANTIATE_TEST_SUITE_P(Threads, GemmBf16, ::testing::Values(1, 2));

TEST(MatmulPrecision, NamesScopeAndLevels) {
  EXPECT_EQ(parse_matmul_precision("BF16"), MatmulPrecision::BFloat16);
  EXPECT_EQ(parse_matmul_precision("bfloat16"), MatmulPrecision::BFloat16);
  EXPECT_EQ(parse_matmul_precision("fp32"), MatmulPrecision::Float32);
  EXPECT_STREQ(matmul_precision_name(MatmulPrecision::BFloat16), "bfloat16");
  EXPECT_THROW(parse_matmul_precision("fp16"), InvalidArgument);
  EXPECT_THROW(set_matmul_precision(static_cast<MatmulPrecision>(7)), InvalidArgument);
  const MatmulPrecision before = matmul_precision();
  {
    MatmulPrecisionScope scope(MatmulPrecision::BFloat16);
    EXPECT_EQ(matmul_precision(), MatmulPrecision::BFloat16);
    EXPECT_EQ(bf16_matmul_active(), simd_level() == SimdLevel::Avx512 && cpu_has_avx512_bf16());
    if (simd_level() >= SimdLevel::Avx2) {
      // below AVX-512 the products stay float32, to float32 accuracy
      set_simd_level(SimdLevel::Avx2);
      EXPECT_FALSE(bf16_matmul_active());
      const i64 m = 100, n = 50, k = 200;
      const auto a = random_vector(m * k, 5), b = random_vector(k * n, 6);
      std::vector<float> fast(static_cast<size_t>(m * n)), ref(fast.size());
      gemm(Trans::No, Trans::No, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, fast.data(), n);
      gemm_reference(Trans::No, Trans::No, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, ref.data(), n);
      for (size_t i = 0; i < fast.size(); ++i) ASSERT_NEAR(fast[i], ref[i], 1e-4);
      reset_simd_level();
    }
  }
  EXPECT_EQ(matmul_precision(), before);
}

}  // namespace
}  // namespace partita
