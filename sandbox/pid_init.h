// Our pid 1 of the sandbox's pid namespace.
//
// It reaps every process of the namespace (orphans are reparented to it),
// forwards signals the supervisor sends it to the whole namespace (followed by
// SIGCONT, so a stopped process acts on them), and when the main process ends
// it kills and reaps what is left, reports how main ended (and, for SIGSYS,
// the syscall if the kernel still shows it in /proc/PID/syscall) with the
// tree's rusage, and exits. The supervisor kills it after that report in any
// case, and its death makes the kernel SIGKILL everything left in the
// namespace: no process of the job outlives the main one.
//
// By the time it gets here it has no privileges, is not dumpable and runs
// under the job's seccomp filters (runner.cc, confineInit): the job shares
// its uid but cannot read or write its memory or descriptors, so this loop
// stays ours. Even so the supervisor does not take the main process's end
// on its word (supervisor.h).
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
