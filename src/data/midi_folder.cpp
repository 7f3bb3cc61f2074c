// MIDI-folder dataset: walk, read, quantize; unusable files are reported, not fatal.
#include "partita/data/midi_folder.hpp"

#include <algorithm>
#include <filesystem>

#include "data/midi_files.hpp"
#include "partita/core/error.hpp"
#include "partita/music/midi.hpp"

namespace partita::data {

namespace detail {

std::vector<std::string> midi_files(const std::string& folder, const char* who) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(folder, ec))
    throw IoError(std::string(who) + ": " + folder + " is not a readable directory");
  std::vector<std::string> paths;
  for (auto it = fs::recursive_directory_iterator(folder, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string ext = it->path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (ext == ".mid" || ext == ".midi") paths.push_back(it->path().string());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

}  // namespace detail

std::vector<PianoRoll> load_midi_folder(const std::string& folder, int steps_per_quarter,
                                         MidiFolderReport* report) {
  if (steps_per_quarter < 1)
    throw InvalidArgument("load_midi_folder: steps_per_quarter must be >= 1, got " +
                          std::to_string(steps_per_quarter));
  return detail::load_midi_files<PianoRoll>(
      folder, "load_midi_folder", report, [&](const std::string& path, PianoRoll& r) -> std::string {
        ToRollOptions o;
        o.resolution = steps_per_quarter;
        o.binarize = true;
        r = to_pianoroll(read_midi(path), o);
        return r.active_cells() == 0 ? "no notes" : "";
      });
}

}  // namespace partita::data
