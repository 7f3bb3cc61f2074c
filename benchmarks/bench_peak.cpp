// Measures the machine's float32 peak: the FMA throughput every "% of peak" in
// partita is quoted against.
//
// Each thread runs many independent chains of AVX-512 fused multiply-adds on
// registers (no memory traffic): 24 chains hide the FMA latency (4 cycles) on
// two FMA pipes. One FMA on 16 lanes = 32 flops. The result is reported as the
// counter "GFLOPS" for 1 thread and for all partita::num_threads() threads.
// The chains are compiled for AVX-512 alone (a target attribute: the build is
// portable) and the benchmark reports an error on CPUs without it.
#include <benchmark/benchmark.h>
#include <immintrin.h>
#include <omp.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdint>

#include "partita/core/cpu.hpp"
#include "partita/core/threads.hpp"

namespace {

constexpr int kChains = 24;

// Runs `iters` rounds of kChains independent FMAs; returns a value derived
// from the accumulators so the compiler cannot drop the loop.
__attribute__((noinline, target("avx512f,fma"))) float fma_chains_avx512(std::int64_t iters) {
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(0.001f * static_cast<float>(c));
  const __m512 x = _mm512_set1_ps(0.999999f);
  const __m512 y = _mm512_set1_ps(1e-7f);
  for (std::int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 24
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], x, y);
  }
  __m512 s = acc[0];
  for (int c = 1; c < kChains; ++c) s = _mm512_add_ps(s, acc[c]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, s);
  float total = 0.0f;
  for (float x : lanes) total += x;
  return total;
}

double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

void run_peak(benchmark::State& state, int threads) {
  if (partita::detected_simd_level() < partita::SimdLevel::Avx512) {
    state.SkipWithError("this CPU has no AVX-512");
    return;
  }
  const double cpu0 = process_cpu_seconds();
  const std::int64_t iters = 1 << 20;  // ~0.8 GFLOP per thread per round
  float sink = 0.0f;
  for (auto _ : state) {
#pragma omp parallel num_threads(threads) reduction(+ : sink)
    sink += fma_chains_avx512(iters);
  }
  benchmark::DoNotOptimize(sink);
  const double flops = 32.0 * kChains * static_cast<double>(iters) * threads;
  state.counters["GFLOPS"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = threads;
  // flops per CPU-second of all threads: the per-core peak, even when other
  // programs share the cores and the wall-clock figure drops
  state.counters["GFLOPS_per_cpu_s"] =
      flops * static_cast<double>(state.iterations()) * 1e-9 / (process_cpu_seconds() - cpu0);
}

void BM_PeakFma_1Thread(benchmark::State& state) { run_peak(state, 1); }
void BM_PeakFma_AllThreads(benchmark::State& state) {
  run_peak(state, std::max(1, partita::num_threads()));
}

}  // namespace

BENCHMARK(BM_PeakFma_1Thread)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PeakFma_AllThreads)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
