// The GAN generator's decoder convolutions, "nearest upsample x2, then 4x4
// stride-1 'same' conv" at batch 64, two ways: the plain composition
// UpsampleNearest2d + Conv2d (the upsampled tensor stored, 16 taps a pixel)
// and UpsampleConv2d (the upsampling folded into four per-phase convolutions
// on the low-res input: 6.25 taps a pixel), forward and forward+backward (dW,
// dbias and the input gradient, as inside the generator).
//
// Names: "upsample_conv/<shape>/<plain|folded>/<fwd|fwdbwd>/n=../s=../t=../
// cin=../cout=../k=..", s x t the low-res input. Counters: GFLOPS counts the
// plain convolution's 2*N*4ST*Cout*Cin*k*k per forward (three times that for
// forward+backward), so the folded layer's GFLOPS is an effective rate and the
// ratio of two GFLOPS is the speedup; GFLOPS_work counts the multiply-adds
// each way actually performs (the folded layer's
// 2*N*ST*Cout*Cin*sum over phases of taps_y*taps_x), the machine's efficiency.
// Wall-clock time, OpenMP threads: partita::num_threads().
// PARTITA_CONV_COLUMN_BUDGET=<floats> overrides both layers' column budget,
// PARTITA_UPSAMPLE_CONV_ALGORITHM=phases|stacked|winograd|auto the folded
// layer's UpsampleConvAlgorithm (Auto: Winograd F(2x2, 3x3) on the stacked
// phases at every GAN level); GFLOPS_work counts the multiply-adds of the
// algorithm in use (Winograd: 16 per 2x2 low-res tile and Cin x 4 Cout pair,
// transforms not counted).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "partita/core/random.hpp"
#include "partita/core/tensor.hpp"
#include "partita/core/threads.hpp"
#include "partita/nn/conv2d.hpp"
#include "partita/nn/upsample.hpp"
#include "partita/nn/upsample_conv.hpp"

