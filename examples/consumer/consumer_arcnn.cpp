// Consumer of the installed partita package that uses the shipped AR-CNN model:
// ARCNN::pretrained() must find the model installed with the library (no source
// tree, no $PARTITA_ARCNN_WEIGHTS), then edit a short melody built here.
// Usage: consumer_arcnn [EXPECTED_DIR]: fails unless the model came from EXPECTED_DIR.
// scripts/ci.d/10-consumer.sh runs it from a temp dir with
// PARTITA_NO_SOURCE_TREE_WEIGHTS=1 so the source tree cannot be used.
#include <partita/core/error.hpp>
#include <partita/models/arcnn.hpp>
#include <partita/music/score.hpp>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  using partita::models::ARCNN;
  try {
    const std::string path = ARCNN::default_weights_path();
    if (argc > 1 && fs::canonical(fs::path(path).parent_path()) != fs::canonical(argv[1])) {
      std::fprintf(stderr, "consumer_arcnn: model found at %s, expected it in %s\n", path.c_str(), argv[1]);
      return 1;
    }
    ARCNN model = ARCNN::pretrained();

    // Two bars of quarter notes in C major, 120 bpm.
    partita::Score melody;
    melody.ticks_per_quarter = 480;
    melody.tempos.push_back({0, 120.0});
    partita::Track track;
    track.name = "melody";
    const int pitches[] = {60, 62, 64, 65, 67, 65, 64, 62};
    for (int i = 0; i < 8; ++i) track.notes.push_back({pitches[i], 100, i * 480, (i + 1) * 480});
    melody.tracks.push_back(track);

    partita::models::EditControls controls;
    controls.iterations = 10;  // a few toggles are enough to prove the model runs
    controls.seed = 1;
    std::vector<partita::models::EditStats> stats;
    partita::Score edited = model.edit(melody, controls, -1, &stats);
    int toggles = 0;
    for (const auto& s : stats) toggles += s.iterations_run;
    std::printf("consumer_arcnn: %s, %lld parameters, %zu notes in, %zu notes out, %d toggles\n",
                path.c_str(), static_cast<long long>(model.parameter_count()), melody.note_count(),
                edited.note_count(), toggles);
    return toggles > 0 && edited.note_count() > 0 ? 0 : 1;
  } catch (const partita::Error& e) {
    std::fprintf(stderr, "consumer_arcnn: %s\n", e.what());
    return 1;
  }
}
