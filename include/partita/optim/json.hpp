// A small JSON value, parser and writer: enough for safetensors headers and the
// model-config strings stored in their `__metadata__`.
//
// Objects keep their keys in insertion order (a file written twice is byte for
// byte the same) and keep repeated keys (find() returns the first; the
// safetensors reader rejects repeats by name). Numbers keep an exact int64 when
// the literal is an integer within int64 (byte offsets, shapes); other numbers,
// integers beyond int64 included, are doubles. The parser (nlohmann-json's, used
// privately by json.cpp) is strict RFC 8259: no comments, no trailing commas, no
// NaN or numbers that overflow a double, strings must be valid UTF-8 (a leading
// UTF-8 byte-order mark is skipped). It limits nesting to 64 arrays/objects and
// reports errors as FormatError("<where>: JSON byte <n>: <cause>"), <n> being
// the 0-based offset where the error was found and <cause> printable ASCII.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace partita::json {

class Value {
 public:
  enum class Type { Null, Bool, Number, String, Array, Object };
  using Array = std::vector<Value>;
  using Object = std::vector<std::pair<std::string, Value>>;

  Value() = default;  // null
  Value(std::nullptr_t) {}
  Value(bool b) : type_(Type::Bool), bool_(b) {}
  Value(int v) : Value(static_cast<std::int64_t>(v)) {}
  Value(std::int64_t v);
  Value(std::uint64_t v);  // InvalidArgument if beyond int64
  Value(double v);
  Value(const char* s) : type_(Type::String), str_(s) {}
  Value(std::string s) : type_(Type::String), str_(std::move(s)) {}
  static Value array(Array items = {});
  static Value object(Object members = {});

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::Null; }
  bool is_bool() const { return type_ == Type::Bool; }
  bool is_number() const { return type_ == Type::Number; }
  bool is_integer() const { return type_ == Type::Number && is_int_; }
  bool is_string() const { return type_ == Type::String; }
  bool is_array() const { return type_ == Type::Array; }
  bool is_object() const { return type_ == Type::Object; }

  // Accessors throw FormatError("json: expected <type>, got <type>") on a type mismatch.
  bool as_bool() const;
  double as_double() const;
  std::int64_t as_int() const;  // integers only (no fraction, no exponent)
  const std::string& as_string() const;
  const Array& as_array() const;
  Array& as_array();
  const Object& as_object() const;
  Object& as_object();

  /// Object member lookup: nullptr when absent (first match if keys repeat).
  const Value* find(std::string_view key) const;
  /// Object member: appends when absent, replaces when present.
  Value& set(std::string key, Value v);
  /// Array append.
  void push_back(Value v);

  /// Compact serialisation (no spaces), keys in insertion order.
  std::string dump() const;

 private:
  void dump_to(std::string& out) const;
  Type type_ = Type::Null;
  bool bool_ = false;
  bool is_int_ = false;
  std::int64_t int_ = 0;
  double num_ = 0.0;
  std::string str_;
  Array arr_;
  Object obj_;
};

const char* type_name(Value::Type t);

/// Parse `text` (the whole of it, surrounding whitespace allowed). `where` prefixes
/// error messages (e.g. the file name).
Value parse(std::string_view text, const std::string& where = "json");

/// `s` as a JSON string literal, with quotes; control characters are escaped,
/// UTF-8 is kept as is.
std::string quote(std::string_view s);

}  // namespace partita::json
