// JSB chorales as SATB multitrack rolls for the GAN (the file is read by
// jsb_json.hpp; jsb_chorales.cpp merges the same voices for the AR-CNN).
#include "partita/data/jsb_multitrack.hpp"

#include <string>

#include "data/jsb_json.hpp"
#include "partita/core/error.hpp"

namespace partita::data {
namespace {

// One chorale's four voices as S, A, T, B tracks (voice k of the file is track k:
// soprano highest on average), with onsets where a voice's pitch changes or
// follows silence (the file cannot tell a held note from a repeated one).
MultiTrackRoll satb_roll(const detail::JsbChoraleSteps& steps, size_t index, const char* split) {
  MultiTrackRoll roll(4, steps.size(), RollGrid{}, /*with_onsets=*/true);
  roll.binary = true;
  roll.info.resize(4);
  for (size_t k = 0; k < 4; ++k) roll.info[k] = TrackInfo{kSatbNames[k], 0, false};
  const size_t T = steps.size();
  std::uint8_t* cells = roll.data();
  std::uint8_t* ons = roll.onsets_data();
  for (size_t t = 0; t < T; ++t)
    if (steps[t].size() != 4)
      throw FormatError("parse_jsb_multitrack: " + std::string(split) + " chorale " + std::to_string(index) +
                        " step " + std::to_string(t) + ": expected four voices, got " +
                        std::to_string(steps[t].size()));
  for (size_t k = 0; k < 4; ++k)
    for (size_t t = 0; t < T; ++t) {
      const int p = steps[t][k];
      if (p < 0) continue;
      const size_t at = (k * T + t) * kPitches + static_cast<size_t>(p);
      cells[at] = 1;
      if (t == 0 || steps[t - 1][k] != p) ons[at] = 1;
    }
  return roll;
}

std::vector<MultiTrackRoll> satb_rolls(const std::vector<detail::JsbChoraleSteps>& chorales, const char* split) {
  std::vector<MultiTrackRoll> out;
  out.reserve(chorales.size());
  for (size_t i = 0; i < chorales.size(); ++i) out.push_back(satb_roll(chorales[i], i, split));
  return out;
}

}  // namespace

JsbMultitrack parse_jsb_multitrack(const std::string& text) {
  const detail::JsbSplitsSteps s = detail::parse_jsb_steps(text, "parse_jsb_multitrack");
  JsbMultitrack out;
  out.train = satb_rolls(s.train, "train");
  out.valid = satb_rolls(s.valid, "valid");
  out.test = satb_rolls(s.test, "test");
  return out;
}

JsbMultitrack load_jsb_multitrack(const std::string& path) {
  return parse_jsb_multitrack(detail::read_jsb_file(path, "load_jsb_multitrack"));
}

}  // namespace partita::data
