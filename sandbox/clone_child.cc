#include "sandbox/clone_child.h"

#include <linux/sched.h>
#include <pthread.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "sandbox/capabilities.h"
#include "sandbox/child_report.h"
#include "sandbox/linux_syscalls.h"
#include "sandbox/run_outcome.h"

namespace jobtape::sandbox {

ClonedChild cloneChild(uint64_t namespaceFlags, int cgroupFd) {
  sigset_t all, previous;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &previous);

  ClonedChild child;
  int pidfd = -1;
  struct clone_args args{};
  args.flags = namespaceFlags | CLONE_PIDFD | CLONE_CLEAR_SIGHAND | (cgroupFd >= 0 ? CLONE_INTO_CGROUP : 0);
  args.pidfd = reinterpret_cast<uintptr_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  args.cgroup = cgroupFd >= 0 ? static_cast<uint64_t>(cgroupFd) : 0;
  long pid = sys::clone3(&args);
  if (pid == 0) {  // child: signals stay blocked
    child.pid = 0;
    return child;
  }
  bool viaClone3 = !(pid < 0 && errno == ENOSYS);
  if (!viaClone3) {
    pid = sys::cloneLikeFork(namespaceFlags | SIGCHLD);
    if (pid == 0) {
      child.pid = 0;
      return child;
    }
    if (pid > 0) pidfd = sys::pidfdOpen(static_cast<pid_t>(pid));
  }
  int saved = errno;
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  child.pid = pid > 0 ? static_cast<pid_t>(pid) : -1;
  child.pidfd.reset(pidfd);
  child.inCgroup = pid > 0 && viaClone3 && cgroupFd >= 0;
  errno = saved;
  return child;
}

namespace {

// The child's side: system calls only (this memory is the caller's).
[[noreturn]] void execInit(const InitExec& init) {
  int error = keepCapabilitiesAcrossExec();
  for (size_t i = 0; error == 0 && i < init.keepCount; ++i) {
    if (init.keep[i] >= 0 && ::fcntl(init.keep[i], F_SETFD, 0) < 0) error = errno;
  }
  if (error == 0) {
    char* const environment[] = {nullptr};
    ::syscall(SYS_execveat, init.image, "", init.argv, environment, AT_EMPTY_PATH);
    error = errno;
    // Opened again by path, the image must outlive this exec (the init's
    // arrangeStdio closes it).
    if (error == ENOENT && init.imagePath != nullptr && ::fcntl(init.image, F_SETFD, 0) == 0) {
      ::execve(init.imagePath, init.argv, environment);
      error = errno;
    }
  }
  sendSetupError(init.channel, SetupStep::initExec, error, -1);
  ::_exit(kExitSetupFailed);
}

#ifndef JOBTAPE_FORK_INSTEAD_OF_BORROWING
int initEntry(void* init) { execInit(*static_cast<const InitExec*>(init)); }
#endif

}  // namespace

#ifndef JOBTAPE_FORK_INSTEAD_OF_BORROWING
long spawnBorrowingMemory(int (*entry)(void*), void* arg, int flags, size_t stackBytes, int* pidfd) {
  void* stack = ::mmap(nullptr, stackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return -1;
  sigset_t all, previous;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &previous);
  long pid = ::clone(entry, static_cast<char*>(stack) + stackBytes, flags | CLONE_VM | CLONE_VFORK | SIGCHLD, arg,
                     pidfd);
  int saved = errno;
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  ::munmap(stack, stackBytes);  // the child has exec'd or exited
  errno = saved;
  return pid;
}
#endif

ClonedChild cloneInit(uint64_t namespaceFlags, int cgroupFd, const InitExec& init) {
#ifdef JOBTAPE_FORK_INSTEAD_OF_BORROWING
  ClonedChild child = cloneChild(namespaceFlags, cgroupFd);
  if (child.pid == 0) execInit(init);
  return child;
#else
  (void)cgroupFd;  // clone(2) has no CLONE_INTO_CGROUP: the supervisor moves the child before "go"
  // The child runs capget, capset, prctl, fcntl and execveat on its stack.
  int pidfd = -1;
  long pid = spawnBorrowingMemory(initEntry, const_cast<InitExec*>(&init),
                                  static_cast<int>(namespaceFlags) | CLONE_PIDFD, 64 * 1024, &pidfd);
  ClonedChild child;
  child.pid = pid > 0 ? static_cast<pid_t>(pid) : -1;
  child.pidfd.reset(pid > 0 ? pidfd : -1);
  return child;
#endif
}

}  // namespace jobtape::sandbox
