// The whole Transformer-XL (reference config: 4 layers, d_model 500, 10 heads of 50,
// d_inner 1000, vocab 310) at its training shape and at generation.
//   TrainStep: loss_and_backward (forward, loss, backward; no optimizer step) of one
//              segment of 128 tokens per row, batch 64, with a full memory of 512
//              positions, dropout 0.1.
//   NextToken: one generated token (batch 1) after 512 positions of context;
//              arg 1 = next_logits on the KV cache, arg 0 = forward() on a one-token
//              segment with a TransformerXLMemory (the memory's keys and values are
//              recomputed from its hidden states every token, as without a cache).
//   build/<dir>/benchmarks/bench_transformer_xl --benchmark_filter=TrainStep
#include <benchmark/benchmark.h>

#include "partita/core/random.hpp"
#include "partita/models/transformer_xl.hpp"
#include "cpu_time.hpp"

using namespace partita;
using namespace partita::models;

namespace {

using partita_bench::process_cpu_seconds;

data::TokenBatch random_tokens(std::int64_t batch, std::int64_t n, std::uint64_t seed) {
  data::TokenBatch b(batch, n);
  Generator g(seed);
  for (auto& id : b.ids) id = static_cast<std::int32_t>(2 + g.below(308));
  return b;
}

void BM_TransformerXLTrainStep(benchmark::State& state) {
  const TransformerXLConfig c = TransformerXLConfig::reference();
  const std::int64_t B = state.range(0);
  TransformerXL m(c, 1);
  TransformerXLMemory mem;
  const data::TokenBatch x = random_tokens(B, c.segment, 2), y = random_tokens(B, c.segment, 3);
  for (int k = 0; k < c.memory / c.segment; ++k) m.forward(x, mem);  // fill the memory
  double cpu = 0.0;
  for (auto _ : state) {
    const double c0 = process_cpu_seconds();
    benchmark::DoNotOptimize(m.loss_and_backward(x, y, mem));
    cpu += process_cpu_seconds() - c0;
  }
  state.counters["process_cpu_s"] = benchmark::Counter(cpu / static_cast<double>(state.iterations()));
  state.counters["memory"] = benchmark::Counter(static_cast<double>(mem.length()));
}

void BM_TransformerXLNextToken(benchmark::State& state) {
  const TransformerXLConfig c = TransformerXLConfig::reference();
  TransformerXL m(c, 1);
  m.set_training(false);
  const data::TokenBatch context = random_tokens(1, c.memory, 4);
  const bool cached = state.range(0) == 1;
  TransformerXLMemory mem;
  if (cached) {
    m.begin_generation(1);
    m.prime(context);
  } else {
    for (std::int64_t from = 0; from < c.memory; from += c.segment) {
      data::TokenBatch seg(1, c.segment);
      std::copy(context.ids.begin() + from, context.ids.begin() + from + c.segment, seg.ids.begin());
      m.forward(seg, mem);
    }
  }
  const data::TokenBatch one = random_tokens(1, 1, 5);
  for (auto _ : state) {
    const Tensor& logits = cached ? m.next_logits(one.ids) : m.forward(one, mem);
    benchmark::DoNotOptimize(logits.data());
  }
}

}  // namespace

BENCHMARK(BM_TransformerXLTrainStep)->Arg(16)->Arg(64)->ArgName("batch")->Unit(benchmark::kMillisecond)->UseRealTime()
    ->Iterations(3);
BENCHMARK(BM_TransformerXLNextToken)->Arg(0)->Arg(1)->ArgName("cached")->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK_MAIN();
