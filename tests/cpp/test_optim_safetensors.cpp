// safetensors: round trips (generic tensors and ParameterSets with layout
// conversion), files written by PyTorch, and every malformed-file error.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fstream>
#include <string>
#include <vector>

#include "partita/core/error.hpp"
#include "partita/core/random.hpp"
#include "partita/optim/json.hpp"
#include "partita/optim/safetensors.hpp"

using namespace partita;
using namespace partita::optim;

namespace {

std::string tmp_path(const std::string& name) {
  return ::testing::TempDir() + "partita_st_" + name;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// Write a raw file: 8-byte length, header, data.
std::string write_raw(const std::string& name, const std::string& header, const std::string& data) {
  const std::string path = tmp_path(name);
  std::ofstream f(path, std::ios::binary);
  std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) f.put(static_cast<char>(n >> (8 * i)));
  f << header << data;
  return path;
}

// Expect a WeightsError whose message contains every needle.
template <class F>
void expect_weights_error(F&& f, std::vector<std::string> needles) {
  try {
    f();
    FAIL() << "no exception";
  } catch (const WeightsError& e) {
    for (const auto& n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos)
        << "message '" << e.what() << "' lacks '" << n << "'";
  }
}

void build_model(nn::ParameterSet& ps, std::uint64_t seed) {
  ps.add("enc.conv.weight", {4, 4, 3, 5}, nn::init_uniform(-1, 1), nn::Layout::ConvHWIO);
  ps.add("enc.conv.bias", {5}, nn::init_uniform(-1, 1));
  ps.add("fc.weight", {7, 2}, nn::init_uniform(-1, 1), nn::Layout::LinearIO);
  ps.add("bn.running_mean", {5}, nn::init_uniform(-1, 1), nn::Layout::Same, false);
  ps.allocate(seed);
}

}  // namespace

TEST(Safetensors, GenericRoundTrip) {
  std::vector<float> f32 = {1.5f, -2.0f, 3.25f, 0.0f, 1e-30f, -7.0f};
  std::vector<std::int64_t> i64 = {-1, 0, 1LL << 40};
  std::vector<std::uint8_t> u8 = {0, 255, 7};
  double f64 = 3.141592653589793;
  const std::string path = tmp_path("generic.safetensors");
  write_safetensors(path,
                    {{"a.f32", DType::F32, {2, 3}, f32.data()},
                     {"b.i64", DType::I64, {3}, i64.data()},
                     {"c.u8", DType::U8, {3, 1}, u8.data()},
                     {"d.scalar", DType::F64, {}, &f64},
                     {"e.empty", DType::F32, {0, 4}, nullptr}},
                    {{"config", "{\"layers\": 2, \"name\": \"caf\xc3\xa9\"}"}, {"quote", "a\"b\\c\n"}});
  const std::string bytes = slurp(path);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  EXPECT_EQ((8 + n) % 8, 0u) << "data section must start 8-byte aligned";
  EXPECT_EQ(bytes[8], '{');

  Metadata meta;
  auto ts = read_safetensors(path, &meta);
  ASSERT_EQ(ts.size(), 5u);
  EXPECT_EQ(meta.at("partita.format"), "1");
  EXPECT_EQ(meta.at("config"), "{\"layers\": 2, \"name\": \"caf\xc3\xa9\"}");
  EXPECT_EQ(meta.at("quote"), "a\"b\\c\n");
  EXPECT_EQ(ts[0].name, "a.f32");
  EXPECT_EQ(ts[0].shape, (Shape{2, 3}));
  EXPECT_EQ(std::memcmp(ts[0].bytes.data(), f32.data(), 24), 0);
  EXPECT_EQ(ts[1].dtype, DType::I64);
  EXPECT_EQ(std::memcmp(ts[1].bytes.data(), i64.data(), 24), 0);
  EXPECT_EQ(ts[2].bytes, u8);
  EXPECT_EQ(ts[3].shape, Shape{});
  double back;
  std::memcpy(&back, ts[3].bytes.data(), 8);
  EXPECT_EQ(back, f64);
  EXPECT_TRUE(ts[4].bytes.empty());

  SafetensorsReader r(path);
  Tensor t = r.read_f32("a.f32");
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t[2], 3.25f);
  expect_weights_error([&] { r.read_f32("b.i64"); }, {"b.i64", "I64"});
  expect_weights_error([&] { r.read_f32("nope"); }, {"nope"});
  std::remove(path.c_str());
}

