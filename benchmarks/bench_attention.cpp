// One Transformer-XL attention layer, forward + backward, at the reference model's
// training shape: segment 128, memory 512, d_model 500, 10 heads of 50, batch 64,
// dropout 0.1 on the output (dropatt 0, as Transformer-XL's default).
// benchmarks/attention_torch.py runs the same layer in PyTorch and prints the ratio.
//   build/<dir>/benchmarks/bench_attention --benchmark_repetitions=5
#include <benchmark/benchmark.h>

#include "partita/core/random.hpp"
#include "partita/core/tensor.hpp"
#include "partita/nn/positional.hpp"
#include "partita/nn/rel_attention.hpp"
#include "cpu_time.hpp"

using namespace partita;
using namespace partita::nn;

namespace {

using partita_bench::process_cpu_seconds;

struct Setup {
  static constexpr std::int64_t T = 128, M = 512, B = 64, E = 500, H = 10, D = 50;
  ParameterSet ps;
  RelPositionBiases biases;
  std::unique_ptr<RelMultiHeadAttention> att;
  Tensor x{T, B, E}, mem{M, B, E}, r, dy{T, B, E};
  explicit Setup(float dropatt) {
    biases = add_rel_position_biases(ps, "", H, D);
    RelAttentionConfig cfg;
    cfg.d_model = E;
    cfg.n_head = H;
    cfg.d_head = D;
    cfg.dropout = 0.1f;
    cfg.dropatt = dropatt;
    att = std::make_unique<RelMultiHeadAttention>(ps, "layers.0.dec_attn", cfg, biases, 1);
    ps.allocate(1);
    Generator g(2);
    for (Tensor* t : {&x, &mem, &dy})
      for (std::int64_t i = 0; i < t->size(); ++i) (*t)[i] = g.uniform(-1.0f, 1.0f);
    r = sinusoidal_positions(M + T, E);
  }
};

void BM_RelAttentionForwardBackward(benchmark::State& state) {
  Setup s(static_cast<float>(state.range(0)) / 100.0f);
  s.att->forward(s.x, s.mem, s.r);  // warm-up: first touch of every buffer
  s.att->backward(s.dy);
  double cpu = 0.0;
  for (auto _ : state) {
    const double c0 = process_cpu_seconds();
    const Tensor& y = s.att->forward(s.x, s.mem, s.r);
    benchmark::DoNotOptimize(y.data());
    const Tensor& dx = s.att->backward(s.dy);
    benchmark::DoNotOptimize(dx.data());
    cpu += process_cpu_seconds() - c0;
  }
  state.counters["process_cpu_s"] = benchmark::Counter(cpu / static_cast<double>(state.iterations()));
}

void BM_RelAttentionForward(benchmark::State& state) {
  Setup s(0.0f);
  s.att->forward(s.x, s.mem, s.r);  // warm-up
  for (auto _ : state) {
    const Tensor& y = s.att->forward(s.x, s.mem, s.r);
    benchmark::DoNotOptimize(y.data());
  }
}

// Generation: one new token (batch 1) against 512 previous positions, eval mode.
// Arg 0: forward(x, mem, R) recomputes the memory's keys and values each token;
// arg 1: forward_step with a full RelAttentionCache projects only the new row.
void BM_RelAttentionOneToken(benchmark::State& state) {
  const std::int64_t M = 512, E = 500, H = 10, D = 50;
  ParameterSet ps;
  auto biases = add_rel_position_biases(ps, "", H, D);
  RelAttentionConfig cfg;
  cfg.d_model = E;
  cfg.n_head = H;
  cfg.d_head = D;
  RelMultiHeadAttention att(ps, "layers.0.dec_attn", cfg, biases, 1);
  ps.allocate(1);
  att.set_training(false);
  Generator g(3);
  Tensor mem({M, 1, E}), x({1, 1, E});
  for (Tensor* t : {&mem, &x})
    for (std::int64_t i = 0; i < t->size(); ++i) (*t)[i] = g.uniform(-1.0f, 1.0f);
  Tensor r = sinusoidal_positions(M + 1, E);
  RelAttentionCache cache(M);
  att.forward_step(mem, cache);  // fill the cache with the 512 previous positions
  const bool cached = state.range(0) == 1;
  for (auto _ : state) {
    const Tensor& y = cached ? att.forward_step(x, cache) : att.forward(x, mem, r);
    benchmark::DoNotOptimize(y.data());
  }
}

}  // namespace

BENCHMARK(BM_RelAttentionOneToken)->Arg(0)->Arg(1)->ArgName("cached")
    ->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_RelAttentionForwardBackward)->Arg(0)->Arg(10)->ArgName("dropatt%")
    ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_RelAttentionForward)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK_MAIN();