namespace {

using i64 = std::int64_t;

struct DecoderShape {
  const char* name;
  i64 n, s, t, cin, cout;  // low-res input (n, s, t, cin) -> (n, 2s, 2t, cout)
  int k;
};

// The generator's decoder (DESIGN.md, GAN): bottleneck 512 + noise 512, then
// each level's output concatenated with the matching encoder output; the head
// convolves to the 4 tracks.
const DecoderShape kShapes[] = {
    {"gan_d1", 64, 2, 8, 1024, 256, 4},
    {"gan_d2", 64, 4, 16, 512, 128, 4},
    {"gan_d3", 64, 8, 32, 256, 64, 4},
    {"gan_head", 64, 16, 64, 128, 4, 4},
};

double plain_flops(const DecoderShape& c) {
  return 2.0 * static_cast<double>(c.n * 4 * c.s * c.t * c.cout) *
         static_cast<double>(c.cin * c.k * c.k);
}

// Multiply-adds x 2 of the folded layer: per low-res pixel, each phase's
// taps_y * taps_x (sum (n0 + n1)^2), or stacked, 4 phases x the union window.
double folded_flops(const DecoderShape& c, partita::nn::UpsampleConvAlgorithm alg) {
  using A = partita::nn::UpsampleConvAlgorithm;
  const auto t0 = partita::nn::upsample_conv_taps(c.k, 0);
  const auto t1 = partita::nn::upsample_conv_taps(c.k, 1);
  const int n0 = t0.count(), n1 = t1.count();
  const int span = std::max(t0.offset + n0, t1.offset + n1) - std::min(t0.offset, t1.offset);
  // Winograd: 16 products per 2x2 tile (odd sizes round up), 4 Cout columns.
  if (alg == A::Winograd)
    return 2.0 * static_cast<double>(c.n * ((c.s + 1) / 2) * ((c.t + 1) / 2) * 16 * 4 * c.cout) *
           static_cast<double>(c.cin);
  const double taps =
      alg == A::Stacked ? 4.0 * span * span : static_cast<double>((n0 + n1) * (n0 + n1));
  return 2.0 * static_cast<double>(c.n * c.s * c.t * c.cout) * static_cast<double>(c.cin) * taps;
}

partita::nn::UpsampleConvAlgorithm algorithm_from_env() {
  const char* a = std::getenv("PARTITA_UPSAMPLE_CONV_ALGORITHM");
  const std::string alg = a ? a : "auto";
  return alg == "phases"     ? partita::nn::UpsampleConvAlgorithm::Phases
         : alg == "stacked"  ? partita::nn::UpsampleConvAlgorithm::Stacked
         : alg == "winograd" ? partita::nn::UpsampleConvAlgorithm::Winograd
                             : partita::nn::UpsampleConvAlgorithm::Auto;
}

i64 budget_or(i64 fallback) {
  if (const char* b = std::getenv("PARTITA_CONV_COLUMN_BUDGET")) return std::atoll(b);
  return fallback;
}

void fill(partita::Tensor& t, partita::Generator& rng) {
  for (i64 i = 0; i < t.size(); ++i) t[i] = rng.uniform(-1.0f, 1.0f);
}

void counters(benchmark::State& state, const DecoderShape& c, bool backward, double work) {
  const double passes = backward ? 3.0 : 1.0;
  state.counters["GFLOPS"] = benchmark::Counter(plain_flops(c) * passes * 1e-9,
                                                benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOPS_work"] =
      benchmark::Counter(work * passes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = partita::num_threads();
}

void run_plain(benchmark::State& state, DecoderShape c, bool backward) {
  partita::nn::ParameterSet ps;
  partita::nn::Conv2dSpec spec;
  spec.in_channels = c.cin;
  spec.out_channels = c.cout;
  spec.kernel_h = spec.kernel_w = c.k;
  spec.column_budget = budget_or(spec.column_budget);
  partita::nn::UpsampleNearest2d up(2);
  partita::nn::Conv2d conv(ps, "conv", spec);
  ps.allocate(1);
  partita::Generator rng(2);
  partita::Tensor x({c.n, c.s, c.t, c.cin}), dy({c.n, 2 * c.s, 2 * c.t, c.cout});
  fill(x, rng);
  fill(dy, rng);
  // Warm-up: the first call allocates and page-faults the buffers.
  conv.forward(up.forward(x));
  if (backward) up.backward(conv.backward(dy));
  for (auto _ : state) {
    const partita::Tensor& y = conv.forward(up.forward(x));
    benchmark::DoNotOptimize(y.data());
    if (backward) {
      const partita::Tensor& dx = up.backward(conv.backward(dy));
      benchmark::DoNotOptimize(dx.data());
    }
    benchmark::ClobberMemory();
  }
  counters(state, c, backward, plain_flops(c));
}

void run_folded(benchmark::State& state, DecoderShape c, bool backward) {
  partita::nn::ParameterSet ps;
  partita::nn::UpsampleConv2d conv(ps, "conv", c.cin, c.cout, c.k,
                                   partita::nn::WeightInit::GlorotUniform,
                                   budget_or(std::int64_t{1} << 20));
  conv.set_algorithm(algorithm_from_env());
  ps.allocate(1);
  partita::Generator rng(2);
  partita::Tensor x({c.n, c.s, c.t, c.cin}), dy({c.n, 2 * c.s, 2 * c.t, c.cout});
  fill(x, rng);
  fill(dy, rng);
  conv.forward(x);
  if (backward) conv.backward(dy);
  for (auto _ : state) {
    const partita::Tensor& y = conv.forward(x);
    benchmark::DoNotOptimize(y.data());
    if (backward) {
      const partita::Tensor& dx = conv.backward(dy);
      benchmark::DoNotOptimize(dx.data());
    }
    benchmark::ClobberMemory();
  }
  using A = partita::nn::UpsampleConvAlgorithm;
  const A alg = conv.algorithm();
  counters(state, c, backward, folded_flops(c, alg));
  state.SetLabel(alg == A::Winograd ? "winograd" : alg == A::Stacked ? "stacked" : "phases");
}

std::string bench_name(const DecoderShape& c, bool folded, bool backward) {
  return std::string("upsample_conv/") + c.name + (folded ? "/folded" : "/plain") +
         (backward ? "/fwdbwd" : "/fwd") + "/n=" + std::to_string(c.n) +
         "/s=" + std::to_string(c.s) + "/t=" + std::to_string(c.t) +
         "/cin=" + std::to_string(c.cin) + "/cout=" + std::to_string(c.cout) +
         "/k=" + std::to_string(c.k);
}

}  // namespace

int main(int argc, char** argv) {
  partita::set_num_threads(partita::num_threads());
  for (const DecoderShape& c : kShapes)
    for (bool backward : {false, true})
      for (bool folded : {false, true})
        benchmark::RegisterBenchmark(bench_name(c, folded, backward).c_str(),
                                     [c, folded, backward](benchmark::State& st) {
                                       if (folded) run_folded(st, c, backward);
                                       else run_plain(st, c, backward);
                                     })
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
