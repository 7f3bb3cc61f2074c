// The machine's float32 peak, measured: the FMA loop behind every "% of peak" in
// partita's benchmarks (bench_peak reports it; bench_gan divides by it).
//
// Each thread runs many independent chains of fused multiply-adds on registers
// (no memory traffic) at the widest level the CPU has: 24 chains of AVX-512
// (one FMA on 16 lanes = 32 flops), or 12 of AVX2 (8 lanes = 16 flops; the
// 16 ymm registers hold 12 chains and the two operands) on CPUs without
// AVX-512; either hides the FMA latency (4 cycles) on two FMA pipes. The
// chains are compiled for their level alone (target attributes: the build
// stays portable); peak_simd_level() says which one runs.
#pragma once
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace partita_bench {

constexpr int kFmaChains = 24;

/// The sum of every lane of the chains' accumulators (keeps the loops alive).
__attribute__((target("avx512f"))) inline float chains_total_avx512(const __m512* acc) {
  __m512 s = acc[0];
  for (int c = 1; c < kFmaChains; ++c) s = _mm512_add_ps(s, acc[c]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, s);
  float total = 0.0f;
  for (float v : lanes) total += v;
  return total;
}

/// Runs `iters` rounds of kFmaChains independent FMAs; returns a value derived
/// from the accumulators so the compiler cannot drop the loop.
__attribute__((noinline, target("avx512f,fma"))) inline float fma_chains_avx512(std::int64_t iters) {
  __m512 acc[kFmaChains];
  for (int c = 0; c < kFmaChains; ++c) acc[c] = _mm512_set1_ps(0.001f * static_cast<float>(c));
  const __m512 x = _mm512_set1_ps(0.999999f);
  const __m512 y = _mm512_set1_ps(1e-7f);
  for (std::int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 24
    for (int c = 0; c < kFmaChains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], x, y);
  }
  return chains_total_avx512(acc);
}

/// The same with VDPBF16PS (AVX512_BF16): 32 bfloat16 pairs multiplied and added
/// into 16 float32 sums per instruction = 64 flops. The bfloat16 products'
/// peak (MatmulPrecision::BFloat16); callers check partita::cpu_has_avx512_bf16().
__attribute__((noinline, target("avx512f,avx512bf16"))) inline float bf16_dot_chains_avx512(std::int64_t iters) {
  __m512 acc[kFmaChains];
  for (int c = 0; c < kFmaChains; ++c) acc[c] = _mm512_set1_ps(0.001f * static_cast<float>(c));
  // 0x3f80 = 1.0 and 0x3380 = 5.96e-8 in bfloat16: small increments, no overflow
  const __m512bh x = (__m512bh)_mm512_set1_epi32(0x33803f80);
  const __m512bh y = (__m512bh)_mm512_set1_epi32(0x33803380);
  for (std::int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 24
    for (int c = 0; c < kFmaChains; ++c) acc[c] = _mm512_dpbf16_ps(acc[c], x, y);
  }
  return chains_total_avx512(acc);
}

/// Flops of one bf16_dot_chains_avx512(iters) call.
inline double bf16_dot_chains_flops(std::int64_t iters) {
  return 64.0 * kFmaChains * static_cast<double>(iters);
}

/// Flops of one fma_chains_avx512(iters) call.
inline double fma_chains_flops(std::int64_t iters) {
  return 32.0 * kFmaChains * static_cast<double>(iters);
}

constexpr int kFmaChainsAvx2 = 12;

/// The AVX2 chains (CPUs without AVX-512).
__attribute__((noinline, target("avx2,fma"))) inline float fma_chains_avx2(std::int64_t iters) {
  __m256 acc[kFmaChainsAvx2];
  for (int c = 0; c < kFmaChainsAvx2; ++c) acc[c] = _mm256_set1_ps(0.001f * static_cast<float>(c));
  const __m256 x = _mm256_set1_ps(0.999999f);
  const __m256 y = _mm256_set1_ps(1e-7f);
  for (std::int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 12
    for (int c = 0; c < kFmaChainsAvx2; ++c) acc[c] = _mm256_fmadd_ps(acc[c], x, y);
  }
  __m256 s = acc[0];
#pragma GCC unroll 12
  for (int c = 1; c < kFmaChainsAvx2; ++c) s = _mm256_add_ps(s, acc[c]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, s);
  float total = 0.0f;
  for (float v : lanes) total += v;
  return total;
}

/// Flops of one fma_chains_avx2(iters) call.
inline double fma_chains_avx2_flops(std::int64_t iters) {
  return 16.0 * kFmaChainsAvx2 * static_cast<double>(iters);
}

/// The level the float32 peak is measured at: "avx512", "avx2" (AVX2 and FMA,
/// no AVX-512) or nullptr (neither: no peak to measure).
inline const char* peak_simd_level() {
  if (__builtin_cpu_supports("avx512f")) return "avx512";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2";
  return nullptr;
}

/// One thread's float32 chains at peak_simd_level(): returns the sink value and
/// adds the flops done to `flops`.
inline float fma_chains_best(std::int64_t iters, double& flops) {
  if (__builtin_cpu_supports("avx512f")) {
    flops += fma_chains_flops(iters);
    return fma_chains_avx512(iters);
  }
  // the AVX2 chain has half the lanes and half the chains: four times the
  // rounds for about the same time per call
  flops += fma_chains_avx2_flops(4 * iters);
  return fma_chains_avx2(4 * iters);
}

/// Wall-clock GFLOP/s of `threads` threads running the chains: the best of
/// `rounds` short runs (about 0.8 GFLOP per thread each) at peak_simd_level();
/// 0 when the CPU has neither AVX-512 nor AVX2 with FMA.
inline double measure_peak_gflops(int threads, int rounds = 5) {
  if (!peak_simd_level()) return 0.0;
  const std::int64_t iters = 1 << 20;
  double best = 0.0;
  float sink = 0.0f;
  for (int r = 0; r < rounds; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    double flops = 0.0;
#pragma omp parallel num_threads(threads) reduction(+ : sink, flops)
    sink += fma_chains_best(iters, flops);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, flops / s * 1e-9);
  }
  volatile float keep = sink;
  (void)keep;
  return best;
}

}  // namespace partita_bench
