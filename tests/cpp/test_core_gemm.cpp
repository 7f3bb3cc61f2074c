// Tests for partita::gemm: every SIMD level this CPU has (AVX-512, AVX2+FMA,
// generic, each forced in turn) against the reference loop over many shapes
// (tile edges, odd sizes, long k), all four transpose cases, padded leading
// dimensions, alpha/beta, k = 0, 1 and 2 threads, the k-split and n-split
// thread paths, batched products, and argument errors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>
#include <tuple>
#include <vector>

#include "partita/core/cpu.hpp"
#include "partita/core/error.hpp"
#include "partita/core/gemm.hpp"
#include "partita/core/random.hpp"
#include "partita/core/threads.hpp"
#include "simd_levels.hpp"

namespace partita {
namespace {

using i64 = std::int64_t;

struct Problem {
  Trans ta, tb;
  i64 m, n, k;
  i64 pad;  // extra columns in every leading dimension
  float alpha, beta;
};

std::vector<float> random_vector(i64 count, std::uint64_t seed) {
  Generator gen(seed);
  std::vector<float> v(static_cast<std::size_t>(count));
  for (auto& x : v) x = static_cast<float>(gen.uniform() * 2.0 - 1.0);
  return v;
}

// Runs gemm and gemm_reference on the same random operands and compares with a
// tolerance that grows with sqrt(k) (float accumulation vs double).
void check_problem(const Problem& pr, std::uint64_t seed) {
  const i64 a_rows = pr.ta == Trans::No ? pr.m : pr.k, a_cols = pr.ta == Trans::No ? pr.k : pr.m;
  const i64 b_rows = pr.tb == Trans::No ? pr.k : pr.n, b_cols = pr.tb == Trans::No ? pr.n : pr.k;
  const i64 lda = a_cols + pr.pad, ldb = b_cols + pr.pad, ldc = pr.n + pr.pad;
  auto a = random_vector(std::max<i64>(1, a_rows * lda), seed);
  auto b = random_vector(std::max<i64>(1, b_rows * ldb), seed + 1);
  auto c0 = random_vector(std::max<i64>(1, pr.m * ldc), seed + 2);
  if (pr.beta == 0.0f)  // beta == 0 must ignore whatever C holds, NaN included
    for (auto& x : c0) x = std::numeric_limits<float>::quiet_NaN();
  auto c_fast = c0, c_ref = c0;
  gemm(pr.ta, pr.tb, pr.m, pr.n, pr.k, pr.alpha, a.data(), lda, b.data(), ldb, pr.beta,
       c_fast.data(), ldc);
  gemm_reference(pr.ta, pr.tb, pr.m, pr.n, pr.k, pr.alpha, a.data(), lda, b.data(), ldb, pr.beta,
                 c_ref.data(), ldc);
  const double tol = 1e-5 * (1.0 + std::sqrt(static_cast<double>(pr.k))) * (1.0 + std::abs(pr.alpha));
  for (i64 i = 0; i < pr.m; ++i) {
    for (i64 j = 0; j < pr.n; ++j) {
      const float f = c_fast[i * ldc + j], r = c_ref[i * ldc + j];
      ASSERT_NEAR(f, r, tol * (1.0 + std::abs(r)))
          << "at (" << i << "," << j << ") m=" << pr.m << " n=" << pr.n << " k=" << pr.k
          << " ta=" << (pr.ta == Trans::Yes) << " tb=" << (pr.tb == Trans::Yes)
          << " pad=" << pr.pad << " alpha=" << pr.alpha << " beta=" << pr.beta;
    }
    // the padding past n in each row of C must be untouched
    for (i64 j = pr.n; j < ldc && i < pr.m; ++j) {
      const float before = c0[i * ldc + j], after = c_fast[i * ldc + j];
      ASSERT_TRUE((std::isnan(before) && std::isnan(after)) || before == after)
          << "padding of C written at (" << i << "," << j << ")";
    }
  }
}

// Parameters: thread count, SIMD level (skipped where the CPU lacks it).
class GemmThreads : public ::testing::TestWithParam<std::tuple<int, SimdLevel>> {
 protected:
  void SetUp() override {
    if (std::get<1>(GetParam()) > detected_simd_level())
      GTEST_SKIP() << "this CPU has no " << simd_level_name(std::get<1>(GetParam()));
    saved_ = num_threads();
    set_num_threads(std::get<0>(GetParam()));
    set_simd_level(std::get<1>(GetParam()));
  }
  void TearDown() override {
    set_num_threads(saved_);
    reset_simd_level();
  }
  int saved_ = 1;
};

TEST_P(GemmThreads, MatchesReferenceOverShapesAndTransposes) {
  // sizes straddle the 14-row and 32-column tiles, the 256-deep k block,
  // the 168-row and 512-column cache blocks
  const i64 ms[] = {1, 3, 13, 14, 15, 29, 57, 170};
  const i64 ns[] = {1, 7, 16, 31, 32, 33, 65, 100};
  const i64 ks[] = {1, 5, 17, 256, 300};
  std::uint64_t seed = 1;
  for (Trans ta : {Trans::No, Trans::Yes})
    for (Trans tb : {Trans::No, Trans::Yes})
      for (i64 m : ms)
        for (i64 n : ns)
          for (i64 k : ks) {
            if (m * n * k > 2000000) continue;
            check_problem({ta, tb, m, n, k, (m + n + k) % 3, 1.0f, 0.0f}, seed++);
          }
}

TEST_P(GemmThreads, AlphaBetaAndPaddedStrides) {
  std::uint64_t seed = 100;
  for (Trans ta : {Trans::No, Trans::Yes})
    for (Trans tb : {Trans::No, Trans::Yes})
      for (float alpha : {1.0f, -0.5f, 2.0f})
        for (float beta : {0.0f, 1.0f, 0.25f}) {
          check_problem({ta, tb, 45, 61, 520, 5, alpha, beta}, seed++);  // 61 = 32 + 29
          check_problem({ta, tb, 200, 33, 40, 1, alpha, beta}, seed++);
        }
}

TEST_P(GemmThreads, LargeShapesTakeEveryThreadSplit) {
  // m split (tall), n split (short and wide), k split (tiny output, long k),
  // more than one 512-column block, more than one 168-row block
  check_problem({Trans::No, Trans::No, 600, 96, 200, 0, 1.0f, 0.0f}, 7);
  check_problem({Trans::No, Trans::Yes, 20, 700, 150, 3, 1.0f, 0.5f}, 8);
  check_problem({Trans::Yes, Trans::No, 9, 32, 3000, 0, 1.0f, 1.0f}, 9);
  check_problem({Trans::Yes, Trans::No, 30, 40, 2100, 2, -1.0f, 0.0f}, 10);
  check_problem({Trans::Yes, Trans::Yes, 130, 1100, 64, 1, 0.5f, 0.0f}, 11);
  // few rows: B read in place (m <= 56) and dot products (m <= 2, B^T), n split
  check_problem({Trans::No, Trans::No, 8, 1500, 500, 0, 1.0f, 0.0f}, 12);
  check_problem({Trans::No, Trans::No, 56, 333, 400, 3, 1.0f, 1.0f}, 13);
  check_problem({Trans::No, Trans::Yes, 1, 3000, 700, 1, 2.0f, 0.5f}, 14);
  check_problem({Trans::No, Trans::Yes, 2, 1001, 2051, 0, 1.0f, 0.0f}, 15);
}

TEST_P(GemmThreads, KZeroScalesC) {
  std::vector<float> c = {1, 2, 3, 4, 5, 6};
  gemm(Trans::No, Trans::No, 2, 3, 0, 1.0f, nullptr, 1, nullptr, 1, 0.5f, c.data(), 3);
  EXPECT_EQ(c, (std::vector<float>{0.5f, 1, 1.5f, 2, 2.5f, 3}));
  std::vector<float> d(6, std::numeric_limits<float>::quiet_NaN());
  gemm(Trans::No, Trans::No, 2, 3, 0, 1.0f, nullptr, 1, nullptr, 1, 0.0f, d.data(), 3);
  EXPECT_EQ(d, std::vector<float>(6, 0.0f));
}

TEST_P(GemmThreads, BatchedMatchesPerProductReference) {
  const i64 batch = 5, m = 37, n = 50, k = 23;
  auto a = random_vector(batch * m * k, 21), b = random_vector(batch * n * k, 22);
  auto c = random_vector(batch * m * n, 23), ref = c;
  gemm_batched(Trans::No, Trans::Yes, m, n, k, 0.5f, a.data(), k, m * k, b.data(), k, n * k,
               1.0f, c.data(), n, m * n, batch);
  for (i64 i = 0; i < batch; ++i)
    gemm_reference(Trans::No, Trans::Yes, m, n, k, 0.5f, a.data() + i * m * k, k,
                   b.data() + i * n * k, k, 1.0f, ref.data() + i * m * n, n);
  for (std::size_t i = 0; i < c.size(); ++i) ASSERT_NEAR(c[i], ref[i], 1e-4) << i;
}

TEST_P(GemmThreads, BatchedUnevenBigProductsAndTransposedA) {
  // 3 products of 2 * 260^3 flops each on 2 threads: each product is threaded
  const i64 batch = 3, m = 260, n = 260, k = 260;
  auto a = random_vector(batch * m * k, 24), b = random_vector(batch * n * k, 25);
  std::vector<float> c(batch * m * n, 7.0f), ref(batch * m * n, 7.0f);
  gemm_batched(Trans::Yes, Trans::No, m, n, k, 1.0f, a.data(), m, m * k, b.data(), n, n * k,
               0.0f, c.data(), n, m * n, batch);
  for (i64 i = 0; i < batch; ++i)
    gemm_reference(Trans::Yes, Trans::No, m, n, k, 1.0f, a.data() + i * m * k, m,
                   b.data() + i * n * k, n, 0.0f, ref.data() + i * m * n, n);
  for (std::size_t i = 0; i < c.size(); ++i) ASSERT_NEAR(c[i], ref[i], 1e-3) << i;
}

TEST_P(GemmThreads, CalledFromInsideAParallelRegion) {
  // each thread of a caller's team runs its own product on its own thread
  const i64 m = 70, n = 90, k = 300, copies = 4;
  auto a = random_vector(m * k, 41), b = random_vector(k * n, 42);
  std::vector<float> ref(m * n);
  gemm_reference(Trans::No, Trans::No, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f,
                 ref.data(), n);
  std::vector<std::vector<float>> outs(copies, std::vector<float>(m * n));
#pragma omp parallel for num_threads(std::get<0>(GetParam()))
  for (i64 i = 0; i < copies; ++i)
    gemm(Trans::No, Trans::No, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, outs[i].data(), n);
  for (const auto& out : outs)
    for (std::size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], ref[i], 1e-3) << i;
}

INSTANTIATE_TEST_SUITE_P(
    ThreadsAndLevels, GemmThreads,
    ::testing::Combine(::testing::Values(1, 2),
                       ::testing::Values(SimdLevel::Generic, SimdLevel::Avx2, SimdLevel::Avx512)),
    [](const ::testing::TestParamInfo<GemmThreads::ParamType>& info) {
      return std::to_string(std::get<0>(info.param)) + "threads_" +
             simd_level_name(std::get<1>(info.param));
    });

TEST(Gemm, EveryLevelAgreesWithTheDefaultOnALayerShape) {
  // a 3x3 convolution's im2col product at the first U-Net level (both operand
  // layouts of the backward pass too): each level against the reference
  for (SimdLevel level : available_simd_levels()) {
    ScopedSimdLevel scope(level);
    check_problem({Trans::No, Trans::No, 512, 64, 288, 0, 1.0f, 0.0f}, 61);
    check_problem({Trans::Yes, Trans::No, 288, 64, 512, 0, 1.0f, 1.0f}, 62);
    check_problem({Trans::No, Trans::Yes, 512, 288, 64, 0, 1.0f, 0.0f}, 63);
  }
}

TEST(Gemm, SameResultWithOneAndTwoThreadsForMAndNSplits) {
  // chunks of rows or columns do not change any element's summation order
  for (SimdLevel level : available_simd_levels()) {
  ScopedSimdLevel scope(level);
  struct S { Trans ta, tb; i64 m, n, k; };
  for (const S& sh : {S{Trans::No, Trans::No, 300, 64, 700}, S{Trans::Yes, Trans::No, 500, 40, 300},
                      S{Trans::No, Trans::Yes, 40, 900, 200}, S{Trans::No, Trans::No, 2, 5000, 300},
                      S{Trans::No, Trans::No, 50, 1000, 100}}) {
    const i64 lda = sh.ta == Trans::No ? sh.k : sh.m, ldb = sh.tb == Trans::No ? sh.n : sh.k;
    auto a = random_vector(sh.m * sh.k, 31), b = random_vector(sh.k * sh.n, 32);
    std::vector<float> c1(sh.m * sh.n), c2(sh.m * sh.n);
    const int saved = num_threads();
    set_num_threads(1);
    gemm(sh.ta, sh.tb, sh.m, sh.n, sh.k, 1.0f, a.data(), lda, b.data(), ldb, 0.0f, c1.data(), sh.n);
    set_num_threads(2);
    gemm(sh.ta, sh.tb, sh.m, sh.n, sh.k, 1.0f, a.data(), lda, b.data(), ldb, 0.0f, c2.data(), sh.n);
    set_num_threads(saved);
    EXPECT_EQ(c1, c2) << simd_level_name(level) << " m=" << sh.m << " n=" << sh.n
                      << " k=" << sh.k;
  }
  }
}

TEST(Gemm, ConcurrentCallersFromPlainThreads) {
  // packing buffers are per thread: three callers at once get the right answers
  const i64 m = 150, n = 140, k = 400;
  auto a = random_vector(m * k, 51), b = random_vector(k * n, 52);
  std::vector<float> ref(m * n);
  gemm_reference(Trans::No, Trans::Yes, m, n, k, 1.0f, a.data(), k, b.data(), k, 0.0f,
                 ref.data(), n);
  std::vector<std::vector<float>> outs(3, std::vector<float>(m * n));
  std::vector<std::thread> callers;
  for (auto& out : outs)
    callers.emplace_back([&, o = out.data()] {
      for (int rep = 0; rep < 3; ++rep)
        gemm(Trans::No, Trans::Yes, m, n, k, 1.0f, a.data(), k, b.data(), k, 0.0f, o, n);
    });
  for (auto& t : callers) t.join();
  for (const auto& out : outs)
    for (std::size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], ref[i], 1e-3) << i;
}