TEST(Safetensors, WriterRejectsBadNames) {
  float x = 1;
  EXPECT_THROW(write_safetensors(tmp_path("x"), {{"a", DType::F32, {1}, &x}, {"a", DType::F32, {1}, &x}}),
               InvalidArgument);
  EXPECT_THROW(write_safetensors(tmp_path("x"), {{"__metadata__", DType::F32, {1}, &x}}), InvalidArgument);
}

TEST(Safetensors, ReadsFilesWrittenByPyTorch) {
  SafetensorsReader r(PARTITA_TEST_DATA "/optim/adam.safetensors");
  const TensorInfo* info = r.find("adam.p2.init");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->shape, (Shape{2, 3, 2, 2}));
  EXPECT_EQ(info->dtype, DType::F32);
  EXPECT_EQ(r.metadata().at("steps"), "5");
  EXPECT_EQ(r.tensors().size(), 3u * 3u * 11u);
}

TEST(Safetensors, ParameterSetRoundTripWithTorchLayouts) {
  nn::ParameterSet a, b;
  build_model(a, 1);
  build_model(b, 2);
  const std::string path = tmp_path("model.safetensors");
  save_safetensors(path, a, {{"config", "{\"filters\":5}"}});

  // The file holds the twin's layouts: conv (out, in, kh, kw), linear (out, in).
  SafetensorsReader r(path);
  EXPECT_EQ(r.metadata().at("config"), "{\"filters\":5}");
  EXPECT_EQ(r.metadata().at("partita.format"), "1");
  Tensor conv = r.read_f32("enc.conv.weight");
  ASSERT_EQ(conv.shape(), (Shape{5, 3, 4, 4}));
  const Tensor& w = a.get("enc.conv.weight").value;  // (kh, kw, in, out)
  for (int kh = 0; kh < 4; ++kh)
    for (int kw = 0; kw < 4; ++kw)
      for (int ci = 0; ci < 3; ++ci)
        for (int co = 0; co < 5; ++co)
          ASSERT_EQ(conv[((co * 3 + ci) * 4 + kh) * 4 + kw], w[((kh * 4 + kw) * 3 + ci) * 5 + co]);
  Tensor fc = r.read_f32("fc.weight");
  ASSERT_EQ(fc.shape(), (Shape{2, 7}));
  EXPECT_EQ(fc[1 * 7 + 3], a.get("fc.weight").value[3 * 2 + 1]);
  EXPECT_EQ(r.tensors().size(), 4u);  // non-trainable buffers are saved too

  LoadReport rep = load_safetensors(path, b);
  EXPECT_EQ(rep.loaded.size(), 4u);
  EXPECT_TRUE(rep.missing.empty());
  for (const auto& p : a.params()) {
    const Tensor& other = b.get(p.name).value;
    for (std::int64_t i = 0; i < p.value.size(); ++i) ASSERT_EQ(p.value[i], other[i]) << p.name;
  }
  std::remove(path.c_str());
}

