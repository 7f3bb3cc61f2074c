// JSB chorales loader for the AR-CNN: every chorale's four voices merged into
// one binary roll on the 16th-note grid (the file is read by jsb_json.hpp).
#include "partita/data/jsb_chorales.hpp"

#include <fstream>

#include "data/jsb_json.hpp"
#include "partita/core/error.hpp"

namespace partita::data {
namespace {

PianoRoll merged_roll(const detail::JsbChoraleSteps& steps) {
  PianoRoll roll(steps.size());  // RollGrid{}: 16th notes, 4/4
  roll.binary = true;
  for (size_t t = 0; t < steps.size(); ++t)
    for (int p : steps[t])
      if (p >= 0) roll(t, static_cast<std::size_t>(p)) = 1;
  return roll;
}

std::vector<PianoRoll> merged_rolls(const std::vector<detail::JsbChoraleSteps>& chorales) {
  std::vector<PianoRoll> out;
  out.reserve(chorales.size());
  for (const auto& c : chorales) out.push_back(merged_roll(c));
  return out;
}

}  // namespace

JsbChorales parse_jsb_chorales(const std::string& text) {
  const detail::JsbSplitsSteps s = detail::parse_jsb_steps(text, "parse_jsb_chorales");
  JsbChorales out;
  out.train = merged_rolls(s.train);
  out.valid = merged_rolls(s.valid);
  out.test = merged_rolls(s.test);
  return out;
}

JsbChorales load_jsb_chorales(const std::string& path) {
  return parse_jsb_chorales(detail::read_jsb_file(path, "load_jsb_chorales"));
}

std::string default_jsb_path() {
  const std::string rel = "jsb-chorales/Jsb16thSeparated.json";
  std::vector<std::string> tried;
  if (const char* env = std::getenv("PARTITA_DATA_DIR")) tried.push_back(std::string(env) + "/" + rel);
#ifdef PARTITA_SOURCE_DIR
  // The source tree this library was built from (absent in relocatable builds).
  tried.push_back(std::string(PARTITA_SOURCE_DIR) + "/data/" + rel);
#endif
  tried.push_back("data/" + rel);
  for (const auto& p : tried)
    if (std::ifstream(p).good()) return p;
  std::string msg = "default_jsb_path: Jsb16thSeparated.json not found; tried";
  for (const auto& p : tried) msg += " " + p;
  throw IoError(msg + " (set PARTITA_DATA_DIR)");
}

}  // namespace partita::data
