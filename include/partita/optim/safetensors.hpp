// safetensors weights files: read and write named tensors, and save/load a
// model's ParameterSet in the layout of its PyTorch twin.
//
// File format (https://huggingface.co/docs/safetensors, the "format" section):
//   bytes [0, 8)        N, the header length, unsigned 64-bit little-endian
//   bytes [8, 8+N)      a JSON object, padded with spaces so 8+N is a multiple of 8:
//                         {"__metadata__": {"key": "string", ...},
//                          "<name>": {"dtype": "F32", "shape": [2, 3],
//                                     "data_offsets": [begin, end]}, ...}
//   bytes [8+N, EOF)    the data section; a tensor's bytes are [begin, end) in it,
//                       row-major, little-endian.
// Our writer stores tensors contiguously in the order given (no gaps, as the
// reference implementation requires) and always adds "partita.format": "1" to the
// metadata. Our reader accepts any valid file (any tensor order, gaps allowed)
// and rejects, with a WeightsError naming the file, the tensor and the problem:
// a file shorter than 8 bytes, a header length beyond the file, bad JSON, an
// unknown dtype, offsets out of range, inconsistent with dtype x shape, or
// overlapping another tensor, and duplicate names.
//
// Parameter sets: `save_safetensors(path, params)` writes every parameter
// (trainable or not: BatchNorm running statistics are part of a state_dict) under
// its name, converting our in-memory layout to the twin's (Layout::ConvHWIO
// (kh, kw, in, out) -> (out, in, kh, kw); Layout::LinearIO (in, out) -> (out, in)),
// so the file loads into the twin with `model.load_state_dict(load_file(path))`;
// `load_safetensors` does the reverse. Writes are atomic (core/atomic_file.hpp:
// temporary file in the same directory, fsync, rename), so a crash never leaves
// a half-written file.
// This code assumes a little-endian host (x86-64, AArch64).
#pragma once
#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "partita/core/tensor.hpp"
#include "partita/nn/parameters.hpp"

namespace partita::optim {

/// Element types of the safetensors format (the names are the file's dtype strings).
enum class DType { BOOL, U8, I8, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64 };

/// Bytes per element.
std::size_t dtype_size(DType t);
/// "F32", "I64", ...
const char* dtype_name(DType t);
/// Inverse of dtype_name; throws WeightsError for an unknown name.
DType dtype_from_name(const std::string& name);

/// The `__metadata__` map (string -> string, as the format demands).
using Metadata = std::map<std::string, std::string>;

/// Key and value of the format version we write.
inline constexpr const char* kFormatKey = "partita.format";
inline constexpr const char* kFormatVersion = "1";

/// One tensor entry of a file's header.
struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;
  std::uint64_t begin = 0, end = 0;  // byte offsets into the data section
  std::int64_t numel() const { return shape_numel(shape); }
  std::uint64_t nbytes() const { return end - begin; }
};

/// A tensor to write: its bytes are read from `data` (numel * dtype_size bytes).
struct TensorRef {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;
  const void* data = nullptr;
};

/// An owned tensor read from a file.
struct TensorData {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;
  std::vector<std::uint8_t> bytes;
};

/// Opens a file, reads and validates its header; tensor data is read on demand.
class SafetensorsReader {
 public:
  explicit SafetensorsReader(std::string path);

  const std::string& path() const { return path_; }
  /// Entries in header order.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const Metadata& metadata() const { return metadata_; }
  /// nullptr when the file has no tensor of that name.
  const TensorInfo* find(const std::string& name) const;
  /// Copies the tensor's raw bytes (info.nbytes() of them) into `dst`.
  void read_raw(const TensorInfo& info, void* dst);
  /// The tensor as float32 in the file's shape; WeightsError unless its dtype is F32.
  Tensor read_f32(const std::string& name);

 private:
  std::string path_;
  std::ifstream file_;
  std::uint64_t data_start_ = 0, data_size_ = 0;
  std::vector<TensorInfo> tensors_;
  Metadata metadata_;
};

/// Write `tensors` (names must be unique and not "__metadata__") and `metadata`
/// (plus "partita.format": "1") to `path`, atomically.
void write_safetensors(const std::string& path, const std::vector<TensorRef>& tensors,
                       const Metadata& metadata = {});

/// Read every tensor of a file (header order); fills `metadata` when given.
std::vector<TensorData> read_safetensors(const std::string& path, Metadata* metadata = nullptr);

/// Shape of `p` in the PyTorch twin's layout (what the file stores).
Shape torch_shape(const nn::Parameter& p);
/// Copy `p.value` into `dst` (numel floats) converted to the twin's layout.
void to_torch_layout(const nn::Parameter& p, const float* src, float* dst);
/// Copy `src` (numel floats in the twin's layout) into our layout at `dst`.
void from_torch_layout(const nn::Parameter& p, const float* src, float* dst);

/// Save every parameter of an allocated set (twin layout, F32) with `metadata`
/// (put the model's config JSON under a key such as "config").
void save_safetensors(const std::string& path, const nn::ParameterSet& params,
                      const Metadata& metadata = {});

/// What a load found besides the parameters it set.
struct LoadReport {
  Metadata metadata;                    // the file's __metadata__
  std::vector<std::string> loaded;      // parameters set from the file
  std::vector<std::string> missing;     // parameters the file lacks (left untouched)
  std::vector<std::string> unexpected;  // file tensors no parameter matches (ignored)
};

/// Load a file into an allocated ParameterSet. Every matched tensor must be F32
/// with the parameter's twin-layout shape (WeightsError otherwise, and nothing is
/// modified). With `strict`, a missing parameter or an unexpected tensor is a
/// WeightsError too; integer "*.num_batches_tracked" tensors that PyTorch's
/// BatchNorm writes are ignored in both modes.
LoadReport load_safetensors(const std::string& path, nn::ParameterSet& params, bool strict = true);

}  // namespace partita::optim
