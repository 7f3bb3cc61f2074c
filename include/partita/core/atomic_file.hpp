// Atomic file writes and bounded file reads, shared by every file format.
//
// A checkpoint, a MIDI file or a WAV file must never be left half-written when
// a process dies mid-write. AtomicFileWriter writes into a temporary file in the
// destination's folder (so the final rename stays on one file system), flushes
// it to disk, then renames it over the destination: readers see either the old
// file or the complete new one. If commit() is never reached (an exception, a
// crash) the temporary file is removed and the destination is untouched.
//
// read_file_bytes reads a whole file with a size cap, so a hostile path (a huge
// file, /dev/zero) cannot exhaust memory.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace partita {

class AtomicFileWriter {
 public:
  /// Creates "<path>.tmp-<unique>" next to `path`. Throws IoError on failure.
  explicit AtomicFileWriter(const std::string& path);
  /// Removes the temporary file unless commit() succeeded.
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  /// Appends bytes to the temporary file. Throws IoError on failure.
  void write(const void* data, std::size_t size);
  /// Flushes, fsyncs and renames the temporary file onto the destination.
  void commit();

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_; }

 private:
  std::string path_;
  std::string temp_;
  int fd_ = -1;
  bool committed_ = false;
};

/// Writes `size` bytes to `path` atomically (temporary file + rename).
void write_file_atomic(const std::string& path, const void* data, std::size_t size);

/// Reads the whole file at `path`. Throws IoError if it cannot be read or is
/// larger than `max_bytes` (the message states the limit). `who` names the
/// calling function in messages.
std::vector<std::uint8_t> read_file_bytes(const std::string& path, std::size_t max_bytes,
                                          const std::string& who);

}  // namespace partita
