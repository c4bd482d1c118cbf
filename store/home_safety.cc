#include "store/home_safety.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace jobtape::store {

namespace fs = std::filesystem;

namespace {

constexpr mode_t kLooseBits = S_IWGRP | S_IWOTH;

std::string userName(uid_t uid) {
  struct passwd* entry = ::getpwuid(uid);
  return entry ? fmt::format("uid {} ({})", uid, entry->pw_name) : fmt::format("uid {}", uid);
}

std::string modeText(mode_t mode) { return fmt::format("{:04o}", mode & 07777); }

// mkdir -p with 0700 for every directory it makes; mkdir's mode is only
// narrowed by the umask, so 0700 stays 0700 whatever it is.
void makePrivateDirs(const fs::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) return;
  if (dir.has_parent_path() && dir.parent_path() != dir) makePrivateDirs(dir.parent_path());
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    throw StoreOpenError(fmt::format("cannot create {}: {}; check its permissions", dir.string(),
                                     std::strerror(errno)));
  }
}

// An empty jobtape.db made here is 0600, and SQLite gives the -wal and -shm
// files it creates later the database's mode.
void makePrivateDatabase(const fs::path& file) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return;
    throw StoreOpenError(fmt::format("cannot create {}: {}; check its permissions", file.string(),
                                     std::strerror(errno)));
  }
  ::close(fd);
}

void refuseForeignOwner(const fs::path& path, const char* what, const struct stat& st, uid_t euid) {
  if (st.st_uid == euid) return;
  throw StoreUnsafeError(
      fmt::format("the {} {} belongs to {}, not to the caller ({}); a store is used only by its owner", what,
                  path.string(), userName(st.st_uid), userName(euid)),
      "run jobtape as its owner, or pass --home DIR for a store of your own");
}

void refuseWritableByOthers(const fs::path& path, const char* what, const struct stat& st, const char* fixMode) {
  if ((st.st_mode & kLooseBits) == 0) return;
  throw StoreUnsafeError(fmt::format("the {} {} is writable by others (mode {})", what, path.string(),
                                     modeText(st.st_mode)),
                         fmt::format("fix it with: chmod {} {}", fixMode, path.string()));
}

// The home may be reached through a symlink (a home on another disk); what
// it points to is what is checked.
void checkHomeDir(const fs::path& home, uid_t euid) {
  struct stat st {};
  if (::stat(home.c_str(), &st) != 0) {
    if (errno == ENOENT) return;  // nothing there yet: nothing to trust
    throw StoreOpenError(fmt::format("cannot use the store {}: {}; check its permissions", home.string(),
                                     std::strerror(errno)));
  }
  if (!S_ISDIR(st.st_mode)) {
    throw StoreOpenError(fmt::format("the store {} is not a directory", home.string()));
  }
  refuseForeignOwner(home, "store", st, euid);
  refuseWritableByOthers(home, "store", st, "700");
}

// Files of the home are never followed through a link: one would let
// whoever made it choose what jobtape reads and writes.
void checkOwnEntry(const fs::path& path, const char* what, bool directory, uid_t euid) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return;  // absent: created private when needed
  if (S_ISLNK(st.st_mode)) {
    throw StoreUnsafeError(fmt::format("the store's {} {} is a symbolic link; jobtape does not follow it", what,
                                       path.string()),
                           fmt::format("put the real {} there (or remove the link), or pass --home DIR",
                                       directory ? "directory" : "file"));
  }
  if (directory ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
    throw StoreUnsafeError(fmt::format("the store's {} {} is not a {}", what, path.string(),
                                       directory ? "directory" : "regular file"),
                           "move it away, or pass --home DIR");
  }
  refuseForeignOwner(path, what, st, euid);
  refuseWritableByOthers(path, what, st, directory ? "700" : "600");
  // Every job's environment is in the database and its events file: a store
  // made by an older jobtape (0644 files) is made private on first use.
  mode_t privateMode = st.st_mode & (directory ? 07700 : 07600);
  if ((st.st_mode & 07777) != privateMode) ::chmod(path.c_str(), privateMode);
}

}  // namespace

void checkHome(const fs::path& home, uid_t euid) {
  checkHomeDir(home, euid);
  checkOwnEntry(home / kJobsDirName, "job directory", true, euid);
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    checkOwnEntry(home / (std::string(kDatabaseName) + suffix), "database", false, euid);
  }
}

void prepareHome(const fs::path& home, bool create) {
  uid_t euid = ::geteuid();
  // Checked before anything is made in it, and again after: what was made
  // must not have landed in someone else's directory.
  checkHome(home, euid);
  if (!create) return;
  makePrivateDirs(home);
  makePrivateDirs(home / kJobsDirName);
  makePrivateDatabase(home / kDatabaseName);
  checkHome(home, euid);
}

}  // namespace jobtape::store
