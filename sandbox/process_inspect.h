// Reading another process from the outside: its memory (process_vm_readv)
// and what /proc says about it. Used by the exec tracer while the process is
// stopped in a seccomp notification; every reader is bounded and reports
// failure instead of throwing, because the process may die at any moment.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace jobtape::sandbox {

struct RemoteStringList {
  std::vector<std::string> items;
  bool truncated = false;  // stopped at a limit or at unreadable memory
};

// The NUL-terminated string at `address` in process `pid`, at most
// `maxBytes` long; nullopt if its memory cannot be read (or it is longer).
// `error`, when given, then says why: EFAULT (unreadable memory),
// ENAMETOOLONG (no NUL within `maxBytes`), or the errno of the read (ESRCH:
// the process is gone).
std::optional<std::string> readRemoteString(pid_t pid, uint64_t address, size_t maxBytes,
                                            int* error = nullptr);

// A NULL-terminated array of string pointers (argv, envp) at `address`:
// at most `maxItems` entries and `maxBytes` bytes of strings in total.
RemoteStringList readRemoteStringArray(pid_t pid, uint64_t address, size_t maxItems, size_t maxBytes);

// What /proc/PID/status says about ids, in the reader's pid namespace
// (`hostPpid`, `tgid`) and down the target's namespaces (`nsPids`: NSpid,
// outermost first, the target's own namespace last).
struct ProcStatus {
  pid_t tgid = 0;
  pid_t hostPpid = 0;
  std::vector<pid_t> nsPids;
};
std::optional<ProcStatus> readProcStatus(pid_t pid);

// /proc/PID/cwd as the process sees it (its own root), or nullopt.
std::optional<std::string> readCwd(pid_t pid);

// /proc/PID/fd/FD as the process sees it, or nullopt (no such fd).
std::optional<std::string> readFdPath(pid_t pid, int fd);

// The error execve of `path` by process `pid` certainly fails with, or 0
// when it may succeed. Judged only where the answer cannot depend on who
// resolves it: an absolute path without a single symlink on the way,
// resolved inside the process's own root, that is missing (ENOENT), runs
// into a non-directory (ENOTDIR) or ends at something that is not an
// executable regular file (EACCES). A symlink may lead to /proc/self or
// /dev/fd, which name the resolver's own things, so a path through one,
// like every relative path, is "may succeed".
int certainExecError(pid_t pid, const std::string& path);

}  // namespace jobtape::sandbox
