// The JSB chorales file (Jsb16thSeparated.json, as published for Coconet) read
// into plain numbers, for the loaders that lay it out as rolls (jsb_chorales.cpp:
// voices merged for the AR-CNN; jsb_multitrack.cpp: SATB tracks for the GAN).
// Private to src/data.
#pragma once
#include <string>
#include <vector>

namespace partita::data::detail {

/// One chorale: its 16th-note steps, each the pitches of its voices (-1 = silent).
using JsbChoraleSteps = std::vector<std::vector<int>>;

/// The three splits, train, valid and test, of chorales.
struct JsbSplitsSteps {
  std::vector<JsbChoraleSteps> train, valid, test;
};

/// Parse the file's one JSON shape: {"train"|"valid"|"test": [[[pitch, ...], ...], ...]},
/// pitches integers in -1..127. FormatError naming `who` and the byte offset otherwise,
/// or when a split is missing.
JsbSplitsSteps parse_jsb_steps(const std::string& text, const char* who);

/// The whole file at `path`; IoError naming `who` and the path.
std::string read_jsb_file(const std::string& path, const char* who);

}  // namespace partita::data::detail
