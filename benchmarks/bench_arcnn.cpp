// AR-CNN end-to-end timings (benchmarks/arcnn_torch.py runs the PyTorch twin on the
// same work and prints the ratios):
//   arcnn/train_step/<config>/batch=32   zero grads, forward, KL loss, backward, Adam step
//   arcnn/edit100/<config>               a 100-iteration edit of an 8-bar (128-step) melody
//                                        (data/melodies/ode_to_joy.mid), batch-1 forwards
// Configs: reference (5 levels, 32 filters, 31.5M parameters) and compact (the shipped
// default, 4 levels, 16 filters). Wall-clock time, partita::num_threads() threads (set
// OMP_NUM_THREADS=2 for docs/arcnn.md's setting). Counter peak_rss_mb is the process's
// peak resident set after the run (getrusage), so run a filter on its own for a clean
// figure.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <string>

#include "partita/core/random.hpp"
#include "partita/models/arcnn.hpp"
#include "partita/music/midi.hpp"
#include "partita/optim/adam.hpp"

namespace {

using namespace partita;
using namespace partita::models;

ArcnnConfig config_named(const std::string& name) {
  return name == "reference" ? ArcnnConfig::reference() : ArcnnConfig::compact();
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // KiB on Linux
}

void train_step(benchmark::State& state, const std::string& cfg) {
  const std::int64_t batch = state.range(0);
  ARCNN model(config_named(cfg), 1);
  optim::Adam adam(model.parameters());
  Tensor x({batch, 128, 128, 1}), y({batch, 128, 128, 1});
  Generator g(3);
  for (std::int64_t i = 0; i < x.size(); ++i) {
    x[i] = g.uniform() < 0.03 ? 1.0f : 0.0f;
    y[i] = g.uniform() < 0.02 ? 1.0f : 0.0f;
  }
  model.set_training(true);
  // One untimed step first, as the PyTorch side does (arcnn_torch.py): the first
  // step allocates every activation and gradient buffer (page faults), later
  // steps reuse them.
  model.parameters().zero_grad();
  model.loss_and_backward(x, y);
  adam.step();
  for (auto _ : state) {
    model.parameters().zero_grad();
    benchmark::DoNotOptimize(model.loss_and_backward(x, y));
    adam.step();
  }
  state.counters["peak_rss_mb"] = peak_rss_mb();
  state.counters["params"] = static_cast<double>(model.parameter_count());
}

// resolve: the closing pass's budget. 0: exactly the 100 sampled toggles, the
// work PyTorch's twin loop in arcnn_torch.py does (on this untrained network the
// pass would run its whole budget, unlike on a trained one; docs/arcnn.md).
void edit100(benchmark::State& state, const std::string& cfg, int resolve) {
  ARCNN model(config_named(cfg), 1);
  Score melody = read_midi(std::string(PARTITA_SOURCE_DIR) + "/data/melodies/ode_to_joy.mid");
  EditControls c;  // the Music Studio's defaults: 100 %, 500, 100 iterations, 1.0
  c.seed = 1;
  if (resolve >= 0) c.resolve_iterations = resolve;
  for (auto _ : state) {
    Score out = model.edit(melody, c);
    benchmark::DoNotOptimize(out.tracks.data());
  }
  state.counters["peak_rss_mb"] = peak_rss_mb();
}

BENCHMARK_CAPTURE(train_step, compact, std::string("compact"))
    ->Name("arcnn/train_step/compact")->Arg(32)->ArgName("batch")
    ->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(4);
BENCHMARK_CAPTURE(train_step, reference, std::string("reference"))
    ->Name("arcnn/train_step/reference")->Arg(32)->ArgName("batch")
    ->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK_CAPTURE(edit100, compact, std::string("compact"), 0)
    ->Name("arcnn/edit100/compact")->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
