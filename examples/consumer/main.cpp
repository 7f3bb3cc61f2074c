// Consumer of the installed partita package: builds a short score, checks the
// tempo map, the seeded generator, a piano roll (xtensor under the hood) and the
// version, and prints a line. CI builds and runs it against `cmake --install` output
// to prove the exported CMake package works and brings its dependencies along.
#include <partita/core/random.hpp>
#include <partita/core/tensor.hpp>
#include <partita/music/pianoroll.hpp>
#include <partita/music/score.hpp>
#include <partita/version.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>

int main() {
  partita::Score score;
  score.ticks_per_quarter = 480;
  score.tempos.push_back({0, 100.0});
  partita::Track melody;
  melody.name = "melody";
  for (int i = 0; i < 8; ++i) melody.notes.push_back({60 + i, 100, i * 480, (i + 1) * 480});
  score.tracks.push_back(melody);
  // 8 quarter notes at 100 bpm last 4.8 s.
  double seconds = score.duration_seconds();
  partita::Generator rng(7);
  partita::Tensor t({2, 3});
  t.fill(static_cast<float>(rng.uniform()));
  partita::PianoRoll roll(16);
  roll(3, 60) = 1;
  roll(4, 62) = 1;
  // The header's version is the one find_package(partita) matched (CMakeLists.txt).
  const bool version_ok = std::strcmp(partita::version(), PARTITA_FOUND_VERSION) == 0;
  std::printf("consumer: partita %s, %zu notes, %.2f s, tensor %s, roll %zu active cells\n",
              partita::version(), score.note_count(), seconds,
              partita::shape_str(t.shape()).c_str(), roll.active_cells());
  return std::fabs(seconds - 4.8) < 1e-9 && roll.active_cells() == 2 && version_ok ? 0 : 1;
}
