// MIDI parse and write throughput (Google Benchmark).
//
// BM_ReadMelody/<i>: read_midi_bytes on each of the five sample melodies
// (in memory, so the file system is not timed). BM_ReadLarge: a synthetic
// 16-track, ~200k-note format-1 file made by write_midi_bytes (dense chords,
// controls and pitch bends, several tempo changes). BM_ReadFile: the file named
// by $PARTITA_BENCH_MIDI, if set. BM_WriteLarge: encoding that score.
// Bytes/s counters are the MIDI bytes parsed or produced.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "partita/music/midi.hpp"

namespace {

namespace fs = std::filesystem;

std::vector<std::uint8_t> slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

const std::vector<fs::path>& melodies() {
  static const std::vector<fs::path> paths = [] {
    std::vector<fs::path> v;
    for (const auto& e : fs::directory_iterator(fs::path(PARTITA_SOURCE_DIR) / "data" / "melodies"))
      if (e.path().extension() == ".mid") v.push_back(e.path());
    std::sort(v.begin(), v.end());
    return v;
  }();
  return paths;
}

partita::Score large_score() {
  partita::Score s;
  s.ticks_per_quarter = 480;
  for (int i = 0; i < 8; ++i) s.tempos.push_back({i * 480 * 64, 90.0 + 5 * i});
  s.time_signatures = {{0, 4, 4}};
  std::uint32_t rng = 12345;
  auto next = [&] { return rng = rng * 1664525u + 1013904223u; };
  for (int t = 0; t < 16; ++t) {
    partita::Track tr;
    tr.name = "track " + std::to_string(t);
    tr.program = (t * 8) % 128;
    tr.is_drum = t == 9;
    std::int64_t tick = 0;
    for (int k = 0; k < 4000; ++k) {
      const int chord = 1 + static_cast<int>(next() % 4);
      const std::int64_t len = 60 + static_cast<std::int64_t>(next() % 420);
      for (int c = 0; c < chord; ++c)
        tr.notes.push_back({36 + static_cast<int>(next() % 60), 1 + static_cast<int>(next() % 127), tick, tick + len});
      if (k % 8 == 0) tr.controls.push_back({tick, 7, static_cast<int>(next() % 128)});
      if (k % 16 == 0) tr.pitch_bends.push_back({tick, static_cast<int>(next() % 16384) - 8192});
      tick += len;
    }
    s.tracks.push_back(std::move(tr));
  }
  s.sort();
  return s;
}

void run_read(benchmark::State& state, const std::vector<std::uint8_t>& bytes) {
  std::size_t notes = 0;
  for (auto _ : state) {
    partita::Score s = partita::read_midi_bytes(bytes.data(), bytes.size());
    notes = s.note_count();
    benchmark::DoNotOptimize(notes);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
  state.counters["notes"] = static_cast<double>(notes);
  state.counters["file_bytes"] = static_cast<double>(bytes.size());
}

void BM_ReadMelody(benchmark::State& state) {
  const auto& paths = melodies();
  const auto bytes = slurp(paths.at(static_cast<std::size_t>(state.range(0))));
  state.SetLabel(paths[static_cast<std::size_t>(state.range(0))].filename().string());
  run_read(state, bytes);
}
BENCHMARK(BM_ReadMelody)->DenseRange(0, 4);

void BM_ReadLarge(benchmark::State& state) {
  static const std::vector<std::uint8_t> bytes = partita::write_midi_bytes(large_score());
  run_read(state, bytes);
}
BENCHMARK(BM_ReadLarge)->Unit(benchmark::kMillisecond);

void BM_ReadFile(benchmark::State& state) {
  const char* path = std::getenv("PARTITA_BENCH_MIDI");
  if (path == nullptr) {
    state.SkipWithError("set PARTITA_BENCH_MIDI to a MIDI file to time it");
    return;
  }
  const auto bytes = slurp(path);
  state.SetLabel(fs::path(path).filename().string());
  run_read(state, bytes);
}
BENCHMARK(BM_ReadFile)->Unit(benchmark::kMicrosecond);

void BM_WriteLarge(benchmark::State& state) {
  const partita::Score s = large_score();
  std::size_t size = 0;
  for (auto _ : state) {
    auto bytes = partita::write_midi_bytes(s);
    size = bytes.size();
    benchmark::DoNotOptimize(bytes.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
  state.counters["notes"] = static_cast<double>(s.note_count());
}
BENCHMARK(BM_WriteLarge)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
