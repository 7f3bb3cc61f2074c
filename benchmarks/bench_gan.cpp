// GAN end-to-end timings (benchmarks/gan_torch.py runs the PyTorch twin,
// tools/torch_twins/gan_twin.py, on the same work and prints the ratios):
//
//   gan/critic_step/<config>/batch:64     GAN::critic_loss_and_backward (fakes from the
//                                         generator in eval mode, D(real) and D(fake) with
//                                         their backward passes, the gradient penalty's
//                                         passes) + Adam step on the critic
//   gan/generator_step/<config>/batch:64  GAN::generator_loss_and_backward (generator in
//                                         training mode, critic forward and backward to its
//                                         input, generator backward) + Adam on the generator
//   gan/generate/<config>/batch:1|16      GAN::generate in eval mode: one 2-bar window, and
//                                         16 windows (both window by window on the packed
//                                         one-window engine, src/models/gan_infer.hpp, as
//                                         accompany() runs)
//
// Configs: reference (F = 64, latent 512) and compact (F = 32, latent 256, the shipped
// size). z and the interpolation weights e are drawn once, outside the timed loop (the
// twin's critic_step / generator_step take them as arguments too). Each benchmark runs
// one untimed call first (it allocates every buffer), then a fixed number of timed
// calls per repetition (1 for the steps and batch 16, 8 for batch 1); wall-clock time,
// partita::num_threads() threads (OMP_NUM_THREADS). Run with --benchmark_format=json
// (what gan_torch.py reads) or --benchmark_format=csv for one line per measurement.
//
// Counters per measurement: GFLOP (work per call, below), GFLOPS (wall-clock rate),
// peak_GFLOPS (the machine's float32 peak on these threads: PARTITA_PEAK_GFLOPS when
// set, which gan_torch.py fills from bench_peak, else the best of five short runs of
// bench_peak's FMA loop, peak_fma.hpp, measured once per process), peak_fraction (GFLOPS / peak_GFLOPS; absent
// when no peak is known, e.g. without AVX-512), threads.
//
// FLOPs, counted analytically: multiply-adds x 2 of the convolutions and the linear
// layer; BatchNorm, activations, upsampling, concatenation, losses and Adam are not
// counted. A 4x4 convolution with output Ho x Wo x Cout from Cin channels costs, per
// sample, 2 Ho Wo Cout Cin 16 (TF "same" padding counted as if it held values). With
// S = steps (32), P = pitches (128), F = filters, L = latent channels, T = tracks:
//
//   generator  enc.0   2 (S/2)(P/2)   F    * 1        * 16
//              enc.i   2 (S/2^(i+1))(P/2^(i+1)) F 2^i * F 2^(i-1) * 16       i = 1..3
//              dec.0   2 (S/8)(P/8)   4F   * (8F + L) * 16
//              dec.1   2 (S/4)(P/4)   2F   * 8F       * 16
//              dec.2   2 (S/2)(P/2)   F    * 4F       * 16
//              out     2 S P          T    * 2F       * 16
//   critic     conv.0  2 (S/2)(P/2)   F    * (T + 1)  * 16
//              conv.k  2 (S/2^(k+1))(P/2^(k+1)) F 2^k * F 2^(k-1) * 16       k = 1..3
//              fc      2 (S/16)(P/16) 8F
//
// The decoder's Upsample x2 + 4x4 stride-1 convolution is counted as the plain
// convolution on the upsampled map (as above): a nearest upsampling repeats each
// value 2x2 times, so an implementation can do the same work with 4x fewer
// multiply-adds (2x2 taps per output phase); then GFLOPS is an effective rate and
// peak_fraction can pass 1 on those layers' share.
//
// With G and C the generator's and the critic's forward FLOPs for the batch (sums of
// the rows above times N) and G0, C0 those of their first layer, the work needed:
//   generate        G
//   critic step     G (fakes) + 2 (C + C + C - C0) (D(real), D(fake): forward, weight
//                   gradients, input gradients of every layer but the first)
//                   + 4 C (penalty: forward at xhat, input gradient g of every layer, then
//                   for grad_theta of the penalty one pass applying every layer to the
//                   tangent and one for the weight gradients) = G + 10 C - 2 C0
//   generator step  G + C (critic forward) + C (critic input gradients) + 2 G - G0
//                   (generator weight and input gradients) = 3 G - G0 + 2 C
// folded_peak_fraction counts the decoder's and head's rows at 6.25 / 16 of the
// above (the multiply-adds of the folded form, nn/upsample_conv.hpp, which
// partita runs): the fraction of the peak the executed products reach, <= 1.
// Work an implementation does beyond this (the critic's weight gradients during the
// generator step, which both partita and the twin compute and drop; recomputed
// backward signals) is not counted.
// Reference config: G = 1.88 GFLOP and C = 0.212 GFLOP per window.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "partita/core/cpu.hpp"
#include "partita/core/random.hpp"
#include "partita/core/tensor.hpp"
#include "partita/core/threads.hpp"
#include "partita/models/gan.hpp"
#include "partita/optim/adam.hpp"
#include "peak_fma.hpp"

