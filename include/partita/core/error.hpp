// Typed errors for the whole library.
//
// Every failure that a caller can cause (bad file, bad argument, wrong shape)
// is reported by throwing one of these. The message names the function and the
// cause, e.g. "read_midi: byte 1234: variable-length quantity longer than 4 bytes".
// Library code never calls exit() or abort(). The Python bindings map each
// class to a Python exception (see python/bind/bind_core.cpp).
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

namespace partita {

/// Base of every partita exception.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A caller passed an argument outside its documented domain (-> Python ValueError).
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

/// Tensor shapes do not agree (-> Python ValueError).
class ShapeError : public InvalidArgument {
 public:
  using InvalidArgument::InvalidArgument;
};

/// A file could not be opened, read, written or renamed (-> Python OSError).
class IoError : public Error {
 public:
  using Error::Error;
};

/// A file's contents are malformed (-> partita.FormatError, a ValueError).
class FormatError : public Error {
 public:
  using Error::Error;
};

/// A malformed Standard MIDI File; carries the byte offset of the problem.
class MidiError : public FormatError {
 public:
  MidiError(const std::string& where, std::uint64_t offset, const std::string& what)
      : FormatError(where + ": byte " + std::to_string(offset) + ": " + what), offset_(offset) {}
  std::uint64_t offset() const noexcept { return offset_; }

 private:
  std::uint64_t offset_;
};

/// A weights (safetensors) file that is truncated, inconsistent or does not
/// match the model it is loaded into.
class WeightsError : public FormatError {
 public:
  using FormatError::FormatError;
};

/// Synthesis or SoundFont problems (no SoundFont found, FluidSynth failure).
class RenderError : public Error {
 public:
  using Error::Error;
};

}  // namespace partita
