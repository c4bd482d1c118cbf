// Thin wrappers over the system calls the sandbox needs that glibc 2.36 does
// not wrap (or wraps only recently). All are async-signal-safe: each is one
// syscall(2), no allocation, errno set on failure like libc.
#pragma once

#include <linux/openat2.h>
#include <linux/sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace jobtape::sandbox::sys {

inline long clone3(struct clone_args* args) { return ::syscall(SYS_clone3, args, sizeof *args); }

// Classic clone(2) used like fork(2): the child continues on a copy of the
// caller's stack. Only for kernels or host seccomp profiles without clone3.
inline long cloneLikeFork(unsigned long flags) { return ::syscall(SYS_clone, flags, nullptr, nullptr, nullptr, 0); }

inline int pidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0u)); }

inline int openat2(int dirfd, const char* path, uint64_t flags, uint64_t mode, uint64_t resolve) {
  struct open_how how{};
  how.flags = flags;
  how.mode = mode;
  how.resolve = resolve;
  return static_cast<int>(::syscall(SYS_openat2, dirfd, path, &how, sizeof how));
}

inline int pivotRoot(const char* newRoot, const char* putOld) {
  return static_cast<int>(::syscall(SYS_pivot_root, newRoot, putOld));
}

inline int closeRange(unsigned first, unsigned last) {
  return static_cast<int>(::syscall(SYS_close_range, first, last, 0u));
}

}  // namespace jobtape::sandbox::sys