namespace {

using namespace partita;
using namespace partita::models;
using i64 = std::int64_t;

GanConfig config_named(const std::string& name) {
  return name == "reference" ? GanConfig::reference() : GanConfig::compact();
}

// ------------------------------------------------------------------ FLOPs

// One 4x4 convolution, per sample: 2 Ho Wo Cout Cin 16.
double conv4(i64 ho, i64 wo, i64 cout, i64 cin) {
  return 2.0 * static_cast<double>(ho * wo) * static_cast<double>(cout * cin) * 16.0;
}

// Forward FLOPs per sample: whole networks and their first layers.
struct NetFlops {
  double gen = 0, gen_first = 0, critic = 0, critic_first = 0;
  double gen_folded = 0;  // the decoder's and head's rows at 6.25 / 16
};

NetFlops per_sample_flops(const GanConfig& c) {
  const i64 S = c.steps, P = c.pitches, F = c.filters, L = c.latent_channels, T = c.tracks;
  NetFlops f;
  f.gen_first = conv4(S / 2, P / 2, F, 1);
  f.gen = f.gen_first;
  for (int i = 1; i <= 3; ++i) f.gen += conv4(S >> (i + 1), P >> (i + 1), F << i, F << (i - 1));
  const double decoder = conv4(S / 8, P / 8, 4 * F, 8 * F + L)  // dec.0
                         + conv4(S / 4, P / 4, 2 * F, 8 * F)      // dec.1
                         + conv4(S / 2, P / 2, F, 4 * F)          // dec.2
                         + conv4(S, P, T, 2 * F);                 // out
  f.gen_folded = f.gen + decoder * 6.25 / 16.0;
  f.gen += decoder;
  f.critic_first = conv4(S / 2, P / 2, F, T + 1);
  f.critic = f.critic_first;
  for (int k = 1; k <= 3; ++k) f.critic += conv4(S >> (k + 1), P >> (k + 1), F << k, F << (k - 1));
  f.critic += 2.0 * static_cast<double>((S / 16) * (P / 16) * 8 * F);  // fc
  return f;
}

double critic_step_flops(const GanConfig& c, i64 n, bool folded = false) {
  const NetFlops f = per_sample_flops(c);
  return static_cast<double>(n) * ((folded ? f.gen_folded : f.gen) + 10.0 * f.critic - 2.0 * f.critic_first);
}

double generator_step_flops(const GanConfig& c, i64 n, bool folded = false) {
  const NetFlops f = per_sample_flops(c);
  return static_cast<double>(n) * (3.0 * (folded ? f.gen_folded : f.gen) - f.gen_first + 2.0 * f.critic);
}

double generate_flops(const GanConfig& c, i64 n, bool folded = false) {
  const NetFlops f = per_sample_flops(c);
  return static_cast<double>(n) * (folded ? f.gen_folded : f.gen);
}

// ------------------------------------------------------------------ peak

// GFLOP/s the machine's FMA loop reaches on partita::num_threads() threads:
// PARTITA_PEAK_GFLOPS if set, else measured once; 0 if unknown.
double peak_gflops() {
  static const double peak = [] {
    if (const char* s = std::getenv("PARTITA_PEAK_GFLOPS")) {
      const double v = std::atof(s);
      if (v > 0) return v;
    }
    return partita_bench::measure_peak_gflops(std::max(1, num_threads()));
  }();
  return peak;
}

void report(benchmark::State& state, double flops, double folded_flops) {
  const double gflop = flops * 1e-9;
  state.counters["GFLOP"] = gflop;
  state.counters["GFLOPS"] = benchmark::Counter(gflop, benchmark::Counter::kIsIterationInvariantRate);
  const double peak = peak_gflops();
  if (peak > 0) {
    state.counters["peak_GFLOPS"] = peak;
    // seconds at peak per call, as a rate: the fraction of the peak reached
    state.counters["peak_fraction"] =
        benchmark::Counter(gflop / peak, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["folded_peak_fraction"] =
        benchmark::Counter(folded_flops * 1e-9 / peak, benchmark::Counter::kIsIterationInvariantRate);
  }
  state.counters["threads"] = num_threads();
}

// ------------------------------------------------------------------ fixtures

// One GAN and its two optimizers per config, kept across benchmarks and
// repetitions (Adam with the reference's lr 1e-3, betas (0.5, 0.9)).
struct Fixture {
  explicit Fixture(const GanConfig& c)
      : gan(c, 1), copt(gan.critic_parameters(), options()), gopt(gan.generator_parameters(), options()) {}
  static optim::AdamOptions options() {
    optim::AdamOptions o;
    o.lr = 1e-3;
    o.beta1 = 0.5;
    o.beta2 = 0.9;
    return o;
  }
  GAN gan;
  optim::Adam copt, gopt;
  std::set<std::string> warmed;  // benchmarks whose untimed first call has run
};

Fixture& fixture(const std::string& cfg) {
  static std::map<std::string, std::unique_ptr<Fixture>> all;
  auto& f = all[cfg];
  if (!f) f = std::make_unique<Fixture>(config_named(cfg));
  return *f;
}

// Sparse binary rolls in the model's {-1, +1} layout, channel 0 the melody.
Tensor random_rolls(i64 n, i64 steps, i64 pitches, i64 channels, std::uint64_t seed) {
  Tensor x({n, steps, pitches, channels});
  Generator g(seed);
  for (i64 i = 0; i < x.size(); ++i) x[i] = g.uniform() < 0.03 ? 1.0f : -1.0f;
  return x;
}

// Runs `call` once untimed the first time benchmark `key` runs, then times it.
template <class Call>
void timed(benchmark::State& state, Fixture& f, const std::string& key, Call call) {
  if (f.warmed.insert(key + "/" + std::to_string(state.range(0))).second) call();
  for (auto _ : state) call();
}

void critic_step(benchmark::State& state, const std::string& cfg) {
  Fixture& f = fixture(cfg);
  const GanConfig& c = f.gan.config();
  const i64 n = state.range(0);
  const Tensor real = random_rolls(n, c.steps, c.pitches, c.tracks, 3);
  Generator g(5);
  const Tensor z = f.gan.sample_latent(n, g);
  std::vector<float> e(static_cast<size_t>(n));
  for (float& v : e) v = static_cast<float>(g.uniform());
  f.gan.set_training(true);
  timed(state, f, "critic_step", [&] {
    const GAN::CriticLoss l = f.gan.critic_loss_and_backward(real, z, e);
    benchmark::DoNotOptimize(l.penalty);
    f.copt.step();
  });
  report(state, critic_step_flops(c, n), critic_step_flops(c, n, true));
}

void generator_step(benchmark::State& state, const std::string& cfg) {
  Fixture& f = fixture(cfg);
  const GanConfig& c = f.gan.config();
  const i64 n = state.range(0);
  const Tensor real = random_rolls(n, c.steps, c.pitches, c.tracks, 7);
  Generator g(9);
  const Tensor z = f.gan.sample_latent(n, g);
  f.gan.set_training(true);
  timed(state, f, "generator_step", [&] {
    benchmark::DoNotOptimize(f.gan.generator_loss_and_backward(real, z));
    f.gopt.step();
  });
  report(state, generator_step_flops(c, n), generator_step_flops(c, n, true));
}

void generate(benchmark::State& state, const std::string& cfg) {
  Fixture& f = fixture(cfg);
  const GanConfig& c = f.gan.config();
  const i64 n = state.range(0);
  const Tensor melody = random_rolls(n, c.steps, c.pitches, 1, 11);
  Generator g(13);
  const Tensor z = f.gan.sample_latent(n, g);
  f.gan.set_training(false);
  timed(state, f, "generate", [&] { benchmark::DoNotOptimize(f.gan.generate(melody, z).data()); });
  report(state, generate_flops(c, n), generate_flops(c, n, true));
}

void register_all() {
  for (const std::string cfg : {"reference", "compact"}) {
    benchmark::RegisterBenchmark(("gan/critic_step/" + cfg).c_str(), critic_step, cfg)
        ->Arg(64)->ArgName("batch")->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("gan/generator_step/" + cfg).c_str(), generator_step, cfg)
        ->Arg(64)->ArgName("batch")->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("gan/generate/" + cfg).c_str(), generate, cfg)
        ->Arg(1)->ArgName("batch")->Iterations(8)->UseRealTime()->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("gan/generate/" + cfg).c_str(), generate, cfg)
        ->Arg(16)->ArgName("batch")->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
