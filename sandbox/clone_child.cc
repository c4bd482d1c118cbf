#include "sandbox/clone_child.h"

#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <cstdint>

#include "sandbox/linux_syscalls.h"

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

}  // namespace jobtape::sandbox
