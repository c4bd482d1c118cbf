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

void closeReporting(UniqueFd& fd, const std::filesystem::path& path) {
  int owned = fd.release();
  // Linux releases the descriptor even when close fails: never retry.
  if (owned >= 0 && ::close(owned) != 0 && errno != EINTR) throwErrno(errno, path, "close");
}

// 0600: the events file holds the job's environment and output.
UniqueFd createExclusive(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) throwErrno(errno, path, "cannot create events file");
  return UniqueFd(fd);
}

void writeAll(int fd, const char* data, size_t size, const std::filesystem::path& path) {
  if (!sandbox::writeAll(fd, {data, size})) throwErrno(errno != 0 ? errno : EIO, path, "write");
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
