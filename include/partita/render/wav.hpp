// WAV files: writing rendered audio and reading it back, through libsndfile.
//
// Audio is float32 (frames, channels), interleaved, as libsndfile and Python's
// soundfile use; a rank-1 Tensor is mono. write_wav encodes into memory and
// then writes the file atomically (temporary file in the same folder, fsync,
// rename; see partita/core/atomic_file.hpp), so a failure never leaves a
// partial WAV behind and never damages an existing file.
//
// PCM16 clipping: samples are scaled by 32767 and rounded; values outside
// [-1, 1] are clipped to full scale (libsndfile's clipping mode is on), they
// never wrap around. Float WAVs (IEEE float, 32 bit) keep values as they are.
// Non-finite samples (NaN, inf) are rejected with InvalidArgument.
#pragma once
#include <cstdint>
#include <string>

#include "partita/core/tensor.hpp"

namespace partita {

enum class WavFormat {
  PCM16,  // 16-bit signed integer (the CD format; what most players expect)
  Float,  // 32-bit IEEE float (lossless for rendered audio)
};

/// Writes interleaved `samples` (frames x channels) as a WAV file, atomically.
/// Throws InvalidArgument (bad sizes, rate, non-finite samples) or IoError.
void write_wav(const std::string& path, const float* samples, std::int64_t frames,
               int channels, int sample_rate, WavFormat format = WavFormat::PCM16);
/// `audio` is (frames, channels) or (frames,) for mono.
void write_wav(const std::string& path, const Tensor& audio, int sample_rate,
               WavFormat format = WavFormat::PCM16);

struct Audio {
  Tensor samples;       // (frames, channels), float32 in [-1, 1] for PCM files
  int sample_rate = 0;  // Hz
  std::int64_t frames() const { return samples.rank() == 2 ? samples.dim(0) : 0; }
  int channels() const { return samples.rank() == 2 ? static_cast<int>(samples.dim(1)) : 0; }
};

/// Reads any file libsndfile understands (WAV, FLAC, OGG, AIFF...) as float32.
/// Throws IoError (missing or unreadable) or FormatError (not audio).
Audio read_wav(const std::string& path);

}  // namespace partita
