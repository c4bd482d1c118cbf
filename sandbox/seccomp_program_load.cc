// Loading a compiled SeccompProgram: system calls only. Apart from the
// compiler (seccomp_policy.cc) so that the sandbox's init program, which
// loads the programs the supervisor compiled, does not link libseccomp.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sandbox/seccomp_policy.h"

namespace jobtape::sandbox {

namespace {

int loadFilter(const std::vector<sock_filter>& program, unsigned flags) noexcept {
  sock_fprog fprog{};
  fprog.len = static_cast<unsigned short>(program.size());
  fprog.filter = const_cast<sock_filter*>(program.data());
  return static_cast<int>(::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog));
}

}  // namespace

bool SeccompProgram::operator==(const SeccompProgram& other) const {
  auto same = [](const std::vector<sock_filter>& a, const std::vector<sock_filter>& b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof a[0]) == 0);
  };
  return same(policy_, other.policy_) && same(notify_, other.notify_);
}

int SeccompProgram::load(int* listenerFd) const noexcept {
  *listenerFd = -1;
  // Unprivileged filters need it, and it must hold before anything can exec.
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
  int listener = -1;
  if (!notify_.empty()) {
    listener = loadFilter(notify_, SECCOMP_FILTER_FLAG_NEW_LISTENER);
    if (listener < 0) return errno;
  }
  if (loadFilter(policy_, 0) != 0) {
    int error = errno;
    if (listener >= 0) ::close(listener);
    return error;
  }
  *listenerFd = listener;
  return 0;
}

int SeccompProgram::loadPolicyOnly() const noexcept {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
  return loadFilter(policy_, 0) == 0 ? 0 : errno;
}

}  // namespace jobtape::sandbox
