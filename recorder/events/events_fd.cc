#include "recorder/events/events_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace jobtape::recorder {
namespace {

[[noreturn]] void throwErrno(int error, const std::filesystem::path& path, const char* what) {
  throw std::system_error(error, std::generic_category(), path.string() + ": " + what);
}

}  // namespace

void UniqueFd::reset(int fd) noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

void UniqueFd::close(const std::filesystem::path& path) {
  int fd = std::exchange(fd_, -1);
  // Linux releases the descriptor even when close fails: never retry.
  if (fd >= 0 && ::close(fd) != 0 && errno != EINTR) throwErrno(errno, path, "close");
}

// 0600: the events file holds the job's environment and output.
UniqueFd createExclusive(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) throwErrno(errno, path, "cannot create events file");
  return UniqueFd(fd);
}

void writeAll(int fd, const char* data, size_t size, const std::filesystem::path& path) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throwErrno(errno, path, "write");
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

void syncFileAndDirectory(int fd, const std::filesystem::path& path) {
  if (::fdatasync(fd) != 0) throwErrno(errno, path, "fdatasync");
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  UniqueFd dirFd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dirFd) throwErrno(errno, dir, "cannot open directory to sync it");
  if (::fsync(dirFd.get()) != 0) throwErrno(errno, dir, "fsync");
}

}  // namespace jobtape::recorder