TEST(Gemm, RejectsBadArguments) {
  std::vector<float> a(100), b(100), c(100);
  EXPECT_THROW(gemm(Trans::No, Trans::No, -1, 2, 2, 1.0f, a.data(), 2, b.data(), 2, 0.0f,
                    c.data(), 2),
               InvalidArgument);
  EXPECT_THROW(gemm(Trans::No, Trans::No, 3, 4, 5, 1.0f, a.data(), 4, b.data(), 4, 0.0f,
                    c.data(), 4),
               InvalidArgument);  // lda < k
  EXPECT_THROW(gemm(Trans::No, Trans::Yes, 3, 4, 5, 1.0f, a.data(), 5, b.data(), 4, 0.0f,
                    c.data(), 4),
               InvalidArgument);  // ldb < k for transposed B
  EXPECT_THROW(gemm(Trans::No, Trans::No, 3, 4, 5, 1.0f, a.data(), 5, b.data(), 4, 0.0f,
                    c.data(), 3),
               InvalidArgument);  // ldc < n
  EXPECT_THROW(gemm(Trans::No, Trans::No, 3, 4, 5, 1.0f, nullptr, 5, b.data(), 4, 0.0f,
                    c.data(), 4),
               InvalidArgument);
  EXPECT_THROW(gemm_batched(Trans::No, Trans::No, 2, 2, 2, 1.0f, a.data(), 2, 4, b.data(), 2, 4,
                            0.0f, c.data(), 2, 4, -1),
               InvalidArgument);
  try {
    gemm(Trans::No, Trans::No, 3, 4, 5, 1.0f, a.data(), 4, b.data(), 4, 0.0f, c.data(), 4);
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("gemm: lda"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace partita
