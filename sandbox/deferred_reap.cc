#include "sandbox/deferred_reap.h"

#include <sys/wait.h>

#include <cerrno>
#include <mutex>
#include <vector>

namespace jobtape::sandbox {

namespace {

std::mutex& listMutex() {
  static std::mutex mutex;
  return mutex;
}

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

struct Exiting {
  pid_t pid;
  UniqueFd pidfd;
};

std::vector<Exiting>& pending() {
  static std::vector<Exiting> list;
  return list;
}

// True once the process is reaped, or is no longer ours to reap (ECHILD:
// the embedding program waited for any child and took it).
bool reap(const Exiting& process, int options) noexcept {
  for (;;) {
    siginfo_t info{};
    int rc = process.pidfd ? ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(process.pidfd.get()), &info,
                                      WEXITED | options)
                           : ::waitid(P_PID, static_cast<id_t>(process.pid), &info, WEXITED | options);
    if (rc == 0) return info.si_pid != 0;  // WNOHANG and still running: 0
    if (errno != EINTR) return true;
  }
}

}  // namespace

void reapLater(pid_t pid, UniqueFd pidfd) {
  std::lock_guard lock(listMutex());
  pending().push_back({pid, std::move(pidfd)});
}

void reapExitedSandboxes() noexcept {
  std::lock_guard lock(listMutex());
  std::erase_if(pending(), [](const Exiting& process) { return reap(process, WNOHANG); });
}

void reapAllSandboxes() noexcept {
  std::vector<Exiting> list;
  {
    std::lock_guard lock(listMutex());
    list.swap(pending());
  }
  for (const Exiting& process : list) reap(process, 0);
}

}  // namespace jobtape::sandbox
