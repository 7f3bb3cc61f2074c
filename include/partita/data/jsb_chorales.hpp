// The JSB chorales (Boulanger-Lewandowski et al. 2012 split, Coconet's 16th-note
// JSON) as binary PianoRolls at resolution 4: four voices merged, one roll per
// chorale.
//
// The file is {"train": [...229], "valid": [...76], "test": [...77]}; each chorale
// is a list of 16th-note steps, each step a list of MIDI pitches (-1 = silent).
// Merging the voices gives the AR-CNN's binarized (time, 128) grid (as the AWS DeepComposer sample).
#pragma once
#include <string>
#include <vector>

#include "partita/music/pianoroll.hpp"

namespace partita::data {

struct JsbChorales {
  std::vector<PianoRoll> train, valid, test;
};

/// Parse the JSON file at `path`. Throws IoError if it cannot be read and
/// FormatError (naming the byte offset) if it is not the expected structure.
JsbChorales load_jsb_chorales(const std::string& path);

/// Same, from the JSON text itself (used by tests and by load_jsb_chorales).
JsbChorales parse_jsb_chorales(const std::string& json_text);

/// Where the bundled Jsb16thSeparated.json is: $PARTITA_DATA_DIR/jsb-chorales/...,
/// else the source tree's data/ folder. Throws IoError naming the places tried.
std::string default_jsb_path();

}  // namespace partita::data
