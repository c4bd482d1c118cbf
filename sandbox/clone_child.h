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

#include <cstddef>
#include <cstdint>

#include "sandbox/fd_util.h"

namespace jobtape::sandbox {

struct ClonedChild {
  pid_t pid = -1;  // 0 in the child; -1 on failure (errno set)
  UniqueFd pidfd;
  bool inCgroup = false;  // CLONE_INTO_CGROUP took effect
};

ClonedChild cloneChild(uint64_t namespaceFlags, int cgroupFd);

// AddressSanitizer cannot follow a switch to a stack it did not allocate:
// its builds fork where the others borrow the caller's memory.
#if defined(__SANITIZE_ADDRESS__)
#define JOBTAPE_FORK_INSTEAD_OF_BORROWING 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JOBTAPE_FORK_INSTEAD_OF_BORROWING 1
#endif
#endif

#ifndef JOBTAPE_FORK_INSTEAD_OF_BORROWING
// A child that borrows this process's memory until it execs or exits
// (CLONE_VM | CLONE_VFORK, as posix_spawn does): no page tables to copy and
// no copy-on-write faults for a process about to replace its image. The
// calling thread waits meanwhile; `entry(arg)` runs on a stack of
// `stackBytes` of its own, with every signal blocked, and must exec or
// _exit. `flags`: namespaces, CLONE_PIDFD (the pidfd then in *pidfd).
// Returns the pid, or -1 with errno.
long spawnBorrowingMemory(int (*entry)(void*), void* arg, int flags, size_t stackBytes, int* pidfd);
#endif

// How pid 1 becomes the init program (init_image.h), prepared before the
// clone: what it execs, with which argv, keeping which descriptors (their
// close-on-exec flag is cleared in the child only), and where an exec that
// fails is reported.
struct InitExec {
  int image = -1;
  // The same file by path, /proc/self/fd/N, for where an fd cannot be
  // exec'd (valgrind answers ENOENT to execveat's AT_EMPTY_PATH).
  const char* imagePath = nullptr;
  char* const* argv = nullptr;
  const int* keep = nullptr;
  size_t keepCount = 0;
  int channel = -1;
};

// pid 1: a clone into `namespaceFlags` that borrows this process's memory
// until it has exec'd `init` (CLONE_VM | CLONE_VFORK: the calling thread
// waits for that exec, a few hundred us, and no page table is copied). It
// keeps its capabilities across the exec (capabilities.h). Returns in the
// parent only; an exec that fails is a setup error on the channel and the
// child's exit. Sanitizer builds clone like fork (cloneChild) instead, as
// AddressSanitizer cannot follow a stack it did not allocate.
ClonedChild cloneInit(uint64_t namespaceFlags, int cgroupFd, const InitExec& init);

}  // namespace jobtape::sandbox
