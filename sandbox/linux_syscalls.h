// Thin wrappers over the system calls the sandbox needs that glibc 2.36 does
// not wrap (or wraps only recently). All are async-signal-safe: each is one
// syscall(2), no allocation, errno set on failure like libc.
#pragma once

#include <linux/openat2.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace jobtape::sandbox::sys {

inline long clone3(struct clone_args* args) { return ::syscall(SYS_clone3, args, sizeof *args); }

// Classic clone(2) used like fork(2): the child continues on a copy of the
// caller's stack. Only for kernels or host seccomp profiles without clone3.
inline long cloneLikeFork(unsigned long flags) { return ::syscall(SYS_clone, flags, nullptr, nullptr, nullptr, 0); }

inline int pidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0u)); }

inline int pidfdSendSignal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0u));
}

// PIDFD_GET_INFO (Linux 6.15), declared here because the distribution's
// kernel headers predate it. Layout of PIDFD_INFO_SIZE_VER0 (64 bytes).
struct PidfdInfo {
  uint64_t mask;
  uint64_t cgroupid;
  uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
  int32_t exitCode;  // a wait status
};
static_assert(sizeof(PidfdInfo) == 64);
inline constexpr unsigned long kPidfdGetInfo = _IOWR(0xFF, 11, PidfdInfo);
inline constexpr uint64_t kPidfdInfoExit = 1u << 3;

// The wait status of the process behind `pidfd` once it has been reaped (by
// whichever parent), kept by the kernel from Linux 6.15 on. False while it
// is not reaped yet, or when the kernel does not keep it (errno ENOTTY or
// EINVAL then).
inline bool pidfdExitStatus(int pidfd, int* status) {
  PidfdInfo info{};
  info.mask = kPidfdInfoExit;
  if (::ioctl(pidfd, kPidfdGetInfo, &info) != 0) return false;
  if (!(info.mask & kPidfdInfoExit)) {
    errno = 0;
    return false;
  }
  *status = info.exitCode;
  return true;
}

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
