#include "sandbox/memory_limit.h"

#include "sandbox/cgroup_files.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>

namespace jobtape::sandbox {

namespace {

bool writeSmallFile(const std::string& path, const std::string& text) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  return fd && ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size());
}

// The directory in which a job cgroup with the memory controller can be made,
// or "" when there is none.
std::string delegatedParent() {
  struct statfs fs{};
  if (::statfs(kCgroupRoot, &fs) != 0 || fs.f_type != CGROUP2_SUPER_MAGIC) return {};
  std::istringstream lines(readSmallFile("/proc/self/cgroup"));
  std::string line, own;
  while (std::getline(lines, line)) {
    if (line.rfind("0::", 0) == 0) own = line.substr(3);
  }
  if (own.empty() || own.find("..") != std::string::npos) return {};
  std::string parent = own == "/" ? std::string(kCgroupRoot) : kCgroupRoot + own.substr(0, own.rfind('/'));
  std::string controllers = readSmallFile(parent + "/cgroup.subtree_control");
  if ((" " + controllers).find(" memory") == std::string::npos) return {};
  if (::access(parent.c_str(), W_OK) != 0) return {};
  return parent;
}

}  // namespace

MemoryLimit MemoryLimit::prepare(uint64_t bytes) {
  MemoryLimit limit;
  if (bytes == 0) return limit;
  std::string parent = delegatedParent();
  if (!parent.empty()) {
    static std::atomic<unsigned> counter{0};
    std::string path = parent + "/jobtape-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    if (::mkdir(path.c_str(), 0755) == 0) {
      if (writeSmallFile(path + "/memory.max", std::to_string(bytes))) {
        writeSmallFile(path + "/memory.swap.max", "0");  // absent without swap accounting
        limit.cgroupFd_.reset(::open(path.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
      }
      if (limit.cgroupFd_) {
        limit.path_ = path;
        return limit;
      }
      ::rmdir(path.c_str());
    }
  }
  limit.rlimitBytes_ = bytes;
  return limit;
}

MemoryLimit::~MemoryLimit() {
  cgroupFd_.reset();
  if (!path_.empty()) ::rmdir(path_.c_str());
}

bool MemoryLimit::oomKilled() const {
  if (path_.empty()) return false;
  std::istringstream events(readSmallFile(path_ + "/memory.events"));
  std::string key;
  uint64_t value = 0;
  while (events >> key >> value) {
    if (key == "oom_kill") return value > 0;
  }
  return false;
}

}  // namespace jobtape::sandbox
