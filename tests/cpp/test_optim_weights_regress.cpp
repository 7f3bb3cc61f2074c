// Regression inputs for the weights-file reader and the JSON parser: every file
// in tests/data/weights/regress (inputs that once misbehaved) and
// tests/data/weights/seed (the fuzzer's seeds, tests/fuzz/fuzz_weights.cpp) must,
// as JSON text, parse to a value whose dump parses back to the same dump, or
// raise a partita::Error; and, as a weights file, read with every tensor's bytes
// or raise a partita::Error -- never crash or raise anything else.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "partita/core/error.hpp"
#include "partita/optim/json.hpp"
#include "partita/optim/safetensors.hpp"

using namespace partita;
using namespace partita::optim;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

struct Tally {
  int json_ok = 0, json_rejected = 0, file_ok = 0, file_rejected = 0;
};

void check_file(const fs::path& p, Tally& t) {
  SCOPED_TRACE(p.string());
  const std::string text = slurp(p);
  try {
    const std::string once = json::parse(text, p.filename().string()).dump();
    EXPECT_EQ(json::parse(once, "dumped").dump(), once);
    ++t.json_ok;
  } catch (const FormatError&) {
    ++t.json_rejected;
  }
  try {
    SafetensorsReader r(p.string());
    for (const TensorInfo& info : r.tensors()) {
      EXPECT_EQ(info.nbytes(), static_cast<std::uint64_t>(info.numel()) * dtype_size(info.dtype));
      std::vector<std::uint8_t> bytes(info.nbytes());
      r.read_raw(info, bytes.data());
    }
    ++t.file_ok;
  } catch (const WeightsError&) {
    ++t.file_rejected;
  }
}

}  // namespace

TEST(WeightsRegress, SeedsAndRegressionInputsReadOrRaiseTypedErrors) {
  Tally t;
  int files = 0;
  for (const char* dir : {"weights/seed", "weights/regress"})
    for (const auto& e : fs::directory_iterator(fs::path(PARTITA_TEST_DATA) / dir))
      if (e.is_regular_file()) check_file(e.path(), t), ++files;
  EXPECT_GE(files, 4);
  // The seeds hold two readable weights files and one JSON text; the regress
  // input is JSON (a double that printed as an integer and lost -0.0's sign).
  EXPECT_GE(t.file_ok, 2);
  EXPECT_GE(t.json_ok, 2);
  EXPECT_GE(t.file_rejected, 2);
}
