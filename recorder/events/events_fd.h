// The few file-descriptor operations the events file needs, each turning
// errno into a std::system_error that names the path.
#pragma once

#include <cstddef>
#include <filesystem>
#include <utility>

namespace jobtape::recorder {

// Owns one file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset(int fd = -1) noexcept;
  // Closes now and reports a failing close(2) (on some file systems the
  // last write error only shows up here). Throws std::system_error.
  void close(const std::filesystem::path& path);

 private:
  int fd_ = -1;
};

// Creates `path` for writing; fails if it exists (O_EXCL), close-on-exec.
UniqueFd createExclusive(const std::filesystem::path& path);

// write(2) until every byte is written (EINTR and short writes retried).
void writeAll(int fd, const char* data, size_t size, const std::filesystem::path& path);

// fdatasync(2) of the file, then fsync(2) of its directory so that a newly
// created file's name survives a power loss too.
void syncFileAndDirectory(int fd, const std::filesystem::path& path);

}  // namespace jobtape::recorder
