// JSB chorales as SATB multitrack rolls: a small reader for the file's one JSON
// shape (object of arrays of arrays of four integers) that keeps the voices apart.
#include "partita/data/jsb_multitrack.hpp"

#include <array>
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
    throw FormatError("parse_jsb_multitrack: byte " + std::to_string(i_) + ": " + what);
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
      if (peek(',')) { ++i_; continue; }
      expect(']');
      return;
    }
  }
  MultiTrackRoll chorale() {
    std::vector<std::array<int, 4>> steps;
    array([&] {
      std::array<int, 4> v{};
      int n = 0;
      array([&] {
        int p = integer();
        if (p < -1 || p > 127) fail("pitch " + std::to_string(p) + " outside -1..127");
        if (n >= 4) fail("more than four voices in a step");
        v[static_cast<size_t>(n++)] = p;
      });
      if (n != 4) fail("expected four voices in a step, got " + std::to_string(n));
      steps.push_back(v);
    });
    MultiTrackRoll roll(4, steps.size(), RollGrid{}, /*with_onsets=*/true);
    roll.binary = true;
    roll.info.resize(4);
    for (size_t k = 0; k < 4; ++k) roll.info[k] = TrackInfo{kSatbNames[k], 0, false};
    const size_t T = steps.size();
    std::uint8_t* cells = roll.data();
    std::uint8_t* ons = roll.onsets_data();
    for (size_t k = 0; k < 4; ++k)
      for (size_t t = 0; t < T; ++t) {
        int p = steps[t][k];
        if (p < 0) continue;
        size_t at = (k * T + t) * kPitches + static_cast<size_t>(p);
        cells[at] = 1;
        if (t == 0 || steps[t - 1][k] != p) ons[at] = 1;
      }
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

JsbMultitrack parse_jsb_multitrack(const std::string& text) {
  Reader r(text);
  JsbMultitrack out;
  bool seen[3] = {false, false, false};
  r.expect('{');
  if (!r.peek('}')) {
    for (;;) {
      std::string key = r.string();
      r.expect(':');
      std::vector<MultiTrackRoll>* dst = nullptr;
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
    throw FormatError("parse_jsb_multitrack: missing one of the splits train, valid, test");
  return out;
}

JsbMultitrack load_jsb_multitrack(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("load_jsb_multitrack: cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw IoError("load_jsb_multitrack: cannot read " + path);
  return parse_jsb_multitrack(ss.str());
}

}  // namespace partita::data
