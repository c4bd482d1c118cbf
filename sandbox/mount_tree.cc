#include "sandbox/mount_tree.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>

#include "sandbox/linux_syscalls.h"

namespace jobtape::sandbox {

namespace {

constexpr const char* kDevNodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
constexpr size_t kDevNodeCount = sizeof kDevNodes / sizeof kDevNodes[0];
// Slots after one per op: the host device nodes, the devpts instance, the root.
constexpr size_t kDevptsSlot = kDevNodeCount;
constexpr size_t kRootSlot = kDevNodeCount + 1;
constexpr size_t kExtraSlots = kDevNodeCount + 2;

bool under(const std::string& path, const char* dir) {
  size_t n = std::strlen(dir);
  return path == dir || (path.size() > n && path.compare(0, n, dir) == 0 && path[n] == '/');
}

// `path` relative to `dir` when it lies in it ("" for dir itself).
std::optional<std::string> relativeTo(const std::string& path, const std::string& dir) {
  if (dir == "/") return path.substr(1);
  if (path == dir) return std::string();
  if (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/') {
    return path.substr(dir.size() + 1);
  }
  return std::nullopt;
}

// The host's view of `path`, symlinks resolved; as given when it cannot be.
std::string resolvedOnHost(const std::string& path) {
  std::unique_ptr<char, decltype(&std::free)> real(::realpath(path.c_str(), nullptr), &std::free);
  return real ? std::string(real.get()) : path;
}

std::string joinInside(const std::string& dir, const std::string& rel) {
  if (rel.empty()) return dir;
  return dir == "/" ? "/" + rel : dir + "/" + rel;
}

// --- child side: everything below is async-signal-safe --------------------

int setAttributes(int fd, const char* path, unsigned flags, uint64_t set) {
  struct mount_attr attr{};
  attr.attr_set = set;
  attr.propagation = MS_PRIVATE;
  return ::mount_setattr(fd, path, flags, &attr, sizeof attr);
}

int setDetachedAttributes(int fd, uint64_t set, bool recursive) {
  return setAttributes(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), set);
}

struct FsOption {
  const char* key;
  const char* value;  // nullptr: a flag
};

// A new, detached superblock mount: the mount fd, or -errno.
int newFilesystem(const char* type, const FsOption* options, size_t count, unsigned attributes) {
  int fs = ::fsopen(type, FSOPEN_CLOEXEC);
  if (fs < 0) return -errno;
  for (size_t i = 0; i < count; ++i) {
    int rc = options[i].value != nullptr
                 ? ::fsconfig(fs, FSCONFIG_SET_STRING, options[i].key, options[i].value, 0)
                 : ::fsconfig(fs, FSCONFIG_SET_FLAG, options[i].key, nullptr, 0);
    if (rc < 0) {
      int e = errno;
      ::close(fs);
      return -e;
    }
  }
  if (::fsconfig(fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) {
    int e = errno;
    ::close(fs);
    return -e;
  }
  int mnt = ::fsmount(fs, FSMOUNT_CLOEXEC, attributes);
  int e = errno;
  ::close(fs);
  return mnt >= 0 ? mnt : -e;
}

int newTmpfs(unsigned extraAttributes = 0) {
  const FsOption options[] = {{"mode", "0755"}};
  return newFilesystem("tmpfs", options, 1, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | extraAttributes);
}

// The home overlay (mount_tree.h). "lowerdir+" (Linux 6.8+) takes the path
// as it is; the older "lowerdir" would split it at a ':'. A kernel that
// knows neither "lowerdir+" nor "volatile" (before 5.10) gets neither.
int newOverlay(const MountPlan::Op& op) {
  const unsigned attributes = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  FsOption options[] = {{"lowerdir+", op.source}, {"upperdir", op.upper}, {"workdir", op.work},
                        {"userxattr", nullptr}, {"volatile", nullptr}};
  constexpr size_t count = sizeof options / sizeof options[0];
  int fd = newFilesystem("overlay", options, count, attributes);
  if (fd != -EINVAL) return fd;
  options[0].key = "lowerdir";
  fd = newFilesystem("overlay", options, count, attributes);
  if (fd != -EINVAL) return fd;
  return newFilesystem("overlay", options, count - 1, attributes);
}

int resolveInRoot(int rootFd, const char* path, int extraFlags) {
  return sys::openat2(rootFd, path, O_PATH | O_CLOEXEC | extraFlags, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

// Creates `name` in the directory `path` of `buf` ends at `slash`. 0 or errno.
int createComponent(int rootFd, char* buf, char* slash, bool directory) {
  *slash = '\0';
  int parent = resolveInRoot(rootFd, slash == buf ? "/" : buf, O_DIRECTORY);
  *slash = '/';
  if (parent < 0) return errno;
  const char* name = slash + 1;
  int rc = 0;
  if (directory) {
    rc = ::mkdirat(parent, name, 0755);
  } else {
    int f = ::openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (f >= 0) ::close(f);
    rc = f >= 0 ? 0 : -1;
  }
  int e = rc < 0 ? errno : 0;
  ::close(parent);
  return e == EEXIST ? 0 : e;
}

// An O_PATH fd of `path` inside the new root, creating missing components
// (directories, and a file for the last one if !directory). Every component is
// resolved from the root with RESOLVE_IN_ROOT: symlinks stay inside. -errno.
int ensureMountPoint(int rootFd, const char* path, bool directory) {
  int fd = resolveInRoot(rootFd, path, 0);
  if (fd >= 0 || errno != ENOENT) return fd >= 0 ? fd : -errno;
  char buf[PATH_MAX];
  size_t len = std::strlen(path);
  if (len >= sizeof buf) return -ENAMETOOLONG;
  std::memcpy(buf, path, len + 1);
  for (size_t end = 1; end <= len; ++end) {
    if ((end < len && buf[end] != '/') || buf[end - 1] == '/') continue;
    bool last = end == len || buf[end + 1] == '\0';
    char saved = buf[end];
    buf[end] = '\0';
    fd = resolveInRoot(rootFd, buf, 0);
    if (fd < 0 && errno == ENOENT) {
      char* slash = std::strrchr(buf, '/');
      if (int e = createComponent(rootFd, buf, slash, directory || !last)) return -e;
      fd = resolveInRoot(rootFd, buf, 0);
    }
    if (fd < 0) return -errno;
    buf[end] = saved;
    if (last) return fd;
    ::close(fd);
  }
  return -ENOENT;
}

int attachAt(int mountFd, int dirFd, const char* name) {
  return ::move_mount(mountFd, "", dirFd, name, MOVE_MOUNT_F_EMPTY_PATH | (name[0] == '\0' ? MOVE_MOUNT_T_EMPTY_PATH : 0));
}

// The kernel's knobs under /proc stay read-only even to a namespace root.
int readOnlyProcEntries(int procFd) {
  for (const char* name : {"sys", "sysrq-trigger", "irq", "bus"}) {
    int clone = ::open_tree(procFd, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (clone < 0) {
      if (errno == ENOENT) continue;
      return errno;
    }
    int rc = setDetachedAttributes(clone, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, false);
    if (rc == 0) rc = attachAt(clone, procFd, name);
    int e = rc < 0 ? errno : 0;
    ::close(clone);
    if (e != 0) return e;
  }
  return 0;
}

// Covers `path` of the new root with the empty read-only `mountFd`, if the
// path is a directory there: a hidden directory the binds do not reach
// (ENOENT), or that the job could not enter anyway, needs no cover. 0 or errno.
int coverInRoot(int rootFd, int mountFd, const char* path) {
  int target = resolveInRoot(rootFd, path, O_DIRECTORY);
  if (target < 0) return errno == ENOENT || errno == ENOTDIR || errno == EACCES ? 0 : errno;
  int rc = attachAt(mountFd, target, "");
  int e = rc < 0 ? errno : 0;
  ::close(target);
  return e;
}

}  // namespace

std::vector<Exposure> exposuresOf(const Recipe& recipe, const std::string& hostPath) {
  std::vector<Exposure> found;
  std::string hidden = resolvedOnHost(hostPath);
  for (size_t i = 0; i < recipe.mounts.size(); ++i) {
    const Mount& m = recipe.mounts[i];
    if (m.kind == Mount::Kind::tmpfs) continue;
    // A home overlay shows its source as a bind does; the job's writes go to
    // the upper layer, never to the host's directory.
    std::string source = resolvedOnHost(m.source);
    const std::string& destination = m.destination.empty() ? m.source : m.destination;
    bool writable = m.kind == Mount::Kind::bind;
    if (auto rel = relativeTo(hidden, source)) {
      found.push_back({i, joinInside(destination, *rel), true, writable});
    } else if (relativeTo(source, hidden)) {
      found.push_back({i, destination, false, writable});
    }
  }
  return found;
}

namespace {

// Where the binds show a hidden directory: a bind of a part of one is
// covered whole (callers should refuse such a recipe in the first place).
std::vector<Exposure> placesToCover(const Recipe& recipe, const std::vector<std::string>& hidden) {
  std::vector<Exposure> places;
  for (const std::string& path : hidden) {
    for (Exposure& e : exposuresOf(recipe, path)) places.push_back(std::move(e));
  }
  return places;
}

}  // namespace

MountPlan MountPlan::build(const Recipe& recipe, const std::vector<std::string>& tmpfsSources,
                           const std::vector<std::string>& hidden, const HomeLayers& homeLayers) {
  struct Pending {
    Op::Kind kind;
    size_t source, destination;  // indices into strings_
    bool readOnly;
    int index;
    size_t upper = 0, work = 0;  // overlay only
  };
  MountPlan plan;
  std::vector<Pending> pending;
  auto add = [&](Op::Kind kind, std::string source, std::string destination, bool readOnly, int index) {
    plan.strings_.push_back(std::move(source));
    plan.strings_.push_back(std::move(destination));
    pending.push_back({kind, plan.strings_.size() - 2, plan.strings_.size() - 1, readOnly, index});
  };
  auto addOverlay = [&](const Mount& m, std::string destination, int index) {
    add(Op::Kind::overlay, m.source, std::move(destination), false, index);
    plan.strings_.push_back(homeLayers.upper);
    plan.strings_.push_back(homeLayers.work);
    pending.back().upper = plan.strings_.size() - 2;
    pending.back().work = plan.strings_.size() - 1;
  };
  auto inside = [](const Mount& m) { return m.destination.empty() ? m.source : m.destination; };
  auto addRecipeMount = [&](size_t i) {
    const Mount& m = recipe.mounts[i];
    std::string stateSource = i < tmpfsSources.size() ? tmpfsSources[i] : std::string();
    if (m.kind == Mount::Kind::tmpfs && stateSource.empty()) {
      add(Op::Kind::tmpfs, {}, inside(m), false, static_cast<int>(i));
    } else if (m.kind == Mount::Kind::tmpfs) {
      add(Op::Kind::bind, stateSource, inside(m), false, static_cast<int>(i));
    } else if (m.kind == Mount::Kind::homeOverlay && !homeLayers.empty()) {
      addOverlay(m, inside(m), static_cast<int>(i));
    } else {
      add(Op::Kind::bind, m.source, inside(m), m.kind != Mount::Kind::bind, static_cast<int>(i));
    }
  };
  std::vector<Exposure> exposures = placesToCover(recipe, hidden);
  auto addWithCovers = [&](size_t i) {
    addRecipeMount(i);
    for (const Exposure& e : exposures) {
      if (e.mountIndex == i) add(Op::Kind::hide, {}, e.inside, true, static_cast<int>(i));
    }
  };
  auto special = [&](const Mount& m) { return under(inside(m), "/dev") || under(inside(m), "/proc"); };
  for (size_t i = 0; i < recipe.mounts.size(); ++i) {
    if (!special(recipe.mounts[i])) addWithCovers(i);
  }
  add(Op::Kind::proc, {}, "/proc", false, -1);
  add(Op::Kind::dev, {}, "/dev", false, -1);
  for (size_t i = 0; i < recipe.mounts.size(); ++i) {
    if (special(recipe.mounts[i])) addWithCovers(i);
  }
  // Pointers only once strings_ has stopped growing.
  for (const Pending& p : pending) {
    Op op;
    op.kind = p.kind;
    op.source = plan.strings_[p.source].c_str();
    op.destination = plan.strings_[p.destination].c_str();
    op.readOnly = p.readOnly;
    op.recipeIndex = p.index;
    if (p.kind == Op::Kind::overlay) {
      op.upper = plan.strings_[p.upper].c_str();
      op.work = plan.strings_[p.work].c_str();
    }
    plan.ops_.push_back(op);
  }
  plan.allocateSlots();
  return plan;
}

void MountPlan::allocateSlots() { fds_.assign(ops_.size() + kExtraSlots, -1); }

StageError MountPlan::captureSources() const noexcept {
  int* extra = fds_.data() + ops_.size();
  for (size_t i = 0; i < ops_.size(); ++i) {
    const Op& op = ops_[i];
    int fd = -1;
    switch (op.kind) {
      case Op::Kind::bind:
        fd = ::open_tree(AT_FDCWD, op.source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (fd < 0) return {SetupStep::bindSource, errno, op.recipeIndex};
        fds_[i] = fd;
        if (setDetachedAttributes(fd, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (op.readOnly ? MOUNT_ATTR_RDONLY : 0), true) < 0) {
          return {SetupStep::readOnly, errno, op.recipeIndex};
        }
        break;
      case Op::Kind::tmpfs:
        fd = newTmpfs();
        if (fd < 0) return {SetupStep::tmpfs, -fd, op.recipeIndex};
        break;
      case Op::Kind::overlay:
        fd = newOverlay(op);
        if (fd < 0) return {SetupStep::homeOverlay, -fd, op.recipeIndex};
        break;
      case Op::Kind::hide:
        fd = newTmpfs(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOEXEC);
        if (fd < 0) return {SetupStep::tmpfs, -fd, op.recipeIndex};
        break;
      case Op::Kind::proc:
        fd = newFilesystem("proc", nullptr, 0, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
        if (fd < 0) return {SetupStep::procfs, -fd, -1};
        break;
      case Op::Kind::dev: {
        fd = newTmpfs();
        if (fd < 0) return {SetupStep::devfs, -fd, -1};
        for (size_t k = 0; k < kDevNodeCount; ++k) {
          char path[32] = "/dev/";
          std::strcat(path, kDevNodes[k]);
          int node = ::open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
          if (node < 0 && errno == ENOENT) continue;  // e.g. no /dev/tty on the host
          if (node < 0) return {SetupStep::devfs, errno, -1};
          extra[k] = node;
          // Read-only: the node stays usable (a device is written through
          // a read-only mount) while its inode, the host's, cannot be
          // chmod'ed, chown'ed or touched by a root caller's job.
          if (setDetachedAttributes(node, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_RDONLY, false) < 0) {
            return {SetupStep::devfs, errno, -1};
          }
        }
        const FsOption pts[] = {{"newinstance", nullptr}, {"ptmxmode", "0666"}, {"mode", "0620"}};
        int devpts = newFilesystem("devpts", pts, 3, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
        if (devpts < 0) return {SetupStep::devfs, -devpts, -1};
        extra[kDevptsSlot] = devpts;
        break;
      }
    }
    fds_[i] = fd;
  }
  bool recipeRoot = !ops_.empty() && std::strcmp(ops_[0].destination, "/") == 0;
  if (!recipeRoot) {
    int root = newTmpfs();
    if (root < 0) return {SetupStep::rootTmpfs, -root, -1};
    extra[kRootSlot] = root;
  }
  return {};
}

StageError MountPlan::finishDev(int devFd) const noexcept {
  const int* extra = fds_.data() + ops_.size();
  for (size_t k = 0; k < kDevNodeCount; ++k) {
    if (extra[k] < 0) continue;
    int f = ::openat(devFd, kDevNodes[k], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (f < 0) return {SetupStep::devfs, errno, -1};
    ::close(f);
    if (attachAt(extra[k], devFd, kDevNodes[k]) < 0) return {SetupStep::devfs, errno, -1};
  }
  if (::mkdirat(devFd, "shm", 01777) < 0 || ::mkdirat(devFd, "pts", 0755) < 0) return {SetupStep::devfs, errno, -1};
  if (attachAt(extra[kDevptsSlot], devFd, "pts") < 0) return {SetupStep::devfs, errno, -1};
  const char* links[][2] = {{"/proc/self/fd", "fd"},         {"/proc/self/fd/0", "stdin"},
                            {"/proc/self/fd/1", "stdout"},   {"/proc/self/fd/2", "stderr"},
                            {"pts/ptmx", "ptmx"},            {"/proc/kcore", "core"}};
  for (const auto& link : links) {
    if (::symlinkat(link[0], devFd, link[1]) < 0) return {SetupStep::devfs, errno, -1};
  }
  return {};
}

StageError MountPlan::attach(int rootFd, size_t first) const noexcept {
  for (size_t i = first; i < ops_.size(); ++i) {
    const Op& op = ops_[i];
    if (op.kind == Op::Kind::hide) {
      if (int e = coverInRoot(rootFd, fds_[i], op.destination)) return {SetupStep::attachMount, e, op.recipeIndex};
      continue;
    }
    if (std::strcmp(op.destination, "/") == 0) return {SetupStep::mountPoint, EINVAL, op.recipeIndex};
    bool directory = true;
    if (op.kind == Op::Kind::bind) {
      struct stat st;
      if (::fstat(fds_[i], &st) < 0) return {SetupStep::bindSource, errno, op.recipeIndex};
      directory = S_ISDIR(st.st_mode);
    }
    int target = ensureMountPoint(rootFd, op.destination, directory);
    if (target < 0) return {SetupStep::mountPoint, -target, op.recipeIndex};
    int rc = attachAt(fds_[i], target, "");
    int e = errno;
    ::close(target);
    if (rc < 0) return {SetupStep::attachMount, e, op.recipeIndex};
    if (op.kind == Op::Kind::proc) {
      if (int err = readOnlyProcEntries(fds_[i])) return {SetupStep::procfs, err, -1};
    } else if (op.kind == Op::Kind::dev) {
      if (StageError err = finishDev(fds_[i])) return err;
    }
  }
  return {};
}

StageError MountPlan::apply() const noexcept {
  // Nothing done here may propagate back to the host's mount namespace.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) return {SetupStep::mountPropagation, errno, -1};
  if (StageError e = captureSources()) return e;
  bool recipeRoot = std::strcmp(ops_[0].destination, "/") == 0;
  int rootFd = recipeRoot ? fds_[0] : fds_[ops_.size() + kRootSlot];
  int rootIndex = recipeRoot ? ops_[0].recipeIndex : -1;
  // A place to hang the new root so that pivot_root accepts it; every source
  // has been captured already, so covering the host's /tmp hides nothing.
  if (attachAt(rootFd, AT_FDCWD, "/tmp") < 0) return {SetupStep::rootTmpfs, errno, rootIndex};
  if (StageError e = attach(rootFd, recipeRoot ? 1 : 0)) return e;
  if (::fchdir(rootFd) < 0 || sys::pivotRoot(".", ".") < 0) return {SetupStep::pivotRoot, errno, -1};
  if (::umount2(".", MNT_DETACH) < 0 || ::chdir("/") < 0) return {SetupStep::pivotRoot, errno, -1};
  if (!recipeRoot && setAttributes(AT_FDCWD, "/", 0, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV) < 0) {
    return {SetupStep::readOnly, errno, -1};
  }
  for (int& fd : fds_) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  return {};
}

}  // namespace jobtape::sandbox
