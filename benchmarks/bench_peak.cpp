// Measures the machine's float32 peak: the FMA throughput every "% of peak" in
// partita is quoted against.
//
// The FMA chains are in peak_fma.hpp (AVX-512 fused multiply-adds on registers,
// no memory traffic; bench_gan measures with the same loop). The result is
// reported as the counter "GFLOPS" for 1 thread and for all partita::num_threads()
// threads. The benchmark reports an error on CPUs without AVX-512.
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

using partita_bench::fma_chains_avx512;
using partita_bench::fma_chains_flops;
using partita_bench::process_cpu_seconds;

void run_peak(benchmark::State& state, int threads, bool bf16 = false) {
  if (partita::detected_simd_level() < partita::SimdLevel::Avx512) {
    state.SkipWithError("this CPU has no AVX-512");
    return;
  }
  if (bf16 && !partita::cpu_has_avx512_bf16()) {
    state.SkipWithError("this CPU has no AVX512_BF16");
    return;
  }
  const double cpu0 = process_cpu_seconds();
  const std::int64_t iters = 1 << 20;  // ~0.8 GFLOP per thread per round (1.6 in bfloat16)
  float sink = 0.0f;
  for (auto _ : state) {
#pragma omp parallel num_threads(threads) reduction(+ : sink)
    sink += bf16 ? partita_bench::bf16_dot_chains_avx512(iters) : fma_chains_avx512(iters);
  }
  benchmark::DoNotOptimize(sink);
  const double flops = (bf16 ? partita_bench::bf16_dot_chains_flops(iters) : fma_chains_flops(iters)) * threads;
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
