#include "sandbox/deferred_reap.h"

#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <vector>

namespace jobtape::sandbox {

namespace {

std::mutex& listMutex() {
  static std::mutex mutex;
  return mutex;
}

std::vector<pid_t>& pending() {
  static std::vector<pid_t> pids;
  return pids;
}

// True once `pid` is reaped, or is no longer ours to reap (ECHILD: the
// embedding program waited for any child and took it).
bool reap(pid_t pid, int options) noexcept {
  for (;;) {
    pid_t got = ::waitpid(pid, nullptr, options);
    if (got == pid) return true;
    if (got == 0) return false;
    if (errno != EINTR) return true;
  }
}

}  // namespace

void reapLater(pid_t pid) {
  std::lock_guard lock(listMutex());
  pending().push_back(pid);
}

void reapExitedSandboxes() noexcept {
  std::lock_guard lock(listMutex());
  std::erase_if(pending(), [](pid_t pid) { return reap(pid, WNOHANG); });
}

void reapAllSandboxes() noexcept {
  std::vector<pid_t> pids;
  {
    std::lock_guard lock(listMutex());
    pids.swap(pending());
  }
  for (pid_t pid : pids) reap(pid, 0);
}

}  // namespace jobtape::sandbox
