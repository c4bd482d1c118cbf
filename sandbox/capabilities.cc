#include "sandbox/capabilities.h"

#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace jobtape::sandbox {

StageError dropAllPrivileges() noexcept {
  const unsigned long securebits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                                   SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
                                   SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
  if (::prctl(PR_SET_SECUREBITS, securebits, 0, 0, 0) < 0) return {SetupStep::securebits, errno, -1};
  for (int cap = 0; cap < 64; ++cap) {
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
      if (errno == EINVAL) break;  // past the kernel's last capability
      return {SetupStep::capabilities, errno, cap};
    }
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
    return {SetupStep::capabilities, errno, -1};
  }
  struct __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capset, &header, data) < 0) return {SetupStep::capabilities, errno, -1};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return {SetupStep::noNewPrivs, errno, -1};
  return {};
}

int keepCapabilitiesAcrossExec() noexcept {
  struct __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capget, &header, data) < 0) return errno;
  for (auto& set : data) set.inheritable = set.permitted;
  if (::syscall(SYS_capset, &header, data) < 0) return errno;
  for (int cap = 0; cap < 64; ++cap) {
    const bool permitted = (data[cap / 32].permitted >> (cap % 32)) & 1u;
    if (!permitted) continue;
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) {
      if (errno == EINVAL) break;  // past the kernel's last capability
      return errno;
    }
  }
  return 0;
}

StageError forgetExecCapabilities() noexcept {
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
    return {SetupStep::capabilities, errno, -1};
  }
  struct __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capget, &header, data) < 0) return {SetupStep::capabilities, errno, -1};
  for (auto& set : data) set.inheritable = 0;
  if (::syscall(SYS_capset, &header, data) < 0) return {SetupStep::capabilities, errno, -1};
  return {};
}

}  // namespace jobtape::sandbox
