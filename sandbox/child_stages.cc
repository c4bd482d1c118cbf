#include "sandbox/child_stages.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sandbox/linux_syscalls.h"

namespace jobtape::sandbox {

StageError resetSignalDispositions() noexcept {
  struct sigaction action{};
  action.sa_handler = SIG_DFL;
  ::sigemptyset(&action.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    if (::sigaction(sig, &action, nullptr) < 0 && errno != EINVAL) return {SetupStep::signalMask, errno, sig};
  }
  return {};
}

StageError unblockAllSignals() noexcept {
  sigset_t none;
  ::sigemptyset(&none);
  if (::sigprocmask(SIG_SETMASK, &none, nullptr) < 0) return {SetupStep::signalMask, errno, -1};
  return {};
}

StageError arrangeStdio(const int stdio[3], int* channel) noexcept {
  int source[3] = {stdio[0], stdio[1], stdio[2]};
  // Move every source out of 0..2 first, so that no dup2 overwrites one.
  auto lift = [](int fd) { return fd >= 0 && fd < 3 ? ::fcntl(fd, F_DUPFD_CLOEXEC, 3) : fd; };
  for (int& fd : source) fd = lift(fd);
  *channel = lift(*channel);
  if (*channel < 0) return {SetupStep::stdio, errno, -1};
  for (int i = 0; i < 3; ++i) {
    if (stdio[i] < 0) continue;
    if (source[i] < 0 || ::dup2(source[i], i) < 0) return {SetupStep::stdio, errno, i};
  }
  int keep = *channel;
  if (keep > 3 && sys::closeRange(3, static_cast<unsigned>(keep - 1)) < 0) return {SetupStep::closeFds, errno, -1};
  if (sys::closeRange(static_cast<unsigned>(keep + 1), ~0u) < 0) return {SetupStep::closeFds, errno, -1};
  return {};
}

StageError dieWithParent(pid_t expectedParent) noexcept {
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) return {SetupStep::deathSignal, errno, -1};
  if (expectedParent != 0 && ::getppid() != expectedParent) return {SetupStep::deathSignal, ESRCH, -1};
  return {};
}

StageError newSession(int controllingTerminal) noexcept {
  if (::setsid() < 0) return {SetupStep::newSession, errno, -1};
  if (controllingTerminal >= 0 && ::ioctl(controllingTerminal, TIOCSCTTY, 0) < 0) return {SetupStep::controllingTerminal, errno, -1};
  return {};
}

StageError setHostname(const char* name) noexcept {
  if (::sethostname(name, std::strlen(name)) < 0) return {SetupStep::hostname, errno, -1};
  return {};
}

}  // namespace jobtape::sandbox
