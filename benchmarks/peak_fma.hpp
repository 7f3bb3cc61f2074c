// The machine's float32 peak, measured: the FMA loop behind every "% of peak" in
// partita's benchmarks (bench_peak reports it; bench_gan divides by it).
//
// Each thread runs many independent chains of AVX-512 fused multiply-adds on
// registers (no memory traffic): 24 chains hide the FMA latency (4 cycles) on
// two FMA pipes. One FMA on 16 lanes = 32 flops. The chains are compiled for
// AVX-512 alone (a target attribute: the build stays portable); callers check
// partita::detected_simd_level() first.
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

/// Wall-clock GFLOP/s of `threads` threads running the chains: the best of
/// `rounds` short runs (about 0.8 GFLOP per thread each). AVX-512 only.
inline double measure_peak_gflops(int threads, int rounds = 5) {
  const std::int64_t iters = 1 << 20;
  double best = 0.0;
  float sink = 0.0f;
  for (int r = 0; r < rounds; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : sink)
    sink += fma_chains_avx512(iters);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, fma_chains_flops(iters) * threads / s * 1e-9);
  }
  volatile float keep = sink;
  (void)keep;
  return best;
}

}  // namespace partita_bench
