// JSON value, parser and compact writer (see json.hpp). Parsing is nlohmann-json's
// SAX parser (https://github.com/nlohmann/json) feeding a builder that makes
// partita::json::Value directly: keys keep their order and repeats, integers stay
// exact int64, nesting is limited, and every error becomes a FormatError naming
// the caller's `where` and the byte offset. nlohmann-json is a private dependency
// of this file only; no public header includes it.
#include "partita/optim/json.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "partita/core/error.hpp"

namespace partita::json {

Value::Value(std::int64_t v) : type_(Type::Number), is_int_(true), int_(v), num_(static_cast<double>(v)) {}

Value::Value(std::uint64_t v) : type_(Type::Number), is_int_(true) {
  if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    throw InvalidArgument("json::Value: integer " + std::to_string(v) + " exceeds int64");
  int_ = static_cast<std::int64_t>(v);
  num_ = static_cast<double>(v);
}

Value::Value(double v) : type_(Type::Number), num_(v) {
  if (!std::isfinite(v)) throw InvalidArgument("json::Value: JSON has no NaN or infinity");
}

Value Value::array(Array items) {
  Value v;
  v.type_ = Type::Array;
  v.arr_ = std::move(items);
  return v;
}

Value Value::object(Object members) {
  Value v;
  v.type_ = Type::Object;
  v.obj_ = std::move(members);
  return v;
}

const char* type_name(Value::Type t) {
  switch (t) {
    case Value::Type::Null: return "null";
    case Value::Type::Bool: return "boolean";
    case Value::Type::Number: return "number";
    case Value::Type::String: return "string";
    case Value::Type::Array: return "array";
    case Value::Type::Object: return "object";
  }
  return "?";
}

static void expect_type(Value::Type got, Value::Type want) {
  if (got != want)
    throw FormatError(std::string("json: expected ") + type_name(want) + ", got " + type_name(got));
}

bool Value::as_bool() const { expect_type(type_, Type::Bool); return bool_; }
double Value::as_double() const { expect_type(type_, Type::Number); return num_; }
std::int64_t Value::as_int() const {
  expect_type(type_, Type::Number);
  if (!is_int_) throw FormatError("json: expected an integer, got a fractional number");
  return int_;
}
const std::string& Value::as_string() const { expect_type(type_, Type::String); return str_; }
const Value::Array& Value::as_array() const { expect_type(type_, Type::Array); return arr_; }
Value::Array& Value::as_array() { expect_type(type_, Type::Array); return arr_; }
const Value::Object& Value::as_object() const { expect_type(type_, Type::Object); return obj_; }
Value::Object& Value::as_object() { expect_type(type_, Type::Object); return obj_; }

const Value* Value::find(std::string_view key) const {
  for (const auto& kv : as_object())
    if (kv.first == key) return &kv.second;
  return nullptr;
}

Value& Value::set(std::string key, Value v) {
  for (auto& kv : as_object())
    if (kv.first == key) return kv.second = std::move(v);
  obj_.emplace_back(std::move(key), std::move(v));
  return obj_.back().second;
}

void Value::push_back(Value v) { as_array().push_back(std::move(v)); }

std::string quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

void Value::dump_to(std::string& out) const {
  switch (type_) {
    case Type::Null: out += "null"; break;
    case Type::Bool: out += bool_ ? "true" : "false"; break;
    case Type::Number:
      if (is_int_) {
        out += std::to_string(int_);
      } else {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", num_);  // round-trips every double
        out += buf;
        // A double printed as digits only (1e16, -0.0) would parse back as an
        // integer (and -0.0 as 0): keep it a double.
        if (std::strpbrk(buf, ".eE") == nullptr) out += ".0";
      }
      break;
    case Type::String: out += quote(str_); break;
    case Type::Array:
      out += '[';
      for (size_t i = 0; i < arr_.size(); ++i) {
        if (i) out += ',';
        arr_[i].dump_to(out);
      }
      out += ']';
      break;
    case Type::Object:
      out += '{';
      for (size_t i = 0; i < obj_.size(); ++i) {
        if (i) out += ',';
        out += quote(obj_[i].first);
        out += ':';
        obj_[i].second.dump_to(out);
      }
      out += '}';
      break;
  }
}

std::string Value::dump() const {
  std::string out;
  dump_to(out);
  return out;
}

namespace {

constexpr int kMaxDepth = 64;

// Byte offset of the bracket that opens nesting level kMaxDepth + 1 in `s`
// (strings skipped); called only once the parser has seen that level, so the
// prefix up to it is well-formed JSON.
std::size_t too_deep_offset(std::string_view s) {
  int depth = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"') {
      for (++i; i < s.size() && s[i] != '"'; ++i)
        if (s[i] == '\\') ++i;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return s.size();
}

// nlohmann's error text is "[json.exception.parse_error.101] parse error at line
// 1, column 4: <cause>"; keep the cause (partita reports the byte offset itself).
// The cause quotes the input read last, which may be anything: bytes outside
// printable ASCII are written as \xNN so that the message is always valid text
// (a Python exception message must be UTF-8).
std::string cause_of(const char* what) {
  std::string_view w(what);
  if (const auto col = w.find("column "); col != std::string_view::npos) {
    if (const auto colon = w.find(": ", col); colon != std::string_view::npos)
      w.remove_prefix(colon + 2);
  } else if (const auto bracket = w.find("] "); bracket != std::string_view::npos) {
    w.remove_prefix(bracket + 2);
  }
  std::string out;
  out.reserve(w.size());
  for (const unsigned char c : w) {
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

using Nl = nlohmann::json;

// SAX handler: builds the Value tree. `open_` holds the containers being filled,
// innermost last; a container is added to its parent when it opens and the parent
// receives nothing else until it closes, so the pointers stay valid.
class Builder : public nlohmann::json_sax<Nl> {
 public:
  Builder(std::string_view text, const std::string& where) : text_(text), where_(where) {}

  Value take() { return std::move(root_); }

  bool null() override { add(Value()); return true; }
  bool boolean(bool b) override { add(Value(b)); return true; }
  bool number_integer(number_integer_t v) override { add(Value(static_cast<std::int64_t>(v))); return true; }
  bool number_unsigned(number_unsigned_t v) override {
    // Beyond int64: a double, as for any integer literal too large to keep exact.
    if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      add(Value(static_cast<double>(v)));
    else
      add(Value(static_cast<std::int64_t>(v)));
    return true;
  }
  bool number_float(number_float_t v, const string_t&) override { add(Value(v)); return true; }
  bool string(string_t& s) override { add(Value(std::move(s))); return true; }
  bool binary(binary_t&) override { return true; }  // not produced by the JSON format

  bool start_object(std::size_t) override { open(Value::object()); return true; }
  bool key(string_t& k) override { keys_.back() = std::move(k); return true; }
  bool end_object() override { close(); return true; }
  bool start_array(std::size_t) override { open(Value::array()); return true; }
  bool end_array() override { close(); return true; }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) override {
    // `position` counts the characters read, the offending one (or the end) included.
    fail(position > 0 ? position - 1 : 0, cause_of(e.what()));
  }

 private:
  [[noreturn]] void fail(std::size_t byte, const std::string& what) const {
    throw FormatError(where_ + ": JSON byte " + std::to_string(byte) + ": " + what);
  }

  // Puts `v` where the document is at (root, array element or object member)
  // and returns it in place.
  Value& add(Value v) {
    if (open_.empty()) return root_ = std::move(v);
    Value& parent = *open_.back();
    if (parent.is_array()) {
      parent.as_array().push_back(std::move(v));
      return parent.as_array().back();
    }
    auto& members = parent.as_object();
    members.emplace_back(std::move(keys_.back()), std::move(v));
    return members.back().second;
  }

  void open(Value container) {
    if (open_.size() >= static_cast<std::size_t>(kMaxDepth))
      fail(too_deep_offset(text_), "nesting deeper than 64 levels");
    Value& placed = add(std::move(container));
    open_.push_back(&placed);
    keys_.emplace_back();
  }

  void close() {
    open_.pop_back();
    keys_.pop_back();
  }

  std::string_view text_;
  const std::string& where_;
  Value root_;
  std::vector<Value*> open_;
  std::vector<std::string> keys_;
};

}  // namespace

Value parse(std::string_view text, const std::string& where) {
  Builder b(text, where);
  // Strict: one value, then only whitespace; no comments.
  Nl::sax_parse(text.data(), text.data() + text.size(), &b, nlohmann::detail::input_format_t::json,
                /*strict=*/true, /*ignore_comments=*/false);
  return b.take();
}

}  // namespace partita::json
