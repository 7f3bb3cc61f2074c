// The JSB chorales (Boulanger-Lewandowski et al. 2012 split, Coconet's 16th-note
// JSON) as four-track rolls for the GAN accompaniment model (as the AWS
// DeepComposer GAN sample): one binary MultiTrackRoll per chorale, resolution 4
// (16ths), 4/4, tracks soprano, alto, tenor, bass.
//
// Voice order: the JSON's voice index 0..3 is soprano, alto, tenor, bass (mean
// pitches over the training split 70.4, 65.0, 59.5, 50.6; ranges 60-81, 52-74,
// 46-69, 36-66). Held notes: the file gives one pitch per voice per 16th step, so
// it cannot tell a held note from a repeated one. partita reads consecutive equal
// pitches in one voice as one held note and fills the onset channel to say so: an
// onset where a voice's pitch changes or where it sounds after silence (or at
// step 0).
#pragma once
#include <string>
#include <vector>

#include "partita/music/pianoroll.hpp"

namespace partita::data {

struct JsbMultitrack {
  std::vector<MultiTrackRoll> train, valid, test;
};

/// Names of the four tracks, in track order.
inline constexpr const char* kSatbNames[4] = {"soprano", "alto", "tenor", "bass"};

/// Parse the JSON file at `path`. Throws IoError if it cannot be read and
/// FormatError (naming the byte offset) if it is not the expected structure
/// (four voices per step, pitches -1..127, splits train, valid, test).
JsbMultitrack load_jsb_multitrack(const std::string& path);

/// Same, from the JSON text itself.
JsbMultitrack parse_jsb_multitrack(const std::string& json_text);

}  // namespace partita::data
