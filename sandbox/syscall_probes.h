// Harmless attempts at the system calls the seccomp policy cares about, for
// the policy's tests and the try_syscall program (after bubblewrap's
// tests/try-syscall.c). Each probe passes a bad fd or pointer where it can,
// so that, unfiltered, the call fails cleanly (EBADF, EFAULT) or succeeds
// without side effects on anything but the probing process itself; filtered,
// it fails with the policy's errno. A probe returns 0 on success, else errno.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string_view>

namespace jobtape::sandbox::probes {

// Makes the kernel fail with EFAULT wherever it copies from it.
inline char* const kBadPointer = reinterpret_cast<char*>(1);

inline int result(long rc) { return rc < 0 ? errno : 0; }

// A call that hands back an fd or a pid on success: close or reap it.
inline int closing(long fd) {
  if (fd < 0) return errno;
  ::close(static_cast<int>(fd));
  return 0;
}

// clone() that creates `flags` namespaces; the child exits at once.
inline int cloneWith(unsigned long flags) {
  long pid = ::syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) ::_exit(0);
  if (pid < 0) return errno;
  int status = 0;
  ::waitpid(static_cast<pid_t>(pid), &status, 0);
  return 0;
}

// unshare() in a throwaway child, so the prober keeps its namespaces.
inline int unshareInChild(int flags) {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(::unshare(flags) == 0 ? 0 : errno);
  if (pid < 0) return errno;
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : EINTR;
}

// glibc creates threads and spawns with clone3 and falls back to clone on
// ENOSYS: both must keep working under the policy.
inline int threadCreate() {
  pthread_t thread;
  int rc = ::pthread_create(&thread, nullptr, [](void*) -> void* { return nullptr; }, nullptr);
  if (rc != 0) return rc;
  ::pthread_join(thread, nullptr);
  return 0;
}

inline int spawnTrue() {
  pid_t pid = 0;
  char* const argv[] = {const_cast<char*>("true"), nullptr};
  char* const envp[] = {nullptr};
  int rc = ::posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, envp);
  if (rc != 0) return rc;
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : ECHILD;
}

inline int socketOf(long domain) { return closing(::syscall(SYS_socket, domain, SOCK_STREAM, 0)); }

inline int socketpairOf(long domain) {
  int fds[2] = {-1, -1};
  if (::syscall(SYS_socketpair, domain, SOCK_STREAM, 0, fds) < 0) return errno;
  ::close(fds[0]);
  ::close(fds[1]);
  return 0;
}

inline int ioctlRequest(unsigned long request) {
  return result(::syscall(SYS_ioctl, -1, request, kBadPointer));
}

inline int seccompListener(unsigned long op) {
  return closing(::syscall(SYS_seccomp, op, SECCOMP_FILTER_FLAG_NEW_LISTENER, kBadPointer));
}

inline int processVm(long nr) {
  // Zero iovecs on ourselves: a no-op that succeeds when allowed.
  return result(::syscall(nr, ::getpid(), nullptr, 0, nullptr, 0, 0));
}

// An i386 system call (getpid) through the 32-bit entry point. Under the
// policy the process is killed with SIGSYS and this never returns.
inline int int80() {
#if defined(__x86_64__)
  long ret = 20;  // __NR_getpid on i386
  asm volatile("int $0x80" : "+a"(ret) : : "memory");
  return ret < 0 ? static_cast<int>(-ret) : 0;
#else
  return ENOSYS;
#endif
}

// An x32 system call (getpid with the x32 bit). Killed under the policy.
inline int x32() {
#if defined(__x86_64__)
  return result(::syscall(0x40000000L | SYS_getpid));
#else
  return ENOSYS;
#endif
}

struct Probe {
  const char* name;
  int (*run)();
  // The policy's answer (0: allowed). Network-dependent probes give the
  // answer without network; kills (int80, x32) say -SIGSYS.
  int filtered;
};

constexpr unsigned long kHighBits = 1UL << 32;

