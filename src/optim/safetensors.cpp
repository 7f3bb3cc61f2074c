// safetensors reader/writer and ParameterSet save/load with layout conversion.
#include "partita/optim/safetensors.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <set>

#include "partita/core/atomic_file.hpp"
#include "partita/core/error.hpp"
#include "partita/optim/json.hpp"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "partita's safetensors code assumes a little-endian host"
#endif

namespace partita::optim {

namespace {

struct DTypeEntry {
  DType type;
  const char* name;
  std::size_t size;
};
constexpr DTypeEntry kDTypes[] = {
    {DType::BOOL, "BOOL", 1}, {DType::U8, "U8", 1},     {DType::I8, "I8", 1},
    {DType::I16, "I16", 2},   {DType::U16, "U16", 2},   {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2}, {DType::I32, "I32", 4},   {DType::U32, "U32", 4},
    {DType::F32, "F32", 4},   {DType::F64, "F64", 8},   {DType::I64, "I64", 8},
    {DType::U64, "U64", 8},
};

// The reference implementation refuses headers above 100 MB; so do we.
constexpr std::uint64_t kMaxHeader = 100'000'000;

std::string errno_text() { return std::strerror(errno); }

std::string shape_json(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

bool is_num_batches_tracked(const TensorInfo& t) {
  const std::string suffix = "num_batches_tracked";
  return t.name.size() >= suffix.size() &&
         t.name.compare(t.name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
         t.dtype != DType::F32 && t.dtype != DType::F64 && t.dtype != DType::F16 &&
         t.dtype != DType::BF16;
}

}  // namespace

std::size_t dtype_size(DType t) {
  for (const auto& e : kDTypes)
    if (e.type == t) return e.size;
  throw InvalidArgument("dtype_size: unknown dtype");
}

const char* dtype_name(DType t) {
  for (const auto& e : kDTypes)
    if (e.type == t) return e.name;
  throw InvalidArgument("dtype_name: unknown dtype");
}

DType dtype_from_name(const std::string& name) {
  for (const auto& e : kDTypes)
    if (name == e.name) return e.type;
  throw WeightsError("safetensors: unsupported dtype '" + name + "'");
}

// ---------------------------------------------------------------- reader

SafetensorsReader::SafetensorsReader(std::string path) : path_(std::move(path)) {
  const std::string where = "load_safetensors: '" + path_ + "'";
  file_.open(path_, std::ios::binary);
  if (!file_) throw IoError(where + ": cannot open: " + errno_text());
  file_.seekg(0, std::ios::end);
  const std::streamoff end = file_.tellg();
  if (!file_ || end < 0) throw IoError(where + ": cannot determine the file size (not a regular file?)");
  const auto file_size = static_cast<std::uint64_t>(end);
  file_.seekg(0);
  if (file_size < 8)
    throw WeightsError(where + ": truncated file: " + std::to_string(file_size) +
                       " bytes, shorter than the 8-byte header length");
  unsigned char len_bytes[8];
  file_.read(reinterpret_cast<char*>(len_bytes), 8);
  if (!file_) throw IoError(where + ": read error in the header length");
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len_bytes[i];
  if (n > file_size - 8)
    throw WeightsError(where + ": truncated file: header length " + std::to_string(n) +
                       " runs beyond the end of the file (" + std::to_string(file_size) + " bytes)");
  if (n > kMaxHeader)
    throw WeightsError(where + ": header length " + std::to_string(n) + " exceeds 100 MB");
  std::string header(n, '\0');
  file_.read(header.data(), static_cast<std::streamsize>(n));
  if (!file_) throw IoError(where + ": read error in the header");
  data_start_ = 8 + n;
  data_size_ = file_size - data_start_;

  json::Value root;
  try {
    root = json::parse(header, where + ": header");
  } catch (const FormatError& e) {  // malformed JSON is a malformed weights file
    throw WeightsError(e.what());
  }
  if (!root.is_object()) throw WeightsError(where + ": header is not a JSON object");
  std::set<std::string> seen;
  for (const auto& [name, v] : root.as_object()) {
    if (!seen.insert(name).second)
      throw WeightsError(where + ": duplicate entry '" + name + "' in the header");
    if (name == "__metadata__") {
      if (!v.is_object()) throw WeightsError(where + ": __metadata__ is not a JSON object");
      for (const auto& [k, s] : v.as_object()) {
        if (!s.is_string())
          throw WeightsError(where + ": __metadata__ value of '" + k + "' is not a string");
        metadata_[k] = s.as_string();
      }
      continue;
    }
    const std::string tw = where + ": tensor '" + name + "'";
    if (!v.is_object()) throw WeightsError(tw + ": entry is not a JSON object");
    const json::Value* dt = v.find("dtype");
    const json::Value* sh = v.find("shape");
    const json::Value* off = v.find("data_offsets");
    if (!dt || !dt->is_string()) throw WeightsError(tw + ": missing or non-string \"dtype\"");
    if (!sh || !sh->is_array()) throw WeightsError(tw + ": missing or non-array \"shape\"");
    if (!off || !off->is_array() || off->as_array().size() != 2)
      throw WeightsError(tw + ": \"data_offsets\" must be an array of two integers");
    TensorInfo info;
    info.name = name;
    try {
      info.dtype = dtype_from_name(dt->as_string());
    } catch (const WeightsError&) {
      throw WeightsError(tw + ": unsupported dtype '" + dt->as_string() + "'");
    }
    // Element count with overflow checks (a hostile header must not wrap around).
    std::uint64_t numel = 1;
    for (const auto& d : sh->as_array()) {
      if (!d.is_integer() || d.as_int() < 0)
        throw WeightsError(tw + ": shape entries must be non-negative integers");
      auto e = static_cast<std::uint64_t>(d.as_int());
      if (e != 0 && numel > std::numeric_limits<std::uint64_t>::max() / 16 / e)
        throw WeightsError(tw + ": shape " + sh->dump() + " is too large");
      numel *= e;
      info.shape.push_back(d.as_int());
    }
    for (const auto& o : off->as_array())
      if (!o.is_integer() || o.as_int() < 0)
        throw WeightsError(tw + ": data_offsets must be non-negative integers");
    info.begin = static_cast<std::uint64_t>(off->as_array()[0].as_int());
    info.end = static_cast<std::uint64_t>(off->as_array()[1].as_int());
    if (info.end < info.begin)
      throw WeightsError(tw + ": data_offsets [" + std::to_string(info.begin) + ", " +
                         std::to_string(info.end) + "] end before they begin");
    if (info.end > data_size_)
      throw WeightsError(tw + ": data_offsets [" + std::to_string(info.begin) + ", " +
                         std::to_string(info.end) + "] out of range: the data section has " +
                         std::to_string(data_size_) + " bytes (truncated file?)");
    const std::uint64_t want = numel * dtype_size(info.dtype);
    if (info.end - info.begin != want)
      throw WeightsError(tw + ": data_offsets span " + std::to_string(info.end - info.begin) +
                         " bytes but dtype " + dt->as_string() + " x shape " + sh->dump() +
                         " needs " + std::to_string(want));
    tensors_.push_back(std::move(info));
  }
  // Overlaps: sort by start offset; each tensor must begin at or after the previous end.
  std::vector<const TensorInfo*> order;
  for (const auto& t : tensors_) order.push_back(&t);
  std::sort(order.begin(), order.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < order.size(); ++i) {
    if (order[i]->nbytes() == 0 || order[i - 1]->nbytes() == 0) continue;
    if (order[i]->begin < order[i - 1]->end)
      throw WeightsError(where + ": tensor '" + order[i]->name + "' data_offsets overlap those of '" +
                         order[i - 1]->name + "'");
  }
}

const TensorInfo* SafetensorsReader::find(const std::string& name) const {
  for (const auto& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

void SafetensorsReader::read_raw(const TensorInfo& info, void* dst) {
  if (info.nbytes() == 0) return;
  file_.clear();
  file_.seekg(static_cast<std::streamoff>(data_start_ + info.begin));
  file_.read(static_cast<char*>(dst), static_cast<std::streamsize>(info.nbytes()));
  if (!file_)
    throw IoError("load_safetensors: '" + path_ + "': tensor '" + info.name + "': read error");
}

Tensor SafetensorsReader::read_f32(const std::string& name) {
  const TensorInfo* info = find(name);
  if (!info) throw WeightsError("load_safetensors: '" + path_ + "': no tensor named '" + name + "'");
  if (info->dtype != DType::F32)
    throw WeightsError("load_safetensors: '" + path_ + "': tensor '" + name + "': dtype " +
                       dtype_name(info->dtype) + ", expected F32");
  Tensor t(info->shape);
  read_raw(*info, t.data());
  return t;
}

std::vector<TensorData> read_safetensors(const std::string& path, Metadata* metadata) {
  SafetensorsReader r(path);
  std::vector<TensorData> out;
  out.reserve(r.tensors().size());
  for (const auto& info : r.tensors()) {
    TensorData t;
    t.name = info.name;
    t.dtype = info.dtype;
    t.shape = info.shape;
    t.bytes.resize(info.nbytes());
    r.read_raw(info, t.bytes.data());
    out.push_back(std::move(t));
  }
  if (metadata) *metadata = r.metadata();
  return out;
}

// ---------------------------------------------------------------- writer

void write_safetensors(const std::string& path, const std::vector<TensorRef>& tensors,
                       const Metadata& metadata) {
  const std::string where = "write_safetensors: '" + path + "'";
  Metadata meta = metadata;
  meta[kFormatKey] = kFormatVersion;
  std::string header = "{\"__metadata__\":{";
  bool first = true;
  for (const auto& [k, v] : meta) {
    header += (first ? "" : ",") + json::quote(k) + ":" + json::quote(v);
    first = false;
  }
  header += "}";
  std::set<std::string> names;
  std::uint64_t offset = 0;
  for (const auto& t : tensors) {
    if (t.name == "__metadata__" || t.name.empty())
      throw InvalidArgument(where + ": invalid tensor name '" + t.name + "'");
    if (!names.insert(t.name).second)
      throw InvalidArgument(where + ": duplicate tensor name '" + t.name + "'");
    const auto nbytes = static_cast<std::uint64_t>(shape_numel(t.shape)) * dtype_size(t.dtype);
    if (nbytes > 0 && !t.data)
      throw InvalidArgument(where + ": tensor '" + t.name + "' has no data");
    header += "," + json::quote(t.name) + ":{\"dtype\":\"" + dtype_name(t.dtype) +
              "\",\"shape\":" + shape_json(t.shape) + ",\"data_offsets\":[" +
              std::to_string(offset) + "," + std::to_string(offset + nbytes) + "]}";
    offset += nbytes;
  }
  header += "}";
  // Pad with spaces so the data section starts 8-byte aligned.
  while ((8 + header.size()) % 8 != 0) header += ' ';

  AtomicFileWriter out(path);
  unsigned char len_bytes[8];
  std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<unsigned char>(n >> (8 * i));
  out.write(len_bytes, 8);
  out.write(header.data(), header.size());
  for (const auto& t : tensors) {
    const auto nbytes = static_cast<std::size_t>(shape_numel(t.shape)) * dtype_size(t.dtype);
    if (nbytes) out.write(t.data, nbytes);
  }
  out.commit();
}

// ---------------------------------------------------------------- layouts

Shape torch_shape(const nn::Parameter& p) {
  switch (p.layout) {
    case nn::Layout::Same: return p.shape;
    case nn::Layout::ConvHWIO:
      if (p.shape.size() != 4)
        throw ShapeError("torch_shape: parameter '" + p.name + "' has layout ConvHWIO but shape " +
                         shape_str(p.shape));
      return {p.shape[3], p.shape[2], p.shape[0], p.shape[1]};
    case nn::Layout::LinearIO:
      if (p.shape.size() != 2)
        throw ShapeError("torch_shape: parameter '" + p.name + "' has layout LinearIO but shape " +
                         shape_str(p.shape));
      return {p.shape[1], p.shape[0]};
  }
  return p.shape;
}

namespace {
// Copy between our layout and the twin's. For element i of `ours` (flat index
// in our layout) the twin's flat index is computed once; `to_torch` picks the
// direction of the copy.
//   LinearIO: ours (in, out) [i, o]               <-> torch (out, in) [o, i]
//   ConvHWIO: ours (kh, kw, in, out) [a, b, c, d] <-> torch (out, in, kh, kw) [d, c, a, b]
void convert_layout(const nn::Parameter& p, const float* src, float* dst, bool to_torch) {
  (void)torch_shape(p);  // validates the rank
  const std::int64_t n = shape_numel(p.shape);
  auto move = [&](std::int64_t ours, std::int64_t torch) {
    if (to_torch) dst[torch] = src[ours];
    else dst[ours] = src[torch];
  };
  if (p.layout == nn::Layout::Same) {
    std::copy(src, src + n, dst);
  } else if (p.layout == nn::Layout::LinearIO) {
    const std::int64_t in = p.shape[0], out = p.shape[1];
    for (std::int64_t i = 0; i < in; ++i)
      for (std::int64_t o = 0; o < out; ++o) move(i * out + o, o * in + i);
  } else {
    const std::int64_t kh = p.shape[0], kw = p.shape[1], ci = p.shape[2], co = p.shape[3];
    for (std::int64_t a = 0; a < kh; ++a)
      for (std::int64_t b = 0; b < kw; ++b)
        for (std::int64_t c = 0; c < ci; ++c)
          for (std::int64_t d = 0; d < co; ++d)
            move(((a * kw + b) * ci + c) * co + d, ((d * ci + c) * kh + a) * kw + b);
  }
}
}  // namespace

void to_torch_layout(const nn::Parameter& p, const float* src, float* dst) {
  convert_layout(p, src, dst, true);
}

void from_torch_layout(const nn::Parameter& p, const float* src, float* dst) {
  convert_layout(p, src, dst, false);
}

// ---------------------------------------------------------------- parameter sets

void save_safetensors(const std::string& path, const nn::ParameterSet& params,
                      const Metadata& metadata) {
  if (!params.allocated())
    throw InvalidArgument("save_safetensors: '" + path + "': the ParameterSet is not allocated");
  // Parameters whose layout differs from the twin's are converted into scratch
  // buffers; the others are written straight from the flat value buffer.
  std::vector<std::vector<float>> scratch;
  std::vector<TensorRef> refs;
  scratch.reserve(params.params().size());
  for (const auto& p : params.params()) {
    TensorRef r;
    r.name = p.name;
    r.dtype = DType::F32;
    r.shape = torch_shape(p);
    if (p.layout == nn::Layout::Same) {
      r.data = p.value.data();
    } else {
      scratch.emplace_back(static_cast<size_t>(p.value.size()));
      to_torch_layout(p, p.value.data(), scratch.back().data());
      r.data = scratch.back().data();
    }
    refs.push_back(std::move(r));
  }
  write_safetensors(path, refs, metadata);
}

LoadReport load_safetensors(const std::string& path, nn::ParameterSet& params, bool strict) {
  const std::string where = "load_safetensors: '" + path + "'";
  if (!params.allocated()) throw InvalidArgument(where + ": the ParameterSet is not allocated");
  SafetensorsReader reader(path);
  LoadReport report;
  report.metadata = reader.metadata();

  // Validate everything before touching any parameter, so a failed load leaves
  // the model as it was.
  std::vector<std::pair<nn::Parameter*, const TensorInfo*>> matched;
  std::set<std::string> param_names;
  for (auto& p : params.params()) {
    param_names.insert(p.name);
    const TensorInfo* t = reader.find(p.name);
    if (!t) {
      report.missing.push_back(p.name);
      continue;
    }
    if (t->dtype != DType::F32)
      throw WeightsError(where + ": tensor '" + p.name + "': dtype " + dtype_name(t->dtype) +
                         ", expected F32");
    Shape want = torch_shape(p);
    if (t->shape != want)
      throw WeightsError(where + ": tensor '" + p.name + "': shape " + shape_str(t->shape) +
                         " in the file, the model expects " + shape_str(want));
    matched.emplace_back(&p, t);
  }
  for (const auto& t : reader.tensors())
    if (!param_names.count(t.name) && !is_num_batches_tracked(t)) report.unexpected.push_back(t.name);

  if (strict && (!report.missing.empty() || !report.unexpected.empty())) {
    std::string msg = where + ": strict load:";
    auto list = [](const std::vector<std::string>& v) {
      std::string s;
      for (size_t i = 0; i < v.size() && i < 8; ++i) s += (i ? ", '" : "'") + v[i] + "'";
      if (v.size() > 8) s += ", ... (" + std::to_string(v.size()) + " in all)";
      return s;
    };
    if (!report.missing.empty()) msg += " missing tensor(s) " + list(report.missing) + ";";
    if (!report.unexpected.empty()) msg += " unexpected tensor(s) " + list(report.unexpected) + ";";
    msg.pop_back();
    throw WeightsError(msg);
  }

  // Read everything first (so an I/O error leaves the model untouched), then convert.
  std::vector<std::vector<float>> staged(matched.size());
  for (size_t i = 0; i < matched.size(); ++i) {
    staged[i].resize(static_cast<size_t>(matched[i].first->value.size()));
    reader.read_raw(*matched[i].second, staged[i].data());
  }
  for (size_t i = 0; i < matched.size(); ++i) {
    nn::Parameter& p = *matched[i].first;
    from_torch_layout(p, staged[i].data(), p.value.data());
    report.loaded.push_back(p.name);
  }
  return report;
}

}  // namespace partita::optim
