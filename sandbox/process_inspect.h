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
std::optional<std::string> readRemoteString(pid_t pid, uint64_t address, size_t maxBytes);

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

// Whether the program `path` (as given to execve by process `pid`, relative
// to `dirFd` of that process when not absolute; AT_FDCWD for its cwd) can
// possibly be executed: false only when it certainly cannot (missing, not a
// regular file, no execute bit). Resolved inside the process's own root.
bool mayExecute(pid_t pid, int dirFd, const std::string& path);

}  // namespace jobtape::sandbox
