#include "store/home_layers.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

#include "store/store.h"
#include "store/tree_removal.h"

namespace jobtape::store {

namespace fs = std::filesystem;
using sandbox::UniqueFd;

namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

[[noreturn]] void refuse(const fs::path& path, const std::string& why) {
  throw StoreUnsafeError(fmt::format("the home layer {} {}; jobtape does not use it", path.string(), why),
                         "remove it (jobtape gc --homes), or pass --home DIR");
}

// `name` in `dir` (at `path`), made 0700 when missing. Never follows a link:
// O_NOFOLLOW on the last component, and every component before it was
// opened the same way.
UniqueFd openOwnDir(int dir, const std::string& name, const fs::path& path) {
  if (::mkdirat(dir, name.c_str(), 0700) < 0 && errno != EEXIST) {
    throw StoreOpenError(fmt::format("cannot create {}: {}; check the store's permissions", path.string(),
                                     std::strerror(errno)));
  }
  UniqueFd fd(::openat(dir, name.c_str(), kDirFlags));
  if (!fd && (errno == ELOOP || errno == ENOTDIR)) refuse(path, "is a symbolic link or not a directory");
  if (!fd) throw StoreOpenError(fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0) throw StoreOpenError(fmt::format("cannot stat {}", path.string()));
  if (st.st_uid != ::geteuid()) refuse(path, "belongs to another user");
  if ((st.st_mode & 077) != 0) refuse(path, "is open to group or others");
  return fd;
}

UniqueFd openHome(const fs::path& home) {
  UniqueFd fd(::open(home.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) throw StoreOpenError(fmt::format("cannot open the store {}: {}", home.string(), std::strerror(errno)));
  return fd;
}

// The lock of a slot, or nothing when a running job holds it or gc removed
// it while we waited for it (an unlinked directory has no links left).
bool lockSlot(int slot) {
  if (::flock(slot, LOCK_EX | LOCK_NB) < 0) return false;
  struct stat st {};
  return ::fstat(slot, &st) == 0 && st.st_nlink > 0;
}

// Through an O_PATH descriptor, so that the chmod reaches that directory
// and never what a link names.
void openUpWorkArea(int slot) {
  UniqueFd work(::openat(slot, kWorkDirName, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!work) return;
  UniqueFd inner(::openat(work.get(), "work", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!inner) return;
  std::string proc = "/proc/self/fd/" + std::to_string(inner.get());
  ::chmod(proc.c_str(), 0700);
}

// The marker a volatile overlay leaves behind (sandbox/mount_tree.h), which
// would make the kernel refuse the next mount. Called with the slot locked:
// the job that mounted it last is over.
void removeVolatileMarker(const fs::path& slotDir) {
  fs::path marker = slotDir / kWorkDirName / "work" / "incompat";
  try {
    removeTree(marker);
  } catch (const fs::filesystem_error& error) {
    throw StoreOpenError(fmt::format("cannot remove {}, which the last job's home overlay left: {}",
                                     marker.string(), error.code().message()));
  }
}

}  // namespace

HomeLayerLease::~HomeLayerLease() {
  if (!lock_) return;
  openUpWorkArea(lock_.get());
  try {
    removeVolatileMarker(slotDir_);
  } catch (const StoreOpenError&) {
    // The next lease of the slot tries again, and says why if it cannot.
  }
}

bool isHomeLayerKey(const std::string& key) {
  if (key.size() != 64) return false;
  for (char c : key) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

HomeLayerLease acquireHomeLayer(const fs::path& home, const std::string& key) {
  if (!isHomeLayerKey(key)) throw StoreOpenError("a home layer's key must be 64 lower-case hex digits");
  UniqueFd homeFd = openHome(home);
  fs::path homes = home / kHomesDirName;
  UniqueFd homesFd = openOwnDir(homeFd.get(), kHomesDirName, homes);
  UniqueFd keyFd = openOwnDir(homesFd.get(), key, homes / key);
  for (int slot = 0; slot < kMaxHomeSlots; ++slot) {
    std::string name = std::to_string(slot);
    fs::path slotDir = homes / key / name;
    UniqueFd slotFd = openOwnDir(keyFd.get(), name, slotDir);
    if (!lockSlot(slotFd.get())) continue;
    openOwnDir(slotFd.get(), kUpperDirName, slotDir / kUpperDirName);
    openOwnDir(slotFd.get(), kWorkDirName, slotDir / kWorkDirName);
    openUpWorkArea(slotFd.get());
    removeVolatileMarker(slotDir);
    return HomeLayerLease(std::move(slotDir), std::move(slotFd));
  }
  throw StoreOpenError(fmt::format("all {} home layers of the project in {} are in use by running jobs",
                                   kMaxHomeSlots, (homes / key).string()));
}

namespace {

std::vector<std::string> entriesOf(int dirFd) {
  std::vector<std::string> names;
  int copy = ::dup(dirFd);
  if (copy < 0) return names;
  DIR* dir = ::fdopendir(copy);
  if (!dir) {
    ::close(copy);
    return names;
  }
  while (dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  ::closedir(dir);
  return names;
}

uint64_t removeOrMeasure(const fs::path& path, bool dryRun) { return dryRun ? diskUsage(path) : removeTree(path); }

// One project's slots: each removed while we hold its lock, so no job can
// mount it meanwhile (a job that waited for it sees it gone: lockSlot).
void removeProjectLayers(int keyFd, const fs::path& keyDir, bool dryRun, HomeLayersRemoval& removal) {
  bool kept = false;
  for (const std::string& name : entriesOf(keyFd)) {
    fs::path slotDir = keyDir / name;
    UniqueFd slot(::openat(keyFd, name.c_str(), kDirFlags));
    if (slot && !lockSlot(slot.get())) {
      ++removal.busy;
      kept = true;
      continue;
    }
    try {
      removal.bytes += removeOrMeasure(slotDir, dryRun);  // a non-directory goes as it is
      ++removal.layers;
    } catch (const std::exception& error) {
      removal.problems.push_back(fmt::format("cannot remove the home layer {}: {}", slotDir.string(), error.what()));
      kept = true;
    }
  }
  if (!kept && !dryRun) ::rmdir(keyDir.c_str());
}

}  // namespace

HomeLayersRemoval removeHomeLayers(const fs::path& home, const std::optional<std::string>& key, bool dryRun) {
  HomeLayersRemoval removal;
  UniqueFd homeFd = openHome(home);
  fs::path homes = home / kHomesDirName;
  UniqueFd homesFd(::openat(homeFd.get(), kHomesDirName, kDirFlags));
  if (!homesFd && errno == ENOENT) return removal;
  if (!homesFd) {
    // A planted link at homes/ itself: removed as a link, never followed.
    removal.bytes += removeOrMeasure(homes, dryRun);
    return removal;
  }
  for (const std::string& name : entriesOf(homesFd.get())) {
    if (key && name != *key) continue;
    UniqueFd keyFd(::openat(homesFd.get(), name.c_str(), kDirFlags));
    if (keyFd) {
      removeProjectLayers(keyFd.get(), homes / name, dryRun, removal);
      continue;
    }
    try {  // a planted link or file: removed as it is
      removal.bytes += removeOrMeasure(homes / name, dryRun);
      ++removal.layers;
    } catch (const std::exception& error) {
      removal.problems.push_back(fmt::format("cannot remove {}: {}", (homes / name).string(), error.what()));
    }
  }
  return removal;
}

}  // namespace jobtape::store
