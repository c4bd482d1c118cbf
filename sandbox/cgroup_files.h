// What the job cgroups (memory_limit, pid_cgroup) read of the cgroup
// filesystem: its mount point and small control files.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace jobtape::sandbox {

inline constexpr const char* kCgroupRoot = "/sys/fs/cgroup";

// The whole of a small file (a control file, /proc/self/cgroup); empty when
// it cannot be read.
inline std::string readSmallFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace jobtape::sandbox