TEST(Safetensors, StrictAndNonStrictLoads) {
  nn::ParameterSet a;
  build_model(a, 1);
  const std::string path = tmp_path("partial.safetensors");
  std::vector<float> bias(5, 0.5f), extra(2, 1.0f);
  std::int64_t nbt = 3;
  write_safetensors(path, {{"enc.conv.bias", DType::F32, {5}, bias.data()},
                           {"head.weight", DType::F32, {2}, extra.data()},
                           {"bn.num_batches_tracked", DType::I64, {}, &nbt}});
  const float before = a.get("enc.conv.bias").value[0];
  expect_weights_error([&] { load_safetensors(path, a, true); },
                       {path, "missing", "enc.conv.weight", "unexpected", "head.weight"});
  EXPECT_EQ(a.get("enc.conv.bias").value[0], before) << "a failed load must not modify the model";
  LoadReport rep = load_safetensors(path, a, false);
  EXPECT_EQ(rep.loaded, std::vector<std::string>{"enc.conv.bias"});
  EXPECT_EQ(rep.missing.size(), 3u);
  EXPECT_EQ(rep.unexpected, std::vector<std::string>{"head.weight"});  // num_batches_tracked ignored
  EXPECT_EQ(a.get("enc.conv.bias").value[0], 0.5f);
  std::remove(path.c_str());
}

TEST(Safetensors, WrongShapeAndDtype) {
  nn::ParameterSet a;
  build_model(a, 1);
  const std::string path = tmp_path("bad_shape.safetensors");
  nn::ParameterSet ours;
  build_model(ours, 3);
  // Conv weight saved in OUR layout (kh, kw, in, out) instead of the twin's.
  std::vector<TensorRef> refs;
  for (const auto& p : ours.params()) refs.push_back({p.name, DType::F32, p.shape, p.value.data()});
  write_safetensors(path, refs);
  expect_weights_error([&] { load_safetensors(path, a); }, {path, "enc.conv.weight", "shape", "(5, 3, 4, 4)"});

  std::vector<double> d(5, 1.0);
  write_safetensors(path, {{"enc.conv.bias", DType::F64, {5}, d.data()}});
  expect_weights_error([&] { load_safetensors(path, a, false); }, {"enc.conv.bias", "F64", "F32"});
  std::remove(path.c_str());
}

