// Conv2d forward and forward+backward on the shapes of the AR-CNN U-Net (3x3
// "same", batch 32 for training and batch 1 for the edit loop) and of the GAN
// (4x4 stride-2 encoder / critic convs and a 4x4 stride-1 decoder conv, batch 64).
//
// Names: "conv/<model>_<layer>/<fwd|fwdbwd>/n=../h=../w=../cin=../cout=../k=../s=..",
// which benchmarks/torch_compare.py parses to run the same convolution in
// PyTorch. Counter GFLOPS counts 2*N*Ho*Wo*Cout*Cin*k*k per forward and three
// times that for forward+backward (dW and dX each cost one forward); wall-clock
// time (OpenMP threads: partita::num_threads()). --benchmark_filter picks shapes;
// PARTITA_CONV_COLUMN_BUDGET=<floats> overrides Conv2dSpec::column_budget,
// PARTITA_CONV_ALGORITHM=im2col|winograd|auto Conv2dSpec::algorithm (winograd:
// F(2x2, 3x3) on the 3x3 shapes, F(2x2, 2x2) on the stride-2 ones) and
// PARTITA_CONV_WINOGRAD_TILES=<tiles> Conv2dSpec::winograd_chunk_tiles. Counter
// GFLOPS always counts the direct convolution's work (so Winograd can pass 100 %
// of the machine's peak: it is an effective rate).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "partita/core/random.hpp"
#include "partita/core/tensor.hpp"
#include "partita/core/threads.hpp"
#include "partita/nn/conv2d.hpp"

namespace {

using i64 = std::int64_t;

struct ConvShape {
  const char* name;
  i64 n, h, w, cin, cout;
  int k, s;
};

const ConvShape kShapes[] = {
    // AR-CNN U-Net, training batch 32 (encoder level convs; bottleneck 4x4x1024)
    {"arcnn_l1", 32, 128, 128, 32, 32, 3, 1},
    {"arcnn_l2", 32, 64, 64, 64, 64, 3, 1},
    {"arcnn_l3", 32, 32, 32, 128, 128, 3, 1},
    {"arcnn_l4", 32, 16, 16, 256, 256, 3, 1},
    {"arcnn_l5", 32, 8, 8, 512, 512, 3, 1},
    {"arcnn_mid", 32, 4, 4, 512, 1024, 3, 1},
    {"arcnn_in", 32, 128, 128, 1, 32, 3, 1},
    // smaller batches: a compact training batch and the batch-1 edit loop
    {"arcnn_l1_b4", 4, 128, 128, 32, 32, 3, 1},
    {"arcnn_l1_b1", 1, 128, 128, 32, 32, 3, 1},
    {"arcnn_l3_b1", 1, 32, 32, 128, 128, 3, 1},
    // GAN generator encoder / critic: 4x4 stride 2, TF "same", batch 64
    {"gan_e1", 64, 32, 128, 1, 64, 4, 2},
    {"gan_e2", 64, 16, 64, 64, 128, 4, 2},
    {"gan_e3", 64, 8, 32, 128, 256, 4, 2},
    {"gan_e4", 64, 4, 16, 256, 512, 4, 2},
    // GAN critic's first layer: the 4 tracks, the melody and its pitch classes
    {"gan_c1", 64, 32, 128, 6, 64, 4, 2},
    // GAN decoder: 4x4 stride 1 after upsampling (bottleneck 512 + noise 512)
    {"gan_d1", 64, 4, 16, 1024, 256, 4, 1},
};

double forward_flops(const ConvShape& c) {
  const i64 ho = (c.h + c.s - 1) / c.s, wo = (c.w + c.s - 1) / c.s;
  return 2.0 * static_cast<double>(c.n * ho * wo * c.cout) * static_cast<double>(c.cin * c.k * c.k);
}

void run(benchmark::State& state, ConvShape c, bool backward) {
  partita::nn::ParameterSet ps;
  partita::nn::Conv2dSpec spec;
  spec.in_channels = c.cin;
  spec.out_channels = c.cout;
  spec.kernel_h = spec.kernel_w = c.k;
  spec.stride_h = spec.stride_w = c.s;
  if (const char* b = std::getenv("PARTITA_CONV_COLUMN_BUDGET")) spec.column_budget = std::atoll(b);
  if (const char* b = std::getenv("PARTITA_CONV_WINOGRAD_TILES")) spec.winograd_chunk_tiles = std::atoll(b);
  if (const char* a = std::getenv("PARTITA_CONV_ALGORITHM")) {
    const std::string alg = a;
    spec.algorithm = alg == "im2col"     ? partita::nn::ConvAlgorithm::Im2col
                     : alg == "winograd" ? partita::nn::ConvAlgorithm::Winograd
                                         : partita::nn::ConvAlgorithm::Auto;
  }
  partita::nn::Conv2d conv(ps, "conv", spec);
  ps.allocate(1);
  partita::Tensor x({c.n, c.h, c.w, c.cin});
  partita::Generator rng(2);
  for (i64 i = 0; i < x.size(); ++i) x[i] = rng.uniform(-1.0f, 1.0f);
  partita::Tensor dy(conv.output_shape(x.shape()));
  for (i64 i = 0; i < dy.size(); ++i) dy[i] = rng.uniform(-1.0f, 1.0f);
  // Warm-up: the first call allocates and page-faults the output, column and
  // gradient buffers (67 MB for the AR-CNN input conv); later calls reuse them.
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
  state.counters["GFLOPS"] = benchmark::Counter(forward_flops(c) * (backward ? 3.0 : 1.0) * 1e-9,
                                                benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = partita::num_threads();
}

std::string bench_name(const ConvShape& c, bool backward) {
  return std::string("conv/") + c.name + (backward ? "/fwdbwd" : "/fwd") +
         "/n=" + std::to_string(c.n) + "/h=" + std::to_string(c.h) + "/w=" + std::to_string(c.w) +
         "/cin=" + std::to_string(c.cin) + "/cout=" + std::to_string(c.cout) +
         "/k=" + std::to_string(c.k) + "/s=" + std::to_string(c.s);
}

}  // namespace

int main(int argc, char** argv) {
  partita::set_num_threads(partita::num_threads());
  for (const ConvShape& c : kShapes)
    for (bool backward : {false, true})
      benchmark::RegisterBenchmark(bench_name(c, backward).c_str(),
                                   [c, backward](benchmark::State& st) { run(st, c, backward); })
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
