// Multitrack training data from a folder of MIDI files, for the GAN
// accompaniment model: every *.mid / *.midi file (recursively, sorted by path) is
// read with partita's reader and laid on the 16th-note grid by to_multitrack
// (partita's one quantizer, binary cells). Each file gives one MultiTrackRoll of
// `tracks` tracks: the melody track first, then the file's other non-drum tracks
// in file order (tracks beyond `tracks` are left out). Drum tracks never count.
//
// A file is skipped, with "path: reason" in the report, when it cannot be read
// (damaged, not MIDI), has fewer non-drum tracks than `tracks` (drums-only files
// included), has no melody track of the given name, has a silent melody track, or
// gives a roll longer than `max_steps`.
#pragma once
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "partita/data/midi_folder.hpp"
#include "partita/music/pianoroll.hpp"

namespace partita::data {

/// Which track carries the melody: an index among the file's non-drum tracks
/// (0 = the first non-drum track), or a track name (exact match, first one).
using MelodyTrack = std::variant<int, std::string>;

struct MultitrackFolderOptions {
  int tracks = 4;                       // tracks per roll, melody included (>= 1)
  int steps_per_quarter = 4;            // resolution
  std::int64_t max_steps = 1 << 16;     // longer rolls are skipped (4096 bars of 4/4)
};

/// Rolls of every usable MIDI file under `folder`. Throws IoError if `folder` is
/// not a directory, InvalidArgument for bad options (negative index, tracks < 1,
/// steps_per_quarter < 1, max_steps < 1) or if no file is usable.
std::vector<MultiTrackRoll> load_multitrack_folder(const std::string& folder,
                                                   const MelodyTrack& melody = 0,
                                                   const MultitrackFolderOptions& options = {},
                                                   MidiFolderReport* report = nullptr);

}  // namespace partita::data
