// MIDI folder -> multitrack rolls (melody first); unusable files are reported.
#include "partita/data/multitrack_folder.hpp"

#include <algorithm>
#include <cstring>

#include "data/midi_files.hpp"
#include "partita/core/error.hpp"
#include "partita/music/midi.hpp"

namespace partita::data {
namespace {

// The roll of one file, or a reason (non-empty) why it cannot be used.
std::string file_roll(const std::string& path, const MelodyTrack& melody,
                      const MultitrackFolderOptions& o, MultiTrackRoll& out) {
  Score s = read_midi(path);
  std::vector<size_t> pitched;
  for (size_t i = 0; i < s.tracks.size(); ++i)
    if (!s.tracks[i].is_drum) pitched.push_back(i);
  if (pitched.size() < static_cast<size_t>(o.tracks))
    return std::to_string(pitched.size()) + " non-drum tracks, " + std::to_string(o.tracks) +
           " needed";
  size_t m = 0;  // position in `pitched`
  if (const int* idx = std::get_if<int>(&melody)) {
    if (static_cast<size_t>(*idx) >= pitched.size())
      return "no non-drum track " + std::to_string(*idx) + " (" +
             std::to_string(pitched.size()) + " found)";
    m = static_cast<size_t>(*idx);
  } else {
    const std::string& name = std::get<std::string>(melody);
    auto it = std::find_if(pitched.begin(), pitched.end(),
                           [&](size_t i) { return s.tracks[i].name == name; });
    if (it == pitched.end()) return "no non-drum track named \"" + name + "\"";
    m = static_cast<size_t>(it - pitched.begin());
  }
  std::vector<size_t> order{pitched[m]};
  for (size_t k = 0; k < pitched.size() && order.size() < static_cast<size_t>(o.tracks); ++k)
    if (k != m) order.push_back(pitched[k]);
  ToRollOptions ro;
  ro.resolution = o.steps_per_quarter;
  ro.binarize = true;
  MultiTrackRoll all = to_multitrack(s, ro);  // one roll per file track, one length
  if (static_cast<std::int64_t>(all.steps()) > o.max_steps)
    return "roll of " + std::to_string(all.steps()) + " steps is longer than the limit " +
           std::to_string(o.max_steps);
  const size_t T = all.steps();
  MultiTrackRoll r(order.size(), T, all.grid);
  r.binary = true;
  for (size_t k = 0; k < order.size(); ++k) {
    std::memcpy(r.data() + k * T * kPitches, all.data() + order[k] * T * kPitches, T * kPitches);
    r.info[k] = all.info[order[k]];
  }
  if (r.track(0).active_cells() == 0) return "melody track has no notes";
  out = std::move(r);
  return {};
}

}  // namespace

std::vector<MultiTrackRoll> load_multitrack_folder(const std::string& folder,
                                                   const MelodyTrack& melody,
                                                   const MultitrackFolderOptions& o,
                                                   MidiFolderReport* report) {
  if (o.tracks < 1 || o.steps_per_quarter < 1 || o.max_steps < 1)
    throw InvalidArgument("load_multitrack_folder: tracks, steps_per_quarter and max_steps "
                          "must be >= 1, got " + std::to_string(o.tracks) + ", " +
                          std::to_string(o.steps_per_quarter) + ", " +
                          std::to_string(o.max_steps));
  if (const int* idx = std::get_if<int>(&melody); idx && *idx < 0)
    throw InvalidArgument("load_multitrack_folder: melody track index must be >= 0, got " +
                          std::to_string(*idx));
  return detail::load_midi_files<MultiTrackRoll>(
      folder, "load_multitrack_folder", report,
      [&](const std::string& path, MultiTrackRoll& r) { return file_roll(path, melody, o, r); });
}

}  // namespace partita::data
