// The folder walk shared by the MIDI-folder loaders (midi_folder.cpp for the
// AR-CNN's merged rolls, multitrack_folder.cpp for the GAN's tracks): which files
// are read, in which order, and how an unusable file is reported instead of
// failing the folder. Private to src/data.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "partita/core/error.hpp"
#include "partita/data/midi_folder.hpp"

namespace partita::data::detail {

/// Every *.mid / *.midi file under `folder` (recursively, any case), sorted by
/// path. IoError naming `who` if `folder` is not a readable directory.
std::vector<std::string> midi_files(const std::string& folder, const char* who);

/// make(path, roll) for every file: "" keeps the roll, a reason skips the file
/// ("path: reason" in the report), and so does a partita::Error it throws.
/// InvalidArgument naming `who` when no file is usable.
template <class Roll, class Make>
std::vector<Roll> load_midi_files(const std::string& folder, const char* who, MidiFolderReport* report,
                                  Make&& make) {
  const std::vector<std::string> paths = midi_files(folder, who);
  std::vector<Roll> rolls;
  MidiFolderReport local;
  MidiFolderReport& rep = report ? *report : local;
  for (const auto& p : paths) {
    try {
      Roll r;
      const std::string why = make(p, r);
      if (!why.empty()) {
        rep.skipped.push_back(p + ": " + why);
        continue;
      }
      rolls.push_back(std::move(r));
      rep.used.push_back(p);
    } catch (const Error& e) {
      rep.skipped.push_back(p + ": " + e.what());
    }
  }
  if (rolls.empty())
    throw InvalidArgument(std::string(who) + ": no usable MIDI file in " + folder + " (" +
                          std::to_string(paths.size()) + " found)");
  return rolls;
}

}  // namespace partita::data::detail
