// Rendering speed as a multiple of real time (audio seconds per second).
//
// The score: JSB chorales from data/jsb-chorales (test split, the first ones
// until about 60 s of music), their four voices as four tracks with different
// programs (piano, flute, viola, cello), 100 qpm, held notes merged. Counters:
// x_realtime = audio seconds rendered per CPU second (Google Benchmark's rate
// counters use CPU time; pass --benchmark_enable_random_interleaving or read
// the wall time column on a quiet machine for wall-clock figures).
// Also: SoundFont load time and WAV writing speed.
#include <benchmark/benchmark.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "partita/core/error.hpp"
#include "partita/render/synth.hpp"
#include "partita/render/wav.hpp"

namespace {

// Minimal reader for the chorale file: {"split": [chorale: [step: [pitch...]]]}.
// Returns the chorales of `split` as steps of up to four pitches (-1 silent).
std::vector<std::vector<std::vector<int>>> read_chorales(const std::string& path,
                                                         const std::string& split) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  const auto key = text.find("\"" + split + "\"");
  if (key == std::string::npos) throw partita::IoError("bench_render: cannot read " + path);
  std::vector<std::vector<std::vector<int>>> chorales;
  int depth = 0;
  std::size_t i = text.find('[', key);
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '[') {
      ++depth;
      if (depth == 2) chorales.emplace_back();
      if (depth == 3) chorales.back().emplace_back();
    } else if (c == ']') {
      if (--depth == 0) break;
    } else if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) {
      std::size_t used = 0;
      const int v = std::stoi(text.substr(i, 8), &used);
      chorales.back().back().push_back(v);
      i += used - 1;
    }
  }
  return chorales;
}

// About `seconds` of chorales at 100 qpm (a 16th = 120 ticks), voices -> tracks.
partita::Score chorale_score(double seconds) {
  const auto chorales =
      read_chorales(std::string(PARTITA_SOURCE_DIR) + "/data/jsb-chorales/Jsb16thSeparated.json", "test");
  partita::Score score;
  score.ticks_per_quarter = 480;
  score.tempos.push_back({0, 100.0});
  const int programs[4] = {0, 73, 41, 42};
  const char* names[4] = {"soprano", "alto", "tenor", "bass"};
  for (int v = 0; v < 4; ++v) {
    partita::Track t;
    t.name = names[v];
    t.program = programs[v];
    score.tracks.push_back(t);
  }
  std::int64_t offset = 0;
  for (const auto& chorale : chorales) {
    if (score.seconds(offset) >= seconds) break;
    for (int v = 0; v < 4; ++v) {
      int held = -1;
      std::int64_t start = 0;
      for (std::size_t s = 0; s <= chorale.size(); ++s) {
        const int p = s < chorale.size() && v < static_cast<int>(chorale[s].size()) ? chorale[s][v] : -1;
        const std::int64_t tick = offset + static_cast<std::int64_t>(s) * 120;
        if (p != held) {
          if (held >= 0) score.tracks[v].notes.push_back({held, 90, start, tick});
          held = p;
          start = tick;
        }
      }
    }
    offset += static_cast<std::int64_t>(chorale.size()) * 120 + 480;  // a beat of rest between chorales
  }
  return score;
}

void BM_RenderChorale(benchmark::State& state) {
  partita::Synth synth;
  const partita::Score score = chorale_score(60.0);
  partita::Tensor audio;
  for (auto _ : state) {
    synth.render(score, audio);
    benchmark::DoNotOptimize(audio.data());
  }
  const double seconds = static_cast<double>(audio.dim(0)) / synth.sample_rate();
  state.counters["audio_s"] = seconds;
  state.counters["notes"] = static_cast<double>(score.note_count());
  state.counters["x_realtime"] =
      benchmark::Counter(seconds * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RenderChorale)->Unit(benchmark::kMillisecond)->MinTime(2.0);

void BM_RenderChoraleWall(benchmark::State& state) {
  partita::Synth synth;
  const partita::Score score = chorale_score(60.0);
  partita::Tensor audio;
  for (auto _ : state) synth.render(score, audio);
  const double seconds = static_cast<double>(audio.dim(0)) / synth.sample_rate();
  state.counters["x_realtime"] =
      benchmark::Counter(seconds * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RenderChoraleWall)->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();

void BM_LoadSoundfont(benchmark::State& state) {
  for (auto _ : state) {
    partita::Synth synth;
    benchmark::DoNotOptimize(synth.sample_rate());
  }
}
BENCHMARK(BM_LoadSoundfont)->Unit(benchmark::kMillisecond);

void BM_WriteWavPcm16(benchmark::State& state) {
  partita::Tensor audio({44100 * 60, 2});
  for (std::int64_t i = 0; i < audio.size(); ++i) audio[i] = 0.5f * static_cast<float>((i % 200) - 100) / 100.0f;
  const std::string path = "/tmp/partita_bench_render.wav";
  for (auto _ : state) partita::write_wav(path, audio, 44100);
  std::remove(path.c_str());
  state.counters["x_realtime"] = benchmark::Counter(60.0 * static_cast<double>(state.iterations()),
                                                    benchmark::Counter::kIsRate);
}
BENCHMARK(BM_WriteWavPcm16)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
