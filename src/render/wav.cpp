// WAV writing and reading through libsndfile.
//
// write_wav lets libsndfile encode into a memory buffer (its virtual I/O
// interface: libsndfile seeks back to patch the header sizes when it closes,
// which a plain append-only stream cannot do), then hands the bytes to
// AtomicFileWriter, so the file on disk appears whole or not at all.
#include "partita/render/wav.hpp"

#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <system_error>
#include <vector>

#include "partita/core/atomic_file.hpp"
#include "partita/core/error.hpp"

namespace partita {
namespace {

// A growable in-memory file for libsndfile's virtual I/O.
struct MemoryFile {
  std::vector<unsigned char> bytes;
  sf_count_t pos = 0;

  static sf_count_t length(void* self) {
    return static_cast<sf_count_t>(static_cast<MemoryFile*>(self)->bytes.size());
  }
  static sf_count_t seek(sf_count_t offset, int whence, void* self) {
    auto* f = static_cast<MemoryFile*>(self);
    const sf_count_t base = whence == SEEK_SET ? 0
                            : whence == SEEK_CUR ? f->pos
                                                 : static_cast<sf_count_t>(f->bytes.size());
    if (base + offset < 0) return -1;
    f->pos = base + offset;
    return f->pos;
  }
  static sf_count_t read(void* ptr, sf_count_t count, void* self) {
    auto* f = static_cast<MemoryFile*>(self);
    const sf_count_t size = static_cast<sf_count_t>(f->bytes.size());
    const sf_count_t n = std::max<sf_count_t>(0, std::min(count, size - f->pos));
    if (n > 0) std::memcpy(ptr, f->bytes.data() + f->pos, static_cast<std::size_t>(n));
    f->pos += n;
    return n;
  }
  static sf_count_t write(const void* ptr, sf_count_t count, void* self) {
    auto* f = static_cast<MemoryFile*>(self);
    const std::size_t end = static_cast<std::size_t>(f->pos + count);
    if (end > f->bytes.size()) f->bytes.resize(end);
    std::memcpy(f->bytes.data() + f->pos, ptr, static_cast<std::size_t>(count));
    f->pos += count;
    return count;
  }
  static sf_count_t tell(void* self) { return static_cast<MemoryFile*>(self)->pos; }
};

}  // namespace

void write_wav(const std::string& path, const float* samples, std::int64_t frames, int channels,
               int sample_rate, WavFormat format) {
  if (channels < 1 || channels > 1024)
    throw InvalidArgument("write_wav: channels " + std::to_string(channels) +
                          " outside 1..1024");
  if (sample_rate < 1 || sample_rate > 768000)
    throw InvalidArgument("write_wav: sample_rate " + std::to_string(sample_rate) +
                          " outside 1..768000 Hz");
  if (frames < 0) throw InvalidArgument("write_wav: negative frame count");
  if (frames > 0 && !samples) throw InvalidArgument("write_wav: null samples");
  // A RIFF WAV file holds at most 4 GiB.
  const std::int64_t bytes_per_sample = format == WavFormat::PCM16 ? 2 : 4;
  if (frames * channels * bytes_per_sample > (std::int64_t(1) << 32) - 4096)
    throw InvalidArgument("write_wav: " + std::to_string(frames) +
                          " frames do not fit in a WAV file (4 GiB)");
  const std::int64_t n = frames * channels;
  for (std::int64_t i = 0; i < n; ++i)
    if (!std::isfinite(samples[i]))
      throw InvalidArgument("write_wav: sample " + std::to_string(i / channels) + " channel " +
                            std::to_string(i % channels) + " is not finite");

  MemoryFile mem;
  mem.bytes.reserve(static_cast<std::size_t>(n * bytes_per_sample + 128));
  SF_VIRTUAL_IO io{&MemoryFile::length, &MemoryFile::seek, &MemoryFile::read,
                   &MemoryFile::write, &MemoryFile::tell};
  SF_INFO info{};
  info.samplerate = sample_rate;
  info.channels = channels;
  info.format = SF_FORMAT_WAV | (format == WavFormat::PCM16 ? SF_FORMAT_PCM_16 : SF_FORMAT_FLOAT);
  SNDFILE* sf = sf_open_virtual(&io, SFM_WRITE, &info, &mem);
  if (!sf)
    throw IoError("write_wav: libsndfile cannot encode '" + path + "': " + sf_strerror(nullptr));
  // Out-of-range floats clip to full scale instead of wrapping around.
  sf_command(sf, SFC_SET_CLIPPING, nullptr, SF_TRUE);
  const sf_count_t written = frames > 0 ? sf_writef_float(sf, samples, frames) : 0;
  const std::string err = written == frames ? std::string() : sf_strerror(sf);
  sf_close(sf);
  if (!err.empty()) throw IoError("write_wav: encoding '" + path + "' failed: " + err);

  try {
    AtomicFileWriter file(path);
    file.write(mem.bytes.data(), mem.bytes.size());
    file.commit();
  } catch (const IoError& e) {
    throw IoError(std::string("write_wav: ") + e.what());
  }
}

void write_wav(const std::string& path, const Tensor& audio, int sample_rate, WavFormat format) {
  if (audio.rank() == 1) {
    write_wav(path, audio.data(), audio.dim(0), 1, sample_rate, format);
  } else if (audio.rank() == 2) {
    if (audio.dim(1) < 1 || audio.dim(1) > 1024)
      throw ShapeError("write_wav: audio must be (frames, channels) with 1..1024 channels, got " +
                       shape_str(audio.shape()));
    write_wav(path, audio.data(), audio.dim(0), static_cast<int>(audio.dim(1)), sample_rate,
              format);
  } else {
    throw ShapeError("write_wav: audio must be (frames, channels) or (frames,), got " +
                     shape_str(audio.shape()));
  }
}

Audio read_wav(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(path), ec))
    throw IoError("read_wav: '" + path + "' does not exist");
  if (std::filesystem::is_directory(std::filesystem::path(path), ec))
    throw IoError("read_wav: '" + path + "' is a directory");
  SF_INFO info{};
  SNDFILE* sf = sf_open(path.c_str(), SFM_READ, &info);
  if (!sf) {
    const int code = sf_error(nullptr);
    const std::string why = sf_strerror(nullptr);
    if (code == SF_ERR_SYSTEM) throw IoError("read_wav: cannot open '" + path + "': " + why);
    throw FormatError("read_wav: '" + path + "' is not a readable audio file: " + why);
  }
  Audio audio;
  audio.sample_rate = info.samplerate;
  try {
    if (info.channels < 1 || info.frames < 0)
      throw FormatError("read_wav: '" + path + "' declares " + std::to_string(info.channels) +
                        " channels");
    audio.samples.resize({static_cast<std::int64_t>(info.frames), info.channels});
    const sf_count_t got = info.frames > 0 ? sf_readf_float(sf, audio.samples.data(), info.frames) : 0;
    if (got != info.frames) {
      // A truncated file: keep what was read.
      Tensor part({static_cast<std::int64_t>(got), info.channels});
      std::copy(audio.samples.data(), audio.samples.data() + got * info.channels, part.data());
      audio.samples = std::move(part);
    }
  } catch (...) {
    sf_close(sf);
    throw;
  }
  sf_close(sf);
  return audio;
}

}  // namespace partita