TEST(Safetensors, MalformedFiles) {
  const std::string data16(16, '\0');
  auto hdr = [](const std::string& body) { return body; };
  // Shorter than the 8-byte length prefix.
  {
    const std::string path = tmp_path("tiny");
    std::ofstream(path, std::ios::binary) << "abc";
    expect_weights_error([&] { SafetensorsReader r(path); }, {path, "truncated"});
  }
  // Header length beyond the end of the file.
  {
    const std::string path = tmp_path("hdrlen");
    std::ofstream f(path, std::ios::binary);
    std::uint64_t n = 1000;
    for (int i = 0; i < 8; ++i) f.put(static_cast<char>(n >> (8 * i)));
    f << "{}";
    f.close();
    expect_weights_error([&] { SafetensorsReader r(path); }, {path, "header length 1000"});
  }
  // Bad JSON (a WeightsError naming the file and the byte).
  {
    const std::string path = write_raw("badjson", "{\"a\": {\"dtype\": \"F32\",}}", data16);
    try {
      SafetensorsReader r(path);
      FAIL();
    } catch (const WeightsError& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("JSON byte"), std::string::npos) << e.what();
    }
    EXPECT_THROW(SafetensorsReader(write_raw("notobj", "[1, 2]", "")), WeightsError);
  }
  // Unknown dtype.
  expect_weights_error(
      [&] { SafetensorsReader r(write_raw("dtype", hdr("{\"w\":{\"dtype\":\"F8\",\"shape\":[4],\"data_offsets\":[0,4]}}"), data16)); },
      {"'w'", "unsupported dtype 'F8'"});
  // Offsets beyond the data section (a truncated file).
  expect_weights_error(
      [&] { SafetensorsReader r(write_raw("range", "{\"w\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0,32]}}", data16)); },
      {"'w'", "out of range", "16 bytes"});
  // Offsets inconsistent with dtype x shape.
  expect_weights_error(
      [&] { SafetensorsReader r(write_raw("size", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", data16)); },
      {"'w'", "needs 16"});
  // Overlapping tensors.
  expect_weights_error(
      [&] {
        SafetensorsReader r(write_raw("overlap",
                                      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                                      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                                      data16));
      },
      {"overlap", "'a'", "'b'"});
  // Reversed offsets, negative extents, duplicate names, non-string metadata.
  expect_weights_error(
      [&] { SafetensorsReader r(write_raw("rev", "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", data16)); },
      {"'w'", "end before"});
  expect_weights_error(
      [&] { SafetensorsReader r(write_raw("neg", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", data16)); },
      {"'w'", "non-negative"});
  expect_weights_error(
      [&] {
        SafetensorsReader r(write_raw("dup",
                                      "{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                                      "\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}",
                                      data16));
      },
      {"duplicate", "'w'"});
  expect_weights_error([&] { SafetensorsReader r(write_raw("meta", "{\"__metadata__\":{\"k\":1}}", "")); },
                       {"__metadata__", "'k'"});
  // Shapes whose element count would overflow.
  expect_weights_error(
      [&] {
        SafetensorsReader r(write_raw("huge",
                                      "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
                                      "\"data_offsets\":[0,4]}}",
                                      data16));
      },
      {"'w'", "too large"});
  // A missing file or a folder is an IoError.
  EXPECT_THROW(SafetensorsReader(tmp_path("does_not_exist")), IoError);
  EXPECT_THROW(SafetensorsReader(::testing::TempDir()), Error);
}

TEST(Safetensors, TruncatedValidFileIsRejected) {
  nn::ParameterSet a;
  build_model(a, 1);
  const std::string path = tmp_path("trunc.safetensors");
  save_safetensors(path, a);
  std::string bytes = slurp(path);
  for (std::size_t cut : {bytes.size() - 1, bytes.size() / 2, std::size_t{12}, std::size_t{5}}) {
    const std::string p2 = tmp_path("trunc_cut.safetensors");
    std::ofstream(p2, std::ios::binary) << bytes.substr(0, cut);
    EXPECT_THROW(load_safetensors(p2, a), WeightsError) << "cut at " << cut;
    std::remove(p2.c_str());
  }
  std::remove(path.c_str());
}

TEST(Safetensors, AtomicWriteLeavesNoTemporaryFiles) {
  const std::string dir = ::testing::TempDir() + "partita_st_atomic";
  ::mkdir(dir.c_str(), 0755);
  float x = 2.0f;
  const std::string path = dir + "/w.safetensors";
  write_safetensors(path, {{"x", DType::F32, {1}, &x}});
  write_safetensors(path, {{"x", DType::F32, {1}, &x}});  // overwrite
  int entries = 0;
  DIR* d = ::opendir(dir.c_str());
  ASSERT_NE(d, nullptr);
  while (dirent* e = ::readdir(d))
    if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") ++entries;
  ::closedir(d);
  EXPECT_EQ(entries, 1);
  EXPECT_THROW(write_safetensors(dir + "/no/such/dir/w.safetensors", {{"x", DType::F32, {1}, &x}}), IoError);
  std::remove(path.c_str());
  ::rmdir(dir.c_str());
}

TEST(Safetensors, RandomCorruptionNeverCrashes) {
  // Flip bytes (mostly in the header) of a valid file: every outcome is either
  // a successful read or a partita exception, never a crash or a hang.
  nn::ParameterSet a;
  build_model(a, 1);
  const std::string path = tmp_path("fuzz_src.safetensors");
  save_safetensors(path, a, {{"config", "{\"k\": [1, 2]}"}});
  const std::string bytes = slurp(path);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  Generator rng(42);
  const std::string p2 = tmp_path("fuzz.safetensors");
  int rejected = 0;
  for (int trial = 0; trial < 400; ++trial) {
    std::string m = bytes;
    const int flips = 1 + static_cast<int>(rng.below(3));
    for (int f = 0; f < flips; ++f) {
      const std::uint64_t limit = rng.below(4) == 0 ? m.size() : 8 + n;
      m[rng.below(limit)] = static_cast<char>(rng.below(256));
    }
    if (rng.below(8) == 0) m.resize(rng.below(m.size()));
    {
      std::ofstream(p2, std::ios::binary | std::ios::trunc) << m;
    }
    try {
      load_safetensors(p2, a, false);
    } catch (const Error&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 100);
  std::remove(path.c_str());
  std::remove(p2.c_str());
}
