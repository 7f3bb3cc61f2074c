// libFuzzer target for the weights-file reader (safetensors) and the JSON
// parser under its header.
//
// Each input is tried twice:
//  * as JSON text: it must parse or raise a partita::Error; what parses must
//    dump to text that parses again to the same dump;
//  * as a weights file: opening it and reading every tensor must succeed or
//    raise a partita::Error (never read past the file, never allocate more
//    than the file holds); what reads must satisfy the header's invariants
//    (each tensor's byte range holds exactly numel * dtype size bytes, F32
//    tensors read as floats equal their raw bytes), and writing the tensors
//    and metadata back with our writer and reading that file must give the
//    same names, dtypes, shapes, bytes and metadata.
// A crash, a sanitizer report, a hang or an out-of-memory is a finding.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "partita/core/error.hpp"
#include "partita/optim/json.hpp"
#include "partita/optim/safetensors.hpp"

namespace {

using namespace partita;
using namespace partita::optim;

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "fuzz_weights: %s\n", what);
  std::abort();
}

void check_json(std::string_view text) {
  try {
    const std::string once = json::parse(text, "fuzz").dump();
    const std::string twice = json::parse(once, "fuzz (dumped)").dump();
    if (once != twice) finding("JSON dump does not parse back to the same dump");
  } catch (const Error&) {
  }
}

void write_file(const std::string& path, const std::uint8_t* data, std::size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) finding("cannot write the temporary file");
  if (size && std::fwrite(data, 1, size, f) != size) finding("short write of the temporary file");
  std::fclose(f);
}

Metadata without_format_key(Metadata m) {
  m.erase(kFormatKey);
  return m;
}

void check_weights(const std::string& path, const std::string& copy) {
  std::vector<TensorData> read;
  Metadata metadata;
  try {
    SafetensorsReader r(path);
    metadata = r.metadata();
    for (const TensorInfo& info : r.tensors()) {
      if (info.end < info.begin) finding("tensor byte range ends before it begins");
      if (info.nbytes() != static_cast<std::uint64_t>(info.numel()) * dtype_size(info.dtype))
        finding("tensor byte range does not match its shape and dtype");
      if (r.find(info.name) == nullptr) finding("find() misses a listed tensor");
      TensorData t{info.name, info.dtype, info.shape, std::vector<std::uint8_t>(info.nbytes())};
      r.read_raw(info, t.bytes.data());
      if (info.dtype == DType::F32) {
        Tensor f = r.read_f32(info.name);
        if (static_cast<std::uint64_t>(f.size()) * 4 != t.bytes.size() ||
            (f.size() && std::memcmp(f.data(), t.bytes.data(), t.bytes.size()) != 0))
          finding("read_f32 differs from the raw bytes");
      }
      read.push_back(std::move(t));
    }
  } catch (const Error&) {
    return;
  }
  // What reads writes back, and reads back the same.
  std::vector<TensorRef> refs;
  for (const TensorData& t : read) refs.push_back({t.name, t.dtype, t.shape, t.bytes.data()});
  try {
    write_safetensors(copy, refs, without_format_key(metadata));
  } catch (const Error&) {
    return;  // the writer may refuse what it does not write (e.g. a reserved name)
  }
  Metadata again;
  std::vector<TensorData> back;
  try {
    back = read_safetensors(copy, &again);
  } catch (const Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    finding("our own file does not read back");
  }
  if (back.size() != read.size()) finding("round trip: tensor count");
  for (std::size_t i = 0; i < back.size(); ++i) {
    const TensorData* match = nullptr;
    for (const TensorData& t : back)
      if (t.name == read[i].name) match = &t;
    if (!match) finding("round trip: a tensor is missing");
    if (match->dtype != read[i].dtype || match->shape != read[i].shape ||
        match->bytes != read[i].bytes)
      finding("round trip: a tensor differs");
  }
  if (without_format_key(again) != without_format_key(metadata)) finding("round trip: metadata");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string dir = [] {
    const char* shm = "/dev/shm";
    return std::string(access(shm, W_OK) == 0 ? shm : "/tmp");
  }();
  static const std::string path =
      dir + "/partita_fuzz_weights_" + std::to_string(getpid()) + ".safetensors";
  static const std::string copy =
      dir + "/partita_fuzz_weights_" + std::to_string(getpid()) + "_copy.safetensors";
  check_json(std::string_view(reinterpret_cast<const char*>(data), size));
  write_file(path, data, size);
  check_weights(path, copy);
  return 0;
}
