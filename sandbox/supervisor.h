// The supervisor: the run() thread's side of a running job.
//
// One poll(2) loop over everything the job can produce or the caller can ask:
// the output pipes (chunks timestamped on CLOCK_MONOTONIC since the start and
// handed to the observer as they come), the child's report channel, the
// seccomp exec listener, the caller's CancelToken, the terminal relay, the
// pidfds of the outermost child and of the main process, and the wall-clock
// deadline.
//
// Nothing the job can reach decides when it ended. Each record of the channel
// is taken only from the pid the kernel stamped on it (child_report.h). The
// main process's end is its own pidfd becoming readable (it announced itself,
// and waited until that pidfd was open); its status is the kernel's
// (PIDFD_INFO_EXIT) where the kernel keeps it, else pid 1's mainExited,
// which is taken only from pid 1 and only once that pidfd said so.
//
// Stopping the tree (timeout or cancel), while the main process runs: the
// signal goes to the sandbox's pid 1 through its pidfd, and pid 1 forwards it
// to every process of the namespace and follows with SIGCONT (a stopped
// process acts on a pending SIGTERM only once continued); after the grace
// period pid 1 gets SIGKILL, and with it the whole namespace. Once the main
// process has ended, pid 1 has the grace period to report the tree; on that
// report, or when the period is over, it gets SIGKILL all the same.
// Unsandboxed runs get the same signals on their process group.
//
// The loop ends when the tree is over and the pipes and the channel are at
// their end. The tree is over when the outermost child has been reaped
// (wait4, whose rusage covers every process: pid 1 reaped them all) or,
// sandboxed, as soon as pid 1 has reported with the tree's usage and closed
// the channel: pid 1's own exit, which tears down its namespaces, is then
// left to the caller to reap (`reaped` is false). Unsandboxed, a process that
// left the group could hold a pipe open forever: after the child is reaped
// the group is killed and the pipes are drained for at most the grace period.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>

#include "sandbox/clock.h"
#include "sandbox/child_report.h"
#include "sandbox/fd_util.h"
#include "sandbox/runner.h"

namespace jobtape::sandbox {

class TerminalRelay;
class CallerTerminal;
class InputRelay;
class ExecPlan;

struct SupervisedChild {
  pid_t pid = -1;
  UniqueFd pidfd;
  UniqueFd channel;       // the report socketpair's supervisor end
  UniqueFd stdoutRead;    // capture
  UniqueFd stderrRead;    // capture
  UniqueFd ptyMaster;     // terminal
  bool sandboxed = true;  // signal pid 1 (it forwards) rather than the process group
};

struct SupervisorConfig {
  uint64_t startNs = 0;  // CLOCK_MONOTONIC
  uint64_t timeoutMs = 0;
  uint64_t graceMs = 2000;
  const CancelToken* cancellation = nullptr;
  TerminalRelay* terminal = nullptr;
  // jobTerminal: window sizes from the caller's terminal to the masters,
  // which pid 1 sends up the channel (job_terminal.h) into stdoutRead and
  // stderrRead.
  CallerTerminal* callerTerminal = nullptr;
  InputRelay* input = nullptr;  // the caller's stdin to the job
  // What the main process execs: names the exec a mainExec record announces.
  const ExecPlan* exec = nullptr;
  // Called once, on the supervisor's thread, when the main process has
  // announced itself: pid 1 has built the whole mount tree by then. Must not
  // throw, and should not block (the job's traced execs wait for this thread).
  std::function<void()> mainStarted;
};

struct SupervisionReport {
  std::optional<ChildMessage> setupError;
  std::optional<ChildMessage> execFailed;
  std::optional<ChildMessage> mainExited;
  bool timedOut = false;
  int cancelSignal = 0;  // 0: not cancelled
  int waitStatus = 0;    // of the outermost child
  bool statusLost = false;  // it was reaped by someone else
  bool reaped = false;      // false: the outermost child is still the caller's to reap
  struct rusage usage{};
  uint64_t endNs = 0;
};


// Runs the loop to the end. Throws std::system_error only if poll itself fails.
SupervisionReport supervise(SupervisedChild& child, const SupervisorConfig& config, RunObserver& observer);

}  // namespace jobtape::sandbox
