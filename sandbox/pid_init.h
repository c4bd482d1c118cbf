// Our pid 1 of the sandbox's pid namespace.
//
// It reaps every process of the namespace (orphans are reparented to it),
// forwards signals the supervisor sends it to the whole namespace (followed by
// SIGCONT, so a stopped process acts on them), and when the main process ends
// it reports how (and, for SIGSYS, the syscall if the kernel still shows it in
// /proc/PID/syscall) and exits. Its exit makes the kernel SIGKILL everything
// left in the namespace: no process of the job outlives the main one.
//
// Signals from inside the namespace are not forwarded (their si_pid is a pid
// of the namespace; the supervisor's is 0 there), so the job cannot use pid 1
// to signal anything it could not signal itself.
#pragma once

#include <sys/types.h>

namespace jobtape::sandbox {

// Child side, async-signal-safe. All signals must be blocked on entry.
[[noreturn]] void runPidInit(pid_t mainPid, int syncFd) noexcept;

}  // namespace jobtape::sandbox
