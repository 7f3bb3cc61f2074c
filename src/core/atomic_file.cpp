// Atomic file writes (temporary file in the same folder, fsync, rename) and
// size-capped whole-file reads. POSIX only.
#include "partita/core/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "partita/core/error.hpp"

namespace partita {
namespace {

std::string errno_text() { return std::strerror(errno); }

// A name no other writer (thread or process) picks: pid, a process-wide
// counter and the clock.
std::string unique_suffix() {
  static std::atomic<unsigned long> counter{0};
  const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  return ".tmp-" + std::to_string(static_cast<long>(::getpid())) + "-" +
         std::to_string(counter.fetch_add(1)) + "-" +
         std::to_string(static_cast<unsigned long long>(now) & 0xffffffULL);
}

}  // namespace

AtomicFileWriter::AtomicFileWriter(const std::string& path) : path_(path) {
  if (path.empty()) throw IoError("AtomicFileWriter: empty path");
  for (int attempt = 0; attempt < 16 && fd_ < 0; ++attempt) {
    temp_ = path + unique_suffix();
    // 0666 filtered by the umask, like any ordinary file the user creates.
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0 && errno != EEXIST) break;
  }
  if (fd_ < 0)
    throw IoError("AtomicFileWriter: cannot create temporary file '" + temp_ + "' for '" + path +
                  "': " + errno_text());
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temp_.c_str());
}

void AtomicFileWriter::write(const void* data, std::size_t size) {
  if (committed_ || fd_ < 0) throw IoError("AtomicFileWriter::write: '" + path_ + "' already committed");
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd_, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError("AtomicFileWriter::write: writing '" + temp_ + "': " + errno_text());
    }
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

void AtomicFileWriter::commit() {
  if (committed_) return;
  if (::fsync(fd_) != 0)
    throw IoError("AtomicFileWriter::commit: fsync '" + temp_ + "': " + errno_text());
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0)
    throw IoError("AtomicFileWriter::commit: close '" + temp_ + "': " + errno_text());
  if (::rename(temp_.c_str(), path_.c_str()) != 0)
    throw IoError("AtomicFileWriter::commit: rename '" + temp_ + "' to '" + path_ +
                  "': " + errno_text());
  committed_ = true;
}

void write_file_atomic(const std::string& path, const void* data, std::size_t size) {
  AtomicFileWriter w(path);
  w.write(data, size);
  w.commit();
}

std::vector<std::uint8_t> read_file_bytes(const std::string& path, std::size_t max_bytes,
                                          const std::string& who) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError(who + ": cannot open '" + path + "': " + errno_text());
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const std::string e = errno_text();
    ::close(fd);
    throw IoError(who + ": cannot stat '" + path + "': " + e);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw IoError(who + ": '" + path + "' is a directory");
  }
  std::vector<std::uint8_t> bytes;
  if (S_ISREG(st.st_mode)) {
    if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
      ::close(fd);
      throw IoError(who + ": '" + path + "' is " + std::to_string(st.st_size) +
                    " bytes; the limit is " + std::to_string(max_bytes) + " bytes");
    }
    bytes.reserve(static_cast<std::size_t>(st.st_size));
  }
  // Read in blocks until EOF (works for pipes and devices too), never past the cap.
  std::uint8_t block[65536];
  for (;;) {
    const ssize_t n = ::read(fd, block, sizeof block);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string e = errno_text();
      ::close(fd);
      throw IoError(who + ": reading '" + path + "': " + e);
    }
    if (n == 0) break;
    if (bytes.size() + static_cast<std::size_t>(n) > max_bytes) {
      ::close(fd);
      throw IoError(who + ": '" + path + "' is larger than the limit of " +
                    std::to_string(max_bytes) + " bytes");
    }
    bytes.insert(bytes.end(), block, block + n);
  }
  ::close(fd);
  return bytes;
}

}  // namespace partita
