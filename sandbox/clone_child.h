// Creating the job's first process: fork(2) semantics with namespaces.
//
// clone3 with CLONE_PIDFD (the supervisor polls the pidfd and cannot confuse
// a reused pid), CLONE_CLEAR_SIGHAND (no handler of the embedding program
// survives into the child), CLONE_INTO_CGROUP when there is a memory cgroup.
// Where clone3 is refused (old kernels, container seccomp profiles answer
// ENOSYS) plain clone(2) and pidfd_open(2) do the same in two steps.
//
// Every signal is blocked in the calling thread across the call, so the child
// starts with all signals blocked: nothing reaches it before it has reset its
// dispositions, and the sandbox's pid 1 relies on a blocked set to receive
// signals with sigwaitinfo. The parent's mask is restored before returning.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "sandbox/fd_util.h"

namespace jobtape::sandbox {

struct ClonedChild {
  pid_t pid = -1;  // 0 in the child; -1 on failure (errno set)
  UniqueFd pidfd;
  bool inCgroup = false;  // CLONE_INTO_CGROUP took effect
};

ClonedChild cloneChild(uint64_t namespaceFlags, int cgroupFd);

}  // namespace jobtape::sandbox
