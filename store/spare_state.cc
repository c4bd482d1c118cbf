#include "store/spare_state.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

#include "sandbox/fd_util.h"
#include "store/job_dir.h"

namespace jobtape::store {

namespace fs = std::filesystem;
using sandbox::UniqueFd;

namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
constexpr const char* kTmpfsDirName = "tmpfs";  // sandbox/state_dir.h's layout

// The entries of an open directory ("." and ".." left out), or nothing if
// it cannot be read. At most `limit` names: more is as good as "too many".
std::optional<std::vector<std::string>> entriesOf(int dir, size_t limit) {
  std::vector<std::string> names;
  alignas(8) char buffer[4096];
  for (;;) {
    long n = ::syscall(SYS_getdents64, dir, buffer, sizeof buffer);
    if (n < 0) return std::nullopt;
    if (n == 0) return names;
    for (long at = 0; at < n;) {
      auto* entry = reinterpret_cast<const struct dirent64*>(buffer + at);
      std::string_view name = entry->d_name;
      if (name != "." && name != "..") {
        if (names.size() == limit) return names;
        names.emplace_back(name);
      }
      at += entry->d_reclen;
    }
  }
}

UniqueFd openOwnDir(int parent, const char* name, struct stat& st) {
  UniqueFd fd(::openat(parent, name, kDirFlags));
  if (!fd || ::fstat(fd.get(), &st) != 0 || st.st_uid != ::geteuid()) return {};
  return fd;
}

// A security module's label is the system's, not the job's.
bool onlyLabels(int fd) {
  char names[1024];
  ssize_t n = ::flistxattr(fd, names, sizeof names);
  if (n < 0) return errno == ENOTSUP;
  for (ssize_t at = 0; at < n; at += static_cast<ssize_t>(std::strlen(names + at)) + 1) {
    if (std::string_view(names + at).rfind("security.", 0) != 0) return false;
  }
  return true;
}

std::optional<long> inodeFlags(int fd) {
  long flags = 0;
  if (::ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) return std::nullopt;
  return flags;
}

// One of the directories a job saw as a tmpfs: empty and as it was made.
bool untouched(int tmpfs, const std::string& name, mode_t madeMode, std::optional<long> madeFlags) {
  struct stat st {};
  UniqueFd dir = openOwnDir(tmpfs, name.c_str(), st);
  if (!dir || (st.st_mode & 07777) != madeMode) return false;
  std::optional<std::vector<std::string>> entries = entriesOf(dir.get(), 1);
  return entries && entries->empty() && onlyLabels(dir.get()) && inodeFlags(dir.get()) == madeFlags;
}

// state/ as the recorder and the sandbox made it: nothing but tmpfs/ with
// untouched directories in it.
bool asMade(int state) {
  std::optional<std::vector<std::string>> top = entriesOf(state, 2);
  if (!top || top->size() > 1) return false;
  if (top->empty()) return true;
  if ((*top)[0] != kTmpfsDirName) return false;
  struct stat st {};
  UniqueFd tmpfs = openOwnDir(state, kTmpfsDirName, st);
  if (!tmpfs) return false;
  const mode_t madeMode = st.st_mode & 0755;
  const std::optional<long> madeFlags = inodeFlags(tmpfs.get());
  std::optional<std::vector<std::string>> dirs = entriesOf(tmpfs.get(), 16);
  if (!dirs || dirs->size() == 16) return false;
  for (const std::string& name : *dirs) {
    if (!untouched(tmpfs.get(), name, madeMode, madeFlags)) return false;
  }
  return true;
}

// spare-state/ of `home`, made when `create`; nothing if it is unsafe.
UniqueFd openSpares(const fs::path& home, bool create) {
  UniqueFd homeFd(::open(home.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!homeFd) return {};
  if (create && ::mkdirat(homeFd.get(), kSpareStateDirName, 0700) != 0 && errno != EEXIST) return {};
  struct stat st {};
  UniqueFd spares = openOwnDir(homeFd.get(), kSpareStateDirName, st);
  if (!spares || (st.st_mode & 077) != 0) return {};
  return spares;
}

bool renameNoReplace(int fromDir, const char* from, int toDir, const char* to) {
  return ::renameat2(fromDir, from, toDir, to, RENAME_NOREPLACE) == 0;
}

}  // namespace

bool takeSpareState(const fs::path& home, const fs::path& jobDir) noexcept {
  try {
    UniqueFd spares = openSpares(home, false);
    if (!spares) return false;
    std::optional<std::vector<std::string>> names = entriesOf(spares.get(), kMaxSpareStates);
    if (!names || names->empty()) return false;
    UniqueFd job(::open(jobDir.c_str(), kDirFlags));
    if (!job) return false;
    for (const std::string& name : *names) {
      struct stat st {};
      // Only a directory of the caller's is taken; another process may take it first.
      if (::fstatat(spares.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode) ||
          st.st_uid != ::geteuid()) {
        continue;
      }
      if (!renameNoReplace(spares.get(), name.c_str(), job.get(), kStateDirName)) continue;
      if (::fstatat(job.get(), kStateDirName, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
          st.st_uid == ::geteuid() && (st.st_mode & 07777) == 0700) {
        return true;
      }
      // Swapped for something else meanwhile: not ours to use.
      (void)renameNoReplace(job.get(), kStateDirName, spares.get(), name.c_str());
      return false;
    }
    return false;
  } catch (...) {
    return false;
  }
}

bool giveBackState(const fs::path& home, const fs::path& stateDir, const std::string& name) noexcept {
  try {
    if (name.empty() || name.find('/') != std::string::npos || name[0] == '.') return false;
    UniqueFd job(::open(stateDir.parent_path().c_str(), kDirFlags));
    if (!job) return false;
    struct stat st {};
    UniqueFd state = openOwnDir(job.get(), kStateDirName, st);
    if (!state || (st.st_mode & 07777) != 0700 || !asMade(state.get())) return false;
    UniqueFd spares = openSpares(home, true);
    if (!spares) return false;
    std::optional<std::vector<std::string>> kept = entriesOf(spares.get(), kMaxSpareStates);
    if (!kept || kept->size() >= static_cast<size_t>(kMaxSpareStates)) return false;
    return renameNoReplace(job.get(), kStateDirName, spares.get(), name.c_str());
  } catch (...) {
    return false;
  }
}

}  // namespace jobtape::store
