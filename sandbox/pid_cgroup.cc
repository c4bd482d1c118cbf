#include "sandbox/pid_cgroup.h"

#include "sandbox/cgroup_files.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace jobtape::sandbox {

namespace {

// 0 or errno.
int writeAt(int dirFd, const char* name, const std::string& text) {
  UniqueFd fd(::openat(dirFd, name, O_WRONLY | O_CLOEXEC));
  if (!fd) return errno;
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) return errno ? errno : EIO;
  return 0;
}

bool hasWord(const std::string& list, const std::string& word, char separator) {
  std::istringstream items(list);
  std::string item;
  while (std::getline(items, item, separator)) {
    if (item == word || item == word + "\n") return true;
  }
  return false;
}

// The caller's cgroup in the hierarchy whose /proc/self/cgroup controller
// field is `controllers` ("" for v2), or "".
std::string ownCgroup(bool v2) {
  std::istringstream lines(readSmallFile("/proc/self/cgroup"));
  std::string line;
  while (std::getline(lines, line)) {
    size_t first = line.find(':');
    size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    if (path.find("..") != std::string::npos) continue;
    if (v2 ? line.rfind("0::", 0) == 0 : hasWord(controllers, "pids", ',')) return path;
  }
  return {};
}

// Where the cgroup v1 pids hierarchy is mounted, or "".
std::string pidsV1Mount() {
  std::istringstream lines(readSmallFile("/proc/self/mountinfo"));
  std::string line;
  while (std::getline(lines, line)) {
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream tail(line.substr(dash + 3));
    std::string type, source, options;
    tail >> type >> source >> options;
    if (type != "cgroup" || !hasWord(options, "pids", ',')) continue;
    std::istringstream head(line.substr(0, dash));
    std::string id, parent, device, root, mountPoint;
    head >> id >> parent >> device >> root >> mountPoint;
    if (root == "/" && mountPoint.find('\\') == std::string::npos) return mountPoint;
  }
  return {};
}

std::string uniqueName() {
  static std::atomic<unsigned> counter{0};
  return "jobtape-pids-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

std::string errnoText(int e) { return std::strerror(e); }

}  // namespace

bool needsPidsCgroup(const Recipe& recipe) { return recipe.limits.maxProcesses != 0 && ::geteuid() == 0; }

std::optional<std::string> pidsLimitUnavailable(const Recipe& recipe) {
  if (!needsPidsCgroup(recipe)) return std::nullopt;
  return PidsCgroup::prepare(recipe.limits.maxProcesses, -1).error();
}

PidsCgroup PidsCgroup::prepare(uint64_t maxProcesses, int memoryCgroupFd) {
  PidsCgroup cgroup;
  const std::string limit = std::to_string(maxProcesses);
  if (memoryCgroupFd >= 0 && writeAt(memoryCgroupFd, "pids.max", limit) == 0) {
    cgroup.shared_ = true;
    return cgroup;
  }
  // The directory to make the job's cgroup in, and why there is none.
  std::string parent, why;
  bool v2 = false;
  struct statfs fs{};
  if (::statfs(kCgroupRoot, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC) {
    v2 = true;
    const std::string own = ownCgroup(true);
    parent = own.empty() || own == "/" ? std::string(kCgroupRoot) : kCgroupRoot + own.substr(0, own.rfind('/'));
    if (!hasWord(readSmallFile(parent + "/cgroup.subtree_control"), "pids", ' ')) {
      why = "the pids controller is not enabled in " + parent + "/cgroup.subtree_control";
      parent.clear();
    }
  } else if (const std::string mount = pidsV1Mount(); !mount.empty()) {
    const std::string own = ownCgroup(false);
    parent = mount + (own == "/" ? "" : own);
  } else {
    why = std::string(kCgroupRoot) + " is neither cgroup v2 nor has a cgroup v1 pids hierarchy";
  }
  if (!parent.empty()) {
    const std::string path = parent + "/" + uniqueName();
    if (::mkdir(path.c_str(), 0755) != 0) {
      why = "cannot create " + path + ": " + errnoText(errno);
    } else {
      cgroup.path_ = path;
      cgroup.fd_.reset(::open(path.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
      int e = cgroup.fd_ ? writeAt(cgroup.fd_.get(), "pids.max", limit) : errno;
      if (e == 0) {
        cgroup.ownV2_ = v2;
        return cgroup;
      }
      why = "cannot set " + path + "/pids.max: " + errnoText(e);
    }
  }
  PidsCgroup failed;  // cgroup's destructor removes what was made
  failed.error_ = "no pids cgroup can be made: " + why;
  return failed;
}

int PidsCgroup::enter(pid_t pid, bool clonedInto) const {
  if (shared_ || !fd_ || (ownV2_ && clonedInto)) return 0;
  return writeAt(fd_.get(), "cgroup.procs", std::to_string(pid));
}

PidsCgroup& PidsCgroup::operator=(PidsCgroup&& other) noexcept {
  if (this == &other) return *this;
  fd_.reset();
  if (!path_.empty()) ::rmdir(path_.c_str());
  fd_ = std::move(other.fd_);
  path_ = std::exchange(other.path_, std::string());
  ownV2_ = other.ownV2_;
  shared_ = other.shared_;
  error_ = std::move(other.error_);
  return *this;
}

PidsCgroup::~PidsCgroup() {
  fd_.reset();
  if (!path_.empty()) ::rmdir(path_.c_str());
}

}  // namespace jobtape::sandbox
