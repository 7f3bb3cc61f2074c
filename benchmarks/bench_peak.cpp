// Measures the machine's float32 peak: the FMA throughput every "% of peak" in
// partita is quoted against.
//
// The FMA chains are in peak_fma.hpp (fused multiply-adds on registers, no
// memory traffic, AVX-512 or else AVX2; bench_gan measures with the same loop).
// The result is reported as the counter "GFLOPS" for 1 thread and for all
// partita::num_threads() threads, and the level as the label. The benchmark
// reports an error on CPUs with neither AVX-512 nor AVX2 with FMA.
//
// BM_PeakBf16Dot_* measure the same way the bfloat16 dot products (VDPBF16PS)
// that MatmulPrecision::BFloat16 runs on: its peak, on CPUs with AVX512_BF16
// (skipped with an error elsewhere).
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "partita/core/cpu.hpp"
#include "partita/core/threads.hpp"
#include "cpu_time.hpp"
#include "peak_fma.hpp"

namespace {

using partita_bench::process_cpu_seconds;

void run_peak(benchmark::State& state, int threads, bool bf16 = false) {
  if (!partita_bench::peak_simd_level()) {
    state.SkipWithError("this CPU has neither AVX-512 nor AVX2 with FMA");
    return;
  }
  if (bf16 && !partita::cpu_has_avx512_bf16()) {
    state.SkipWithError("this CPU has no AVX512_BF16");
    return;
  }
  const double cpu0 = process_cpu_seconds();
  const std::int64_t iters = 1 << 20;  // ~0.8 GFLOP per thread per round (1.6 in bfloat16)
  float sink = 0.0f;
  double flops = 0.0;  // per iteration, all threads
  for (auto _ : state) {
    double done = 0.0;
#pragma omp parallel num_threads(threads) reduction(+ : sink, done)
    {
      if (bf16) {
        sink += partita_bench::bf16_dot_chains_avx512(iters);
        done += partita_bench::bf16_dot_chains_flops(iters);
      } else {
        sink += partita_bench::fma_chains_best(iters, done);
      }
    }
    flops = done;
  }
  benchmark::DoNotOptimize(sink);
  state.SetLabel(bf16 ? "avx512_bf16" : partita_bench::peak_simd_level());
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
void BM_PeakBf16Dot_1Thread(benchmark::State& state) { run_peak(state, 1, true); }
void BM_PeakBf16Dot_AllThreads(benchmark::State& state) {
  run_peak(state, std::max(1, partita::num_threads()), true);
}

}  // namespace

BENCHMARK(BM_PeakFma_1Thread)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PeakFma_AllThreads)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PeakBf16Dot_1Thread)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PeakBf16Dot_AllThreads)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
