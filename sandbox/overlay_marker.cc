#include "sandbox/overlay_marker.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "sandbox/fd_util.h"

namespace jobtape::sandbox {

namespace {

constexpr const char* kOverlayWorkName = "work";
constexpr const char* kIncompatName = "incompat";
constexpr const char* kVolatileName = "volatile";
constexpr const char* kDirtyName = "dirty";

// `name` in `dir` as a directory descriptor, after giving it mode 0700
// through a descriptor of its own (the chmod reaches that directory and
// never what a link names). Empty with errno when it cannot be.
UniqueFd openUpDirectory(int dir, const char* name) {
  UniqueFd path(::openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!path) return {};
  std::string proc = "/proc/self/fd/" + std::to_string(path.get());
  struct stat st {};
  if (::fstat(path.get(), &st) < 0) return {};
  if ((st.st_mode & 07777) != 0700 && ::chmod(proc.c_str(), 0700) < 0) return {};
  return UniqueFd(::openat(path.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

bool removedOrAbsent(int rc) { return rc == 0 || errno == ENOENT; }

}  // namespace

bool clearVolatileMarker(const std::string& workDir) noexcept {
  try {
    UniqueFd work(::open(workDir.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!work) return false;
    UniqueFd inner = openUpDirectory(work.get(), kOverlayWorkName);
    if (!inner) return errno == ENOENT;
    UniqueFd incompat = openUpDirectory(inner.get(), kIncompatName);
    if (!incompat) return errno == ENOENT;
    UniqueFd marker = openUpDirectory(incompat.get(), kVolatileName);
    if (marker) {
      if (!removedOrAbsent(::unlinkat(marker.get(), kDirtyName, 0))) return false;
      marker.reset();
      if (!removedOrAbsent(::unlinkat(incompat.get(), kVolatileName, AT_REMOVEDIR))) return false;
    } else if (errno != ENOENT) {
      return false;
    }
    incompat.reset();
    return removedOrAbsent(::unlinkat(inner.get(), kIncompatName, AT_REMOVEDIR));
  } catch (...) {
    return false;  // no memory for a path
  }
}

void BackgroundMarkerClearing::start(std::string workDir) noexcept {
  if (started_) return;
  started_ = true;
  try {
    thread_ = std::thread([dir = std::move(workDir)] { (void)clearVolatileMarker(dir); });
  } catch (...) {
    // No thread (EAGAIN) or no memory: the store removes it after the job.
  }
}

void BackgroundMarkerClearing::wait() noexcept {
  if (thread_.joinable()) thread_.join();
}

}  // namespace jobtape::sandbox
