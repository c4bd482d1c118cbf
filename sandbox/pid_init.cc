#include "sandbox/pid_init.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sandbox/child_report.h"
#include "sandbox/linux_syscalls.h"

namespace jobtape::sandbox {

namespace {

// "/proc/PID/syscall" starts with the number of the syscall the task is
// blocked in; for a task already dead the kernel prints -1.
int64_t currentSyscall(pid_t pid) {
  char path[64] = "/proc/";
  char digits[16];
  int n = 0;
  for (pid_t p = pid; p > 0 && n < 15; p /= 10) digits[n++] = static_cast<char>('0' + p % 10);
  size_t len = std::strlen(path);
  while (n > 0) path[len++] = digits[--n];
  path[len] = '\0';
  std::strcat(path, "/syscall");
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[64];
  ssize_t got = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (got <= 0 || buf[0] < '0' || buf[0] > '9') return -1;
  int64_t nr = 0;
  for (ssize_t i = 0; i < got && buf[i] >= '0' && buf[i] <= '9'; ++i) nr = nr * 10 + (buf[i] - '0');
  return nr;
}

[[noreturn]] void reportMainAndExit(const siginfo_t& info, int syncFd) {
  ChildMessage message;
  message.kind = ChildMessage::mainExited;
  message.waitCode = info.si_code;
  message.waitStatus = info.si_status;
  if (info.si_code != CLD_EXITED && info.si_status == SIGSYS) message.syscallNr = currentSyscall(info.si_pid);
  siginfo_t reaped;
  ::waitid(P_PID, static_cast<id_t>(info.si_pid), &reaped, WEXITED);
  // The job ends with its main process. What it left behind is killed and
  // reaped here rather than by the kernel as this process exits, so the
  // report can carry the whole tree's usage and the supervisor is done
  // before this process's own exit tears the namespaces down.
  ::kill(-1, SIGKILL);
  while (::waitid(P_ALL, 0, &reaped, WEXITED) == 0 || errno == EINTR) {
  }
  ::getrusage(RUSAGE_CHILDREN, &message.treeUsage);
  sendChildMessage(syncFd, message);
  // The output pipes and the channel end now, not after the kernel has
  // unmapped this process's copy of the supervisor's memory.
  (void)sys::closeRange(0, ~0u);
  ::_exit(info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status);
}

// Reaps whatever has ended; the main process is looked at before it is reaped.
void reapChildren(pid_t mainPid, int syncFd) {
  for (;;) {
    siginfo_t info;
    std::memset(&info, 0, sizeof info);
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) < 0) {
      if (errno == EINTR) continue;
      if (errno == ECHILD) ::_exit(255);  // cannot happen while main lives
      return;
    }
    if (info.si_pid == 0) return;
    if (info.si_pid == mainPid) reportMainAndExit(info, syncFd);
    siginfo_t reaped;
    ::waitid(P_PID, static_cast<id_t>(info.si_pid), &reaped, WEXITED);
  }
}

}  // namespace

void runPidInit(pid_t mainPid, int syncFd) noexcept {
  sigset_t all;
  ::sigfillset(&all);
  for (;;) {
    siginfo_t info;
    int sig = ::sigwaitinfo(&all, &info);
    if (sig < 0) continue;
    if (sig == SIGCHLD) {
      reapChildren(mainPid, syncFd);
      continue;
    }
    bool fromOutside = info.si_pid == 0 && (info.si_code == SI_USER || info.si_code == SI_QUEUE || info.si_code == SI_TKILL);
    if (!fromOutside) continue;
    ::kill(-1, sig);
    if (sig != SIGCONT) ::kill(-1, SIGCONT);
  }
}

}  // namespace jobtape::sandbox
