// Training data from any folder of MIDI files, so users can train the AR-CNN on
// their own music: every *.mid / *.midi file (recursively, sorted by path) is read
// with partita's own reader and quantized onto the 16th-note grid by
// to_pianoroll (partita's one quantizer; all non-drum tracks merged, as the JSB
// voices are, binary), ready for make_windows().
#pragma once
#include <string>
#include <vector>

#include "partita/music/pianoroll.hpp"

namespace partita::data {

struct MidiFolderReport {
  std::vector<std::string> used;     // files read
  std::vector<std::string> skipped;  // "path: reason" (malformed, no notes, too long)
};

/// Rolls of every readable MIDI file under `folder`. Files that cannot be used are
/// listed in `report` (when given) instead of failing the whole folder. Throws
/// IoError if `folder` is not a directory and InvalidArgument if no file is usable.
std::vector<PianoRoll> load_midi_folder(const std::string& folder, int steps_per_quarter = 4,
                                         MidiFolderReport* report = nullptr);

}  // namespace partita::data
