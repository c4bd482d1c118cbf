// The job's memory limit: a cgroup v2 memory.max over the whole tree where the
// caller has a writable, delegated cgroup with the memory controller, else
// RLIMIT_AS on every process (a per-process bound on address space: looser,
// but it needs nothing from the host). Hosts with cgroup v1 only always take
// the fallback.
//
// The cgroup is a sibling of the caller's own (cgroup v2 forbids processes in
// an inner node, so the caller's leaf cannot be the parent), named
// jobtape-<pid>-<n>, entered atomically by clone3(CLONE_INTO_CGROUP) and
// removed when the run is over.
#pragma once

#include <cstdint>
#include <string>

#include "sandbox/fd_util.h"

namespace jobtape::sandbox {

class MemoryLimit {
 public:
  // bytes == 0: no limit. Never fails: any cgroup problem means the fallback.
  static MemoryLimit prepare(uint64_t bytes);

  MemoryLimit() = default;
  MemoryLimit(MemoryLimit&&) = default;
  MemoryLimit& operator=(MemoryLimit&&) = default;
  ~MemoryLimit();

  int cgroupFd() const { return cgroupFd_.get(); }       // -1: no cgroup
  const std::string& cgroupPath() const { return path_; }
  uint64_t addressSpaceBytes() const { return rlimitBytes_; }  // 0: none
  // After the run: the kernel's OOM killer acted inside the cgroup.
  bool oomKilled() const;

 private:
  UniqueFd cgroupFd_;
  std::string path_;
  uint64_t rlimitBytes_ = 0;
};

}  // namespace jobtape::sandbox
