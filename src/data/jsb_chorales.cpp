// JSB chorales loader: a small recursive-descent reader for the one JSON shape
// the file has (object of arrays of arrays of arrays of integers), so the data
// layer needs no JSON library.
#include "partita/data/jsb_chorales.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "partita/core/error.hpp"

namespace partita::data {
namespace {

class Reader {
 public:
  explicit Reader(const std::string& s) : s_(s) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw FormatError("parse_jsb_chorales: byte " + std::to_string(i_) + ": " + what);
  }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t'))
      ++i_;
  }
  bool peek(char c) {
    ws();
    return i_ < s_.size() && s_[i_] == c;
  }
  void expect(char c) {
    ws();
    if (i_ >= s_.size()) fail(std::string("expected '") + c + "', got end of input");
    if (s_[i_] != c) fail(std::string("expected '") + c + "', got '" + s_[i_] + "'");
    ++i_;
  }
  std::string string() {
    expect('"');
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') out += s_[i_++];
    if (i_ >= s_.size()) fail("unterminated string");
    ++i_;
    return out;
  }
  // An integer, also accepted as a float with a zero fraction ("60.0").
  int integer() {
    ws();
    size_t start = i_;
    if (i_ < s_.size() && (s_[i_] == '-' || s_[i_] == '+')) ++i_;
    while (i_ < s_.size() && ((s_[i_] >= '0' && s_[i_] <= '9') || s_[i_] == '.' ||
                              s_[i_] == 'e' || s_[i_] == 'E' || s_[i_] == '-'))
      ++i_;
    if (start == i_) fail("expected a number");
    double v = std::strtod(s_.substr(start, i_ - start).c_str(), nullptr);
    if (v != static_cast<int>(v)) fail("expected an integer pitch");
    return static_cast<int>(v);
  }
  template <class Fn>
  void array(Fn&& element) {
    expect('[');
    if (peek(']')) { ++i_; return; }
    for (;;) {
      element();
      ws();
      if (peek(',')) { ++i_; continue; }
      expect(']');
      return;
    }
  }
  // One chorale: [[p, p, p, p], ...] -> merged roll.
  PianoRoll chorale() {
    std::vector<std::vector<int>> steps;
    array([&] {
      steps.emplace_back();
      array([&] {
        int p = integer();
        if (p < -1 || p > 127) fail("pitch " + std::to_string(p) + " outside -1..127");
        if (p >= 0) steps.back().push_back(p);
      });
    });
    PianoRoll roll(steps.size());  // RollGrid{}: 16th notes, 4/4
    roll.binary = true;
    for (size_t t = 0; t < steps.size(); ++t)
      for (int p : steps[t]) roll(t, static_cast<std::size_t>(p)) = 1;
    return roll;
  }
  void end() {
    ws();
    if (i_ != s_.size()) fail("trailing characters after the JSON object");
  }

 private:
  const std::string& s_;
  size_t i_ = 0;
};

}  // namespace

JsbChorales parse_jsb_chorales(const std::string& text) {
  Reader r(text);
  JsbChorales out;
  bool seen[3] = {false, false, false};
  r.expect('{');
  if (!r.peek('}')) {
    for (;;) {
      std::string key = r.string();
      r.expect(':');
      std::vector<PianoRoll>* dst = nullptr;
      int k = -1;
      if (key == "train") dst = &out.train, k = 0;
      else if (key == "valid") dst = &out.valid, k = 1;
      else if (key == "test") dst = &out.test, k = 2;
      else r.fail("unexpected key \"" + key + "\" (expected train, valid, test)");
      seen[k] = true;
      r.array([&] { dst->push_back(r.chorale()); });
      if (r.peek(',')) { r.expect(','); continue; }
      break;
    }
  }
  r.expect('}');
  r.end();
  if (!seen[0] || !seen[1] || !seen[2])
    throw FormatError("parse_jsb_chorales: missing one of the splits train, valid, test");
  return out;
}

JsbChorales load_jsb_chorales(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("load_jsb_chorales: cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw IoError("load_jsb_chorales: cannot read " + path);
  return parse_jsb_chorales(ss.str());
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
