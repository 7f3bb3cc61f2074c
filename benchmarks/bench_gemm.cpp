// partita::gemm on the shapes the three models use, beside Eigen's product on
// the same operands (the fallback this kernel replaced; see docs/performance.md).
//
// Every benchmark is named "<impl>/<shape>/<TA><TB>/m/n/k" and reports the
// counter GFLOPS (2 m n k per product, wall clock), cpu_s (process CPU seconds
// per product, all threads) and the thread count; "gemm_batched"
// entries add /b=<batch>. benchmarks/torch_compare.py parses these names and
// runs the same products in PyTorch. Threads: partita::num_threads()
// (OMP_NUM_THREADS); the % of peak is against benchmarks/bench_peak.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

#include "partita/core/gemm.hpp"
#include "partita/core/random.hpp"
#include "partita/core/tensor.hpp"
#include "partita/core/threads.hpp"
#include "cpu_time.hpp"

namespace {

using partita::Trans;
using partita_bench::process_cpu_seconds;
using i64 = std::int64_t;

struct Shape {
  const char* name;
  Trans ta, tb;
  i64 m, n, k;
  i64 batch;  // 1: plain gemm; > 1: gemm_batched
};

// Row-major M x K times K x N. AR-CNN 3x3 convs via im2col (M = output pixels of
// a chunk, K = 9 Cin, N = Cout), their weight gradients (dW = cols^T dY: TN) and
// input gradients (dcols = dY W^T: NT); GAN 4x4 stride-2 convs at batch 64
// (K = 16 Cin); Transformer-XL projections over 64 x 128 tokens and the
// per-head attention products (128 queries x 640 keys, d_head 50), and the
// one-token products of cached generation.
const Shape kShapes[] = {
    {"arcnn_l1_fwd", Trans::No, Trans::No, 16384, 32, 288, 1},
    {"arcnn_l2_fwd", Trans::No, Trans::No, 16384, 64, 576, 1},
    {"arcnn_l3_fwd", Trans::No, Trans::No, 8192, 128, 1152, 1},
    {"arcnn_l4_fwd", Trans::No, Trans::No, 4096, 256, 2304, 1},
    {"arcnn_l5_fwd", Trans::No, Trans::No, 2048, 512, 4608, 1},
    {"arcnn_mid_fwd", Trans::No, Trans::No, 512, 1024, 4608, 1},
    {"arcnn_l1_dw", Trans::Yes, Trans::No, 288, 32, 16384, 1},
    {"arcnn_l1_dx", Trans::No, Trans::Yes, 16384, 288, 32, 1},
    {"arcnn_l3_dw", Trans::Yes, Trans::No, 1152, 128, 8192, 1},
    {"arcnn_l3_dx", Trans::No, Trans::Yes, 8192, 1152, 128, 1},
    {"arcnn_l5_dw", Trans::Yes, Trans::No, 4608, 512, 2048, 1},
    {"arcnn_l5_dx", Trans::No, Trans::Yes, 2048, 4608, 512, 1},
    {"gan_c2_fwd", Trans::No, Trans::No, 16384, 128, 1024, 1},
    {"gan_c3_fwd", Trans::No, Trans::No, 4096, 256, 2048, 1},
    {"gan_c4_fwd", Trans::No, Trans::No, 1024, 512, 4096, 1},
    {"txl_qkv", Trans::No, Trans::No, 8192, 1500, 500, 1},
    {"txl_ffn_up", Trans::No, Trans::No, 8192, 1000, 500, 1},
    {"txl_ffn_down", Trans::No, Trans::No, 8192, 500, 1000, 1},
    {"txl_score", Trans::No, Trans::Yes, 128, 640, 50, 40},
    {"txl_context", Trans::No, Trans::No, 128, 50, 640, 40},
    // cached generation, one new token per sequence (batch 1 and 8): few rows
    {"txl_step_qkv", Trans::No, Trans::No, 1, 1500, 500, 1},
    {"txl_step_ffn_b8", Trans::No, Trans::No, 8, 1000, 500, 1},
    {"txl_step_score", Trans::No, Trans::Yes, 1, 640, 50, 10},
    {"square_1024", Trans::No, Trans::No, 1024, 1024, 1024, 1},
};

struct Operands {
  std::vector<float> a, b, c;
  i64 lda, ldb, ldc;
};

Operands make_operands(const Shape& s) {
  Operands o;
  o.lda = s.ta == Trans::No ? s.k : s.m;
  o.ldb = s.tb == Trans::No ? s.n : s.k;
  o.ldc = s.n;
  partita::Generator gen(42);
  o.a.resize(static_cast<std::size_t>(s.m * s.k * s.batch));
  o.b.resize(static_cast<std::size_t>(s.k * s.n * s.batch));
  o.c.assign(static_cast<std::size_t>(s.m * s.n * s.batch), 0.0f);
  for (auto& x : o.a) x = gen.uniform(-1.0f, 1.0f);
  for (auto& x : o.b) x = gen.uniform(-1.0f, 1.0f);
  return o;
}

void report(benchmark::State& state, const Shape& s, double cpu_seconds) {
  // process CPU seconds per product (all threads, spinning included)
  state.counters["cpu_s"] = cpu_seconds / static_cast<double>(state.iterations());
  state.counters["GFLOPS"] = benchmark::Counter(
      2.0 * static_cast<double>(s.m) * s.n * s.k * s.batch * 1e-9,
      benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = partita::num_threads();
}

void run_partita(benchmark::State& state, Shape s) {
  Operands o = make_operands(s);
  const double cpu0 = process_cpu_seconds();
  for (auto _ : state) {
    if (s.batch == 1)
      partita::gemm(s.ta, s.tb, s.m, s.n, s.k, 1.0f, o.a.data(), o.lda, o.b.data(), o.ldb, 0.0f,
                    o.c.data(), o.ldc);
    else
      partita::gemm_batched(s.ta, s.tb, s.m, s.n, s.k, 1.0f, o.a.data(), o.lda, s.m * s.k,
                            o.b.data(), o.ldb, s.k * s.n, 0.0f, o.c.data(), o.ldc, s.m * s.n,
                            s.batch);
    benchmark::DoNotOptimize(o.c.data());
    benchmark::ClobberMemory();
  }
  report(state, s, process_cpu_seconds() - cpu0);
}

void run_eigen(benchmark::State& state, Shape s) {
  using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using CMap = Eigen::Map<const RowMat>;
  using Map = Eigen::Map<RowMat>;
  Operands o = make_operands(s);
  const double cpu0 = process_cpu_seconds();
  for (auto _ : state) {
    for (i64 i = 0; i < s.batch; ++i) {
      CMap A(o.a.data() + i * s.m * s.k, s.ta == Trans::No ? s.m : s.k,
             s.ta == Trans::No ? s.k : s.m);
      CMap B(o.b.data() + i * s.k * s.n, s.tb == Trans::No ? s.k : s.n,
             s.tb == Trans::No ? s.n : s.k);
      Map C(o.c.data() + i * s.m * s.n, s.m, s.n);
      if (s.ta == Trans::No && s.tb == Trans::No) C.noalias() = A * B;
      else if (s.ta == Trans::No) C.noalias() = A * B.transpose();
      else if (s.tb == Trans::No) C.noalias() = A.transpose() * B;
      else C.noalias() = A.transpose() * B.transpose();
    }
    benchmark::DoNotOptimize(o.c.data());
    benchmark::ClobberMemory();
  }
  report(state, s, process_cpu_seconds() - cpu0);
}

std::string bench_name(const char* impl, const Shape& s) {
  std::string name = std::string(impl) + "/" + s.name + "/" + (s.ta == Trans::No ? "N" : "T") +
                     (s.tb == Trans::No ? "N" : "T") + "/m=" + std::to_string(s.m) +
                     "/n=" + std::to_string(s.n) + "/k=" + std::to_string(s.k);
  if (s.batch > 1) name += "/b=" + std::to_string(s.batch);
  return name;
}

}  // namespace

int main(int argc, char** argv) {
  // Keep Eigen's own thread pool at the partita thread count.
  partita::set_num_threads(partita::num_threads());
  for (const Shape& s : kShapes) {
    benchmark::RegisterBenchmark(bench_name("gemm", s).c_str(), run_partita, s)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(bench_name("eigen", s).c_str(), run_eigen, s)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
