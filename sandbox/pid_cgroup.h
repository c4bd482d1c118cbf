// maxProcesses for a root caller.
//
// RLIMIT_NPROC is the limit for everyone else, but the kernel exempts the
// initial namespace's uid 0 from it (copy_process: `user != INIT_USER`), and
// a root caller's job runs as host uid 0 (its user namespace maps 0 to 0):
// a fork bomb under `maxProcesses: 20` would run unchecked. For root the
// limit is therefore the pids.max of a cgroup of the job's own, which no
// uid is exempt from:
//  - cgroup v2: the job's memory cgroup when it has one, else a sibling of
//    the caller's cgroup (as memory_limit.h), under a parent whose
//    cgroup.subtree_control has the pids controller; entered by clone3
//    CLONE_INTO_CGROUP or, failing that, before the child is released;
//  - cgroup v1: a child of the caller's cgroup in the pids hierarchy,
//    entered before the child is released (the pid written to cgroup.procs).
// Where neither can be made the job is refused: a limit that silently does
// not hold is worse than none.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "sandbox/fd_util.h"
#include "sandbox/recipe.h"

namespace jobtape::sandbox {

// True when `recipe`'s maxProcesses needs a pids cgroup: a limit is set and
// the caller is root.
bool needsPidsCgroup(const Recipe& recipe);

// Why `recipe`'s maxProcesses cannot hold for this caller on this host (a
// trial cgroup is made and removed), or nullopt when it can.
std::optional<std::string> pidsLimitUnavailable(const Recipe& recipe);

class PidsCgroup {
 public:
  // Makes the cgroup with pids.max = maxProcesses; `memoryCgroupFd` is the
  // job's v2 memory cgroup (-1: none). On failure, `error()` says why in one
  // line and nothing is left behind.
  static PidsCgroup prepare(uint64_t maxProcesses, int memoryCgroupFd);

  PidsCgroup() = default;
  PidsCgroup(PidsCgroup&& other) noexcept { *this = std::move(other); }
  PidsCgroup& operator=(PidsCgroup&& other) noexcept;
  ~PidsCgroup();

  const std::optional<std::string>& error() const { return error_; }
  // A v2 cgroup of its own for clone3 CLONE_INTO_CGROUP; -1 otherwise.
  int cloneCgroupFd() const { return ownV2_ ? fd_.get() : -1; }
  // A cgroup was made for the job: removing it needs the job's pid 1 reaped.
  bool ownsCgroup() const { return !path_.empty(); }
  // Puts `pid` (not yet running job code) into the cgroup unless the clone
  // already did. 0 or errno.
  int enter(pid_t pid, bool clonedInto) const;

 private:
  UniqueFd fd_;           // the cgroup directory
  std::string path_;      // made here: removed at the end
  bool ownV2_ = false;
  bool shared_ = false;   // pids.max written into the memory cgroup
  std::optional<std::string> error_;
};

}  // namespace jobtape::sandbox
