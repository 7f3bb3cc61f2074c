// MIDI-folder dataset: walk, read, quantize; unusable files are reported, not fatal.
#include "partita/data/midi_folder.hpp"

#include <algorithm>
#include <filesystem>

#include "partita/core/error.hpp"
#include "partita/music/midi.hpp"

namespace partita::data {

std::vector<PianoRoll> load_midi_folder(const std::string& folder, int steps_per_quarter,
                                         MidiFolderReport* report) {
  namespace fs = std::filesystem;
  if (steps_per_quarter < 1)
    throw InvalidArgument("load_midi_folder: steps_per_quarter must be >= 1, got " +
                          std::to_string(steps_per_quarter));
  std::error_code ec;
  if (!fs::is_directory(folder, ec))
    throw IoError("load_midi_folder: " + folder + " is not a readable directory");
  std::vector<std::string> paths;
  for (auto it = fs::recursive_directory_iterator(folder, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string ext = it->path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (ext == ".mid" || ext == ".midi") paths.push_back(it->path().string());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<PianoRoll> rolls;
  MidiFolderReport local;
  MidiFolderReport& rep = report ? *report : local;
  for (const auto& p : paths) {
    try {
      Score s = read_midi(p);
      ToRollOptions o;
      o.resolution = steps_per_quarter;
      o.binarize = true;
      PianoRoll r = to_pianoroll(s, o);
      if (r.active_cells() == 0) {
        rep.skipped.push_back(p + ": no notes");
        continue;
      }
      rolls.push_back(std::move(r));
      rep.used.push_back(p);
    } catch (const Error& e) {
      rep.skipped.push_back(p + ": " + e.what());
    }
  }
  if (rolls.empty())
    throw InvalidArgument("load_midi_folder: no usable MIDI file in " + folder + " (" +
                          std::to_string(paths.size()) + " found)");
  return rolls;
}

}  // namespace partita::data
