// Sandboxes whose job is over but whose pid 1 is still exiting.
//
// pid 1 reports the end of the job (and the whole tree's rusage) once it has
// reaped every process of the sandbox, and the supervisor kills it; its exit
// then tears down the mount and network namespaces, which takes a fraction of
// a millisecond the caller need not wait for. run() hands such a pid 1 to this list instead of
// waiting for it: every run() collects those already gone, and a Recorder
// waits for the rest when it closes, so no zombie outlives it. Only pids put
// here are ever waited for: other children of the embedding program are left
// alone.
#pragma once

#include <sys/types.h>

#include "sandbox/fd_util.h"

namespace jobtape::sandbox {

// `pid` is a child of this process that has ended or is about to; `pidfd`
// (if valid) names exactly that process, so that a pid another part of the
// program reaped and the kernel reused is never waited for by mistake.
void reapLater(pid_t pid, UniqueFd pidfd);
// Reaps those of them that have exited; does not block.
void reapExitedSandboxes() noexcept;
// Waits for all of them.
void reapAllSandboxes() noexcept;

}  // namespace jobtape::sandbox
