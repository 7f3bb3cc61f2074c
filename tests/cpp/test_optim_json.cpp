// The small JSON parser/writer behind safetensors headers.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "partita/core/error.hpp"
#include "partita/optim/json.hpp"

using namespace partita;
using partita::json::Value;

TEST(Json, ParsesEveryType) {
  Value v = json::parse(R"( {"a": [1, -2, 3.5, 1e3, 0], "b": {"c": null, "d": true, "e": false},
                           "s": "x\"y\\z\/\n\t\u00e9\ud83c\udfb5", "big": 9007199254740993} )");
  ASSERT_TRUE(v.is_object());
  const auto& a = v.find("a")->as_array();
  ASSERT_EQ(a.size(), 5u);
  EXPECT_EQ(a[0].as_int(), 1);
  EXPECT_EQ(a[1].as_int(), -2);
  EXPECT_DOUBLE_EQ(a[2].as_double(), 3.5);
  EXPECT_FALSE(a[3].is_integer());  // exponent: a double
  EXPECT_DOUBLE_EQ(a[3].as_double(), 1000.0);
  EXPECT_THROW(a[2].as_int(), FormatError);
  EXPECT_TRUE(v.find("b")->find("c")->is_null());
  EXPECT_TRUE(v.find("b")->find("d")->as_bool());
  EXPECT_EQ(v.find("s")->as_string(), "x\"y\\z/\n\t\xc3\xa9\xf0\x9f\x8e\xb5");
  EXPECT_EQ(v.find("big")->as_int(), 9007199254740993LL);  // exact beyond 2^53
  EXPECT_EQ(v.find("missing"), nullptr);
  EXPECT_THROW(v.find("a")->as_string(), FormatError);
}

TEST(Json, DumpRoundTrips) {
  Value o = Value::object();
  o.set("name", "caf\xc3\xa9 \"q\"\n\x01");
  o.set("shape", Value::array({Value(2), Value(3)}));
  o.set("x", 0.1);
  o.set("ok", true);
  o.set("none", nullptr);
  o.set("x", 0.25);  // replaces, keeps position
  const std::string s = o.dump();
  EXPECT_EQ(s, "{\"name\":\"caf\xc3\xa9 \\\"q\\\"\\n\\u0001\",\"shape\":[2,3],\"x\":0.25,\"ok\":true,\"none\":null}");
  Value back = json::parse(s);
  EXPECT_EQ(back.dump(), s);
  EXPECT_DOUBLE_EQ(json::parse(Value(0.1).dump()).as_double(), 0.1);
  // Doubles that print as digits stay doubles (found by tests/fuzz/fuzz_weights):
  // -0.0 keeps its sign, 1e16 does not turn into an integer.
  EXPECT_EQ(Value(-0.0).dump(), "-0.0");
  EXPECT_TRUE(std::signbit(json::parse(Value(-0.0).dump()).as_double()));
  EXPECT_EQ(Value(1e16).dump(), "10000000000000000.0");
  EXPECT_FALSE(json::parse(Value(1e16).dump()).is_integer());
  EXPECT_EQ(Value(2.0).dump(), "2.0");
  EXPECT_EQ(json::parse("-2.5e-666676").dump(), "-0.0");
  EXPECT_THROW(Value(std::nan("")), InvalidArgument);
}

TEST(Json, RejectsMalformedInputWithByteOffsets) {
  const char* bad[] = {"",       "{",         "{\"a\" 1}",  "[1,]",     "{\"a\":1,}", "01",
                       "1.",     "-",         "1e",         "tru",      "\"abc",     "\"\\x\"",
                       "\"\\ud800\"", "\"\\udc00\"", "\"a\nb\"", "[1] x", "NaN",    "{1:2}"};
  for (const char* s : bad) {
    try {
      json::parse(s, "hdr");
      ADD_FAILURE() << "accepted: " << s;
    } catch (const FormatError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("hdr: JSON byte ", 0), 0u) << e.what();
    }
  }
  std::string deep(100, '[');
  deep += std::string(100, ']');
  EXPECT_THROW(json::parse(deep), FormatError);
  std::string ok(60, '[');
  ok += std::string(60, ']');
  EXPECT_NO_THROW(json::parse(ok));
}

TEST(Json, ErrorsNameTheByteAndStayPrintable) {
  auto message = [](const std::string& text) {
    try {
      json::parse(text, "hdr");
    } catch (const FormatError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message("{\"a\" 1}").rfind("hdr: JSON byte 5: ", 0), 0u) << message("{\"a\" 1}");
  EXPECT_EQ(message("[1] x").rfind("hdr: JSON byte 4: ", 0), 0u) << message("[1] x");
  EXPECT_EQ(message("[1e400]").rfind("hdr: JSON byte 5: ", 0), 0u) << message("[1e400]");  // overflows a double
  // Strings must be UTF-8; the message quotes the bad byte as \xff, never raw.
  const std::string bad_utf8 = message("[\"a\xff\"]");
  EXPECT_EQ(bad_utf8.rfind("hdr: JSON byte ", 0), 0u) << bad_utf8;
  EXPECT_EQ(bad_utf8.find('\xff'), std::string::npos);
  EXPECT_NE(bad_utf8.find("\\xff"), std::string::npos) << bad_utf8;
  // Nesting: 64 levels parse, the 65th bracket (byte 64) is refused.
  EXPECT_NO_THROW(json::parse(std::string(64, '[') + std::string(64, ']')));
  EXPECT_EQ(message(std::string(65, '[')).rfind("hdr: JSON byte 64: nesting", 0), 0u);
  EXPECT_EQ(message("[\"[[[[\"," + std::string(65, '[') + std::string(65, ']') + "]").rfind("hdr: JSON byte 71: nesting", 0), 0u);
}

TEST(Json, KeepsRepeatedKeysAndExactIntegers) {
  Value v = json::parse(R"({"k": 1, "j": 2, "k": 3})");
  const auto& members = v.as_object();
  ASSERT_EQ(members.size(), 3u);
  EXPECT_EQ(members[2].first, "k");
  EXPECT_EQ(v.find("k")->as_int(), 1);  // the first
  Value n = json::parse("[9223372036854775807, -9223372036854775808, 9223372036854775808, -0, 0.5]");
  const auto& a = n.as_array();
  EXPECT_EQ(a[0].as_int(), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(a[1].as_int(), std::numeric_limits<std::int64_t>::min());
  EXPECT_FALSE(a[2].is_integer());  // beyond int64: a double
  EXPECT_DOUBLE_EQ(a[2].as_double(), 9223372036854775808.0);
  EXPECT_EQ(a[3].as_int(), 0);
  EXPECT_EQ(n.dump(), "[9223372036854775807,-9223372036854775808,9.2233720368547758e+18,0,0.5]");
}
