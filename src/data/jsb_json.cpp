// The JSB chorales file read into plain numbers (jsb_json.hpp): a small
// recursive-descent reader for the one JSON shape the file has (object of
// arrays of arrays of arrays of integers), with errors at byte offsets.
#include "data/jsb_json.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "partita/core/error.hpp"

namespace partita::data::detail {
namespace {

class Reader {
 public:
  Reader(const std::string& s, const char* who) : s_(s), who_(who) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw FormatError(std::string(who_) + ": byte " + std::to_string(i_) + ": " + what);
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
  // One chorale: [[p, p, p, p], ...].
  JsbChoraleSteps chorale() {
    JsbChoraleSteps steps;
    array([&] {
      steps.emplace_back();
      array([&] {
        int p = integer();
        if (p < -1 || p > 127) fail("pitch " + std::to_string(p) + " outside -1..127");
        steps.back().push_back(p);
      });
    });
    return steps;
  }
  void end() {
    ws();
    if (i_ != s_.size()) fail("trailing characters after the JSON object");
  }

 private:
  const std::string& s_;
  const char* who_;
  size_t i_ = 0;
};

}  // namespace

JsbSplitsSteps parse_jsb_steps(const std::string& text, const char* who) {
  Reader r(text, who);
  JsbSplitsSteps out;
  bool seen[3] = {false, false, false};
  r.expect('{');
  if (!r.peek('}')) {
    for (;;) {
      std::string key = r.string();
      r.expect(':');
      std::vector<JsbChoraleSteps>* dst = nullptr;
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
    throw FormatError(std::string(who) + ": missing one of the splits train, valid, test");
  return out;
}

std::string read_jsb_file(const std::string& path, const char* who) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(std::string(who) + ": cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw IoError(std::string(who) + ": cannot read " + path);
  return ss.str();
}

}  // namespace partita::data::detail
