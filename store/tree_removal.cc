#include "store/tree_removal.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <vector>

#include "sandbox/fd_util.h"
#include "sandbox/normal_path.h"

namespace jobtape::store {

namespace fs = std::filesystem;
using sandbox::UniqueFd;

namespace {

// Directories held open at once, deepest first; the rest are reopened.
constexpr size_t kOpenWindow = 16;

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

uint64_t blocksOf(const struct stat& st) { return static_cast<uint64_t>(st.st_blocks) * 512; }

// One directory on the way down: its name in its parent, the entries not
// yet visited (read in full on entry, so that its descriptor can be closed
// and opened again without losing the place) and, within the window, its fd.
struct Level {
  std::string name;
  std::vector<std::string> pending;
  UniqueFd fd;
  dev_t dev = 0;
  ino_t ino = 0;
};

class TreeWalk {
 public:
  TreeWalk(fs::path root, int rootParent, bool remove) : root_(std::move(root)), rootParent_(rootParent), remove_(remove) {}

  uint64_t run();

 private:
  [[noreturn]] void fail(const std::string& what, const std::string& name, int error) const;
  UniqueFd openDir(int parent, const std::string& name) const;
  bool enter(int parent, const std::string& name);
  bool removedIfEmpty(int parent, const std::string& name) const;
  void leave();
  int topFd();
  void trimWindow();
  void reopenParentOf(const Level& child);