inline const Probe kProbes[] = {
    {"chmod", [] { return result(::chmod(kBadPointer, 0700)); }, EFAULT},
    {"ptrace", [] { return result(::ptrace(PTRACE_PEEKDATA, -1, nullptr, nullptr)); }, EPERM},
    {"process_vm_readv", [] { return processVm(SYS_process_vm_readv); }, EPERM},
    {"process_vm_writev", [] { return processVm(SYS_process_vm_writev); }, EPERM},
    {"pidfd_getfd", [] { return closing(::syscall(SYS_pidfd_getfd, -1, 0, 0)); }, EPERM},
    {"bpf", [] { return closing(::syscall(SYS_bpf, 0, kBadPointer, 8)); }, EPERM},
    {"perf_event_open",
     [] { return closing(::syscall(SYS_perf_event_open, kBadPointer, 0, -1, -1, 0)); }, EPERM},
    // UFFD_USER_MODE_ONLY (1): allowed unprivileged, so the baseline succeeds.
    {"userfaultfd", [] { return closing(::syscall(SYS_userfaultfd, O_CLOEXEC | 1)); }, EPERM},
    {"keyctl", [] { return result(::syscall(SYS_keyctl, -1, 0, 0, 0, 0)); }, EPERM},
    {"add_key", [] { return result(::syscall(SYS_add_key, kBadPointer, kBadPointer, nullptr, 0, 0)); }, EPERM},
    {"request_key", [] { return result(::syscall(SYS_request_key, kBadPointer, kBadPointer, nullptr, 0)); }, EPERM},
    {"kexec_load", [] { return result(::syscall(SYS_kexec_load, 0, 0, nullptr, ~0UL)); }, EPERM},
    {"kexec_file_load", [] { return result(::syscall(SYS_kexec_file_load, -1, -1, 0, kBadPointer, ~0UL)); }, EPERM},
    {"init_module", [] { return result(::syscall(SYS_init_module, kBadPointer, 0, kBadPointer)); }, EPERM},
    {"finit_module", [] { return result(::syscall(SYS_finit_module, -1, kBadPointer, 0)); }, EPERM},
    {"delete_module", [] { return result(::syscall(SYS_delete_module, kBadPointer, 0)); }, EPERM},
    {"mount", [] { return result(::syscall(SYS_mount, kBadPointer, kBadPointer, kBadPointer, 0, nullptr)); }, EPERM},
    {"umount2", [] { return result(::syscall(SYS_umount2, kBadPointer, 0)); }, EPERM},
    {"pivot_root", [] { return result(::syscall(SYS_pivot_root, kBadPointer, kBadPointer)); }, EPERM},
    {"chroot", [] { return result(::syscall(SYS_chroot, kBadPointer)); }, EPERM},
    {"fsopen", [] { return closing(::syscall(SYS_fsopen, kBadPointer, 0)); }, EPERM},
    {"fsconfig", [] { return result(::syscall(SYS_fsconfig, -1, 0, nullptr, nullptr, 0)); }, EPERM},
    {"fsmount", [] { return closing(::syscall(SYS_fsmount, -1, 0, 0)); }, EPERM},
    {"fspick", [] { return closing(::syscall(SYS_fspick, -1, kBadPointer, 0)); }, EPERM},
    {"move_mount", [] { return result(::syscall(SYS_move_mount, -1, kBadPointer, -1, kBadPointer, 0)); }, EPERM},
    {"open_tree", [] { return closing(::syscall(SYS_open_tree, -1, kBadPointer, 0)); }, EPERM},
    {"open_tree_attr", [] { return closing(::syscall(467, -1, kBadPointer, 0, nullptr, 0)); }, EPERM},
    {"mount_setattr", [] { return result(::syscall(SYS_mount_setattr, -1, kBadPointer, 0, nullptr, 0)); }, EPERM},
    {"unshare", [] { return unshareInChild(CLONE_NEWUSER); }, EPERM},
    {"setns", [] { return result(::setns(-1, 0)); }, EPERM},
    {"clone", [] { return cloneWith(0); }, 0},
    {"pthread_create", threadCreate, 0},
    {"posix_spawn", spawnTrue, 0},
    {"clone-newuser", [] { return cloneWith(CLONE_NEWUSER); }, EPERM},
    {"clone-newns", [] { return cloneWith(CLONE_NEWNS); }, EPERM},
    {"clone-newpid", [] { return cloneWith(CLONE_NEWPID); }, EPERM},
    {"clone-newnet", [] { return cloneWith(CLONE_NEWNET); }, EPERM},
    {"clone-newuts", [] { return cloneWith(CLONE_NEWUTS); }, EPERM},
    {"clone-newipc", [] { return cloneWith(CLONE_NEWIPC); }, EPERM},
    {"clone-newcgroup", [] { return cloneWith(CLONE_NEWCGROUP); }, EPERM},
    {"clone3", [] { return result(::syscall(SYS_clone3, kBadPointer, 88)); }, ENOSYS},
    {"io_uring_setup", [] { return closing(::syscall(SYS_io_uring_setup, 1, kBadPointer)); }, EPERM},
    {"io_uring_enter", [] { return result(::syscall(SYS_io_uring_enter, -1, 0, 0, 0, nullptr, 0)); }, EPERM},
    {"io_uring_register", [] { return result(::syscall(SYS_io_uring_register, -1, 0, nullptr, 0)); }, EPERM},
    {"swapon", [] { return result(::syscall(SYS_swapon, kBadPointer, 0)); }, EPERM},
    {"swapoff", [] { return result(::syscall(SYS_swapoff, kBadPointer)); }, EPERM},
    // A wrong magic: refused after the capability check, before anything.
    {"reboot", [] { return result(::syscall(SYS_reboot, 0, 0, 0, nullptr)); }, EPERM},
    {"clock_settime", [] { return result(::syscall(SYS_clock_settime, CLOCK_REALTIME, kBadPointer)); }, EPERM},
    {"clock_adjtime", [] { return result(::syscall(SYS_clock_adjtime, CLOCK_REALTIME, kBadPointer)); }, EPERM},
    {"settimeofday", [] { return result(::syscall(SYS_settimeofday, kBadPointer, nullptr)); }, EPERM},
    {"adjtimex", [] { return result(::syscall(SYS_adjtimex, kBadPointer)); }, EPERM},
    {"acct", [] { return result(::syscall(SYS_acct, kBadPointer)); }, EPERM},
    {"quotactl", [] { return result(::syscall(SYS_quotactl, 0, kBadPointer, 0, nullptr)); }, EPERM},
    {"quotactl_fd", [] { return result(::syscall(SYS_quotactl_fd, -1, 0, 0, nullptr)); }, EPERM},
    {"ioctl-TIOCSTI", [] { return ioctlRequest(TIOCSTI); }, EPERM},
    {"ioctl-TIOCSTI-highbits", [] { return ioctlRequest(kHighBits | TIOCSTI); }, EPERM},
    {"ioctl-TIOCLINUX", [] { return ioctlRequest(TIOCLINUX); }, EPERM},
    {"ioctl-TIOCLINUX-highbits", [] { return ioctlRequest(kHighBits | TIOCLINUX); }, EPERM},
    {"ioctl-TIOCNOTTY", [] { return ioctlRequest(TIOCNOTTY); }, EBADF},
    {"seccomp-listener", [] { return seccompListener(SECCOMP_SET_MODE_FILTER); }, EPERM},
    {"seccomp-listener-highbits", [] { return seccompListener(kHighBits | SECCOMP_SET_MODE_FILTER); }, EPERM},
    {"seccomp-filter", [] { return result(::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, kBadPointer)); }, EFAULT},
    {"socket-unix", [] { return socketOf(AF_UNIX); }, 0},
    {"socket-inet", [] { return socketOf(AF_INET); }, EAFNOSUPPORT},
    {"socket-inet6", [] { return socketOf(AF_INET6); }, EAFNOSUPPORT},
    {"socket-netlink", [] { return closing(::socket(AF_NETLINK, SOCK_RAW, 0)); }, EAFNOSUPPORT},
    {"socket-unspec", [] { return socketOf(AF_UNSPEC); }, EAFNOSUPPORT},
    {"socket-unix-highbits", [] { return socketOf(static_cast<long>(kHighBits | AF_UNIX)); }, EAFNOSUPPORT},
    {"socketpair-unix", [] { return socketpairOf(AF_UNIX); }, 0},
    {"socketpair-inet", [] { return socketpairOf(AF_INET); }, EAFNOSUPPORT},
    {"int80", int80, -SIGSYS},
    {"x32", x32, -SIGSYS},
};

inline const Probe* findProbe(std::string_view name) {
  for (const Probe& probe : kProbes) {
    if (name == probe.name) return &probe;
  }
  return nullptr;
}

inline bool isNetworkProbe(std::string_view name) {
  return name.starts_with("socket");
}

}  // namespace jobtape::sandbox::probes
