// Owned file descriptors.
//
// Every fd the supervisor opens is close-on-exec and owned by exactly one
// UniqueFd, so that no path (exception, early return, concurrent run() on
// another thread that forks) leaves one behind or lets it reach a sandbox.
#pragma once

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <utility>

namespace jobtape::sandbox {

// Whether `fd` has something to read now, without waiting. POLLIN only: a
// bare POLLHUP (a seccomp listener with no notification waiting, a socket
// whose peer left) is not "readable", and receiving then could block.
inline bool readableNow(int fd) noexcept {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  explicit operator bool() const noexcept { return valid(); }

  int release() noexcept { return std::exchange(fd_, -1); }
  void reset(int fd = -1) noexcept {
    int old = std::exchange(fd_, fd);
    if (old >= 0) ::close(old);
  }

 private:
  int fd_ = -1;
};

// write(2) until every byte is written: EINTR and short writes are retried,
// and a non-blocking fd that is full (EAGAIN) is waited on. False with errno
// set when the fd refuses (errno 0: it took nothing). The one such loop of
// the library; the CLI, which sees only the public API, has its own.
inline bool writeAll(int fd, std::string_view bytes) noexcept {
  while (!bytes.empty()) {
    ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0 && errno == EINTR) continue;
    if (written < 0 && errno == EAGAIN) {
      pollfd writable{fd, POLLOUT, 0};
      ::poll(&writable, 1, -1);
      continue;
    }
    if (written == 0) errno = 0;
    if (written <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(written));
  }
  return true;
}

}  // namespace jobtape::sandbox