  fs::path root_;
  int rootParent_;
  bool remove_;
  std::vector<Level> stack_;
  size_t lowestOpen_ = 0;  // levels [lowestOpen_, size) hold an fd
  uint64_t bytes_ = 0;
};

void TreeWalk::fail(const std::string& what, const std::string& name, int error) const {
  fs::path where = stack_.size() <= 1 ? root_ : root_ / ("(" + std::to_string(stack_.size() - 1) + " levels down)");
  throw fs::filesystem_error(what, name.empty() ? where : where / name, std::error_code(error, std::generic_category()));
}

// A directory of the caller's own without read, write or search permission
// (a job may chmod 000 its own) is opened up: through an O_PATH descriptor,
// so that the chmod reaches that directory and never what a link names.
UniqueFd TreeWalk::openDir(int parent, const std::string& name) const {
  UniqueFd fd(::openat(parent, name.c_str(), kDirFlags));
  if (!fd && errno == EACCES && remove_) {
    UniqueFd handle(::openat(parent, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    std::string proc = "/proc/self/fd/" + std::to_string(handle.get());
    if (handle && ::chmod(proc.c_str(), 0700) == 0) fd.reset(::openat(parent, name.c_str(), kDirFlags));
    errno = fd ? 0 : EACCES;
  }
  if (!fd) return fd;
  struct stat st {};
  if (remove_ && ::fstat(fd.get(), &st) == 0 && (st.st_mode & S_IRWXU) != S_IRWXU) {
    ::fchmod(fd.get(), (st.st_mode & 07777) | S_IRWXU);
  }
  return fd;
}

bool TreeWalk::enter(int parent, const std::string& name) {
  UniqueFd fd = openDir(parent, name);
  if (!fd) {
    if (errno == ENOENT) return false;
    if (!remove_) return false;
    fail("cannot open directory", name, errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail("cannot stat directory", name, errno);
  Level level{name, {}, {}, st.st_dev, st.st_ino};
  // fdopendir owns what it is given: a duplicate, so that `fd` stays ours.
  UniqueFd reading(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 0));
  DIR* dir = reading ? ::fdopendir(reading.get()) : nullptr;
  if (!dir) fail("cannot read directory", name, errno);
  reading.release();
  errno = 0;
  while (struct dirent* entry = ::readdir(dir)) {
    std::string_view entryName = entry->d_name;
    if (entryName != "." && entryName != "..") level.pending.emplace_back(entryName);
  }
  int readError = errno;
  ::closedir(dir);
  if (readError != 0) fail("cannot read directory", name, readError);
  level.fd = std::move(fd);
  stack_.push_back(std::move(level));
  trimWindow();
  return true;
}

// Most directories a job leaves (its state's /tmp and /run) are empty: one
// rmdir instead of opening and reading them. It never follows a link and
// removes nothing but an empty directory, so any failure (not empty, not
// permitted) just means the walk goes in.
bool TreeWalk::removedIfEmpty(int parent, const std::string& name) const {
  return remove_ && ::unlinkat(parent, name.c_str(), AT_REMOVEDIR) == 0;
}

void TreeWalk::trimWindow() {
  while (stack_.size() - lowestOpen_ > kOpenWindow) stack_[lowestOpen_++].fd.reset();
}

// The deepest directory's fd, opened again from the top when the walk has
// come back above the window.
int TreeWalk::topFd() {
  if (lowestOpen_ < stack_.size()) return stack_.back().fd.get();
  int parent = rootParent_;
  for (size_t depth = 0; depth < stack_.size(); ++depth) {
    UniqueFd fd = openDir(parent, stack_[depth].name);
    if (!fd) fail("cannot reopen directory", stack_[depth].name, errno);
    stack_[depth].fd = std::move(fd);
    parent = stack_[depth].fd.get();
    if (depth >= kOpenWindow) stack_[depth - kOpenWindow].fd.reset();
  }
  lowestOpen_ = stack_.size() > kOpenWindow ? stack_.size() - kOpenWindow : 0;
  return stack_.back().fd.get();
}

// Coming back up above the window: the parent through "..", which is the
// directory recorded on the way down only if nothing moved it meanwhile (its
// device and inode say); if anything did, topFd() walks down from the top.
void TreeWalk::reopenParentOf(const Level& child) {
  UniqueFd fd(::openat(child.fd.get(), "..", kDirFlags));
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) != 0) return;
  if (st.st_dev != stack_.back().dev || st.st_ino != stack_.back().ino) return;
  stack_.back().fd = std::move(fd);
  lowestOpen_ = stack_.size() - 1;
}

void TreeWalk::leave() {
  Level child = std::move(stack_.back());
  stack_.pop_back();
  if (lowestOpen_ >= stack_.size()) {
    lowestOpen_ = stack_.size();
    if (!stack_.empty() && child.fd) reopenParentOf(child);
  }
  child.fd.reset();
  const std::string& name = child.name;
  if (!remove_) return;
  int parent = stack_.empty() ? rootParent_ : topFd();
  if (::unlinkat(parent, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) fail("cannot remove directory", name, errno);
}

uint64_t TreeWalk::run() {
  std::string rootName = root_.filename().string();
  struct stat st {};
  if (::fstatat(rootParent_, rootName.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return 0;
    fail("cannot stat", "", errno);
  }
  bytes_ = blocksOf(st);
  if (!S_ISDIR(st.st_mode)) {
    if (remove_ && ::unlinkat(rootParent_, rootName.c_str(), 0) != 0 && errno != ENOENT) fail("cannot remove", "", errno);
    return bytes_;
  }
  if (removedIfEmpty(rootParent_, rootName) || !enter(rootParent_, rootName)) return bytes_;
  while (!stack_.empty()) {
    if (stack_.back().pending.empty()) {
      leave();
      continue;
    }
    std::string name = std::move(stack_.back().pending.back());
    stack_.back().pending.pop_back();
    int fd = topFd();
    if (::fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      if (!remove_) continue;
      fail("cannot stat", name, errno);
    }
    bytes_ += blocksOf(st);
    if (S_ISDIR(st.st_mode)) {
      if (!removedIfEmpty(fd, name)) enter(fd, name);
    } else if (remove_ && ::unlinkat(fd, name.c_str(), 0) != 0 && errno != ENOENT) {
      fail("cannot remove", name, errno);
    }
  }
  return bytes_;
}

uint64_t walk(const fs::path& path, bool remove) {
  fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  UniqueFd parentFd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parentFd) {
    if (errno == ENOENT || !remove) return 0;
    throw fs::filesystem_error("cannot open directory", parent, std::error_code(errno, std::generic_category()));
  }
  return TreeWalk(path, parentFd.get(), remove).run();
}

}  // namespace


uint64_t removeTree(const fs::path& path) { return walk(sandbox::normalPath(path), true); }

uint64_t diskUsage(const fs::path& path) {
  try {
    return walk(sandbox::normalPath(path), false);
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace jobtape::store
