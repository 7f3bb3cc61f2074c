// Consumer of the installed partita package: builds a short score, checks the
// tempo map and the seeded generator, and prints a line. CI builds and runs it
// against `cmake --install` output to prove the exported CMake package works.
#include <partita/core/random.hpp>
#include <partita/core/tensor.hpp>
#include <partita/music/score.hpp>

#include <cmath>
#include <cstdio>

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
  std::printf("consumer: %zu notes, %.2f s, tensor %s\n", score.note_count(), seconds,
              partita::shape_str(t.shape()).c_str());
  return std::fabs(seconds - 4.8) < 1e-9 ? 0 : 1;
}
