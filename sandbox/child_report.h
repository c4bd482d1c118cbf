// The channel between a sandbox's processes and its supervisor.
//
// A SOCK_SEQPACKET socketpair, close-on-exec on both ends. One record is one
// packet, so the init (pid 1) and the main process can both write to the same
// end without interleaving. Only those two ever hold the child's end, and the
// main process only until its execve: no code of the job can reach it. The
// supervisor's end has SO_PASSCRED, so the kernel stamps every record with
// its sender's pid (in the supervisor's pid namespace; a process without
// CAP_SYS_ADMIN over its pid namespace cannot claim another pid) and the
// supervisor takes each kind of record only from the process that sends it.
//
// The supervisor writes one-byte packets: "go" after it has written the id
// maps (sandboxed only), "start" once the caller is ready for the command to
// run (its row and events file exist), the child building the sandbox
// between the two in parallel with the caller; and "ack" in answer to a
// mainStarted without a pidfd. Everything else flows child → supervisor:
//
//   setupError    a stage failed: which step, errno, and for mount steps the
//                 index of the recipe mount (-1 for the sandbox's own mounts)
//   execListener  pid 1: the seccomp user-notification fd (SCM_RIGHTS)
//   terminalMaster pid 1: the master side of a terminal of the sandbox's
//                 devpts (SCM_RIGHTS), `index` 0 for stdout, 1 for stderr
//                 (job_terminal.h)
//   mainStarted   the main process, first thing: its pid is the one the
//                 kernel stamps on the record, and it carries a pidfd the
//                 process made of itself (SCM_RIGHTS), from which the
//                 supervisor learns its end: no pid is looked up later, so
//                 none can have been reused. Only when it cannot make one
//                 (no pidfds before Linux 5.3) does it send none and wait
//                 for "ack", by which time the supervisor has tried to open
//                 one by pid itself.
//   mainExec      the main process, traced, right before its execve: `index`
//                 is the ExecPlan candidate it execs, and its working
//                 directory follows the record as text. Its memory is pid
//                 1's until the exec (CLONE_VM | CLONE_VFORK), which an
//                 unprivileged supervisor may not read, so the tracer takes
//                 this exec from here (exec_tracer.h). The packet is queued
//                 before the exec stops in its notification, so the
//                 supervisor reads it first by draining the channel.
//   execFailed    the main process: execve() of the command failed with
//                 `error`; `flags` says whether the file itself was found (a
//                 missing interpreter or loader then explains ENOENT). This
//                 is bubblewrap's close-on-exec trick: a successful exec
//                 closes the end and sends nothing.
//   mainExited    pid 1 reports how the main process ended (siginfo code and
//                 status) and, for SIGSYS, the syscall number if the kernel
//                 still exposed it in /proc/PID/syscall (-1 otherwise). It
//                 sends this last, once it has killed and reaped what the
//                 main process left behind, with the rusage of the whole
//                 tree. The supervisor takes it only once the main process's
//                 pidfd says it has ended, and prefers the kernel's own exit
//                 status (PIDFD_INFO_EXIT) to the one reported.
//
// The record is a fixed-size POD of the same build on both ends (same binary),
// so it needs no versioning. Child-side functions are async-signal-safe.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "sandbox/fd_util.h"

namespace jobtape::sandbox {

enum class SetupStep : int32_t {
  none = 0,
  // supervisor side
  stateDir,
  memoryCgroup,
  pidsCgroup,
  clone,
  setgroups,
  uidMap,
  gidMap,
  // pid 1 (sandbox init) side
  signalMask,
  stdio,
  closeFds,
  deathSignal,
  waitForParent,
  namespaces,
  hostname,
  loopback,
  mountPropagation,
  bindSource,
  tmpfs,
  procfs,
  devfs,
  mountPoint,
  attachMount,
  readOnly,
  rootTmpfs,
  pivotRoot,
  jobTerminal,
  dumpable,
  forkMain,
  // main process side
  announceMain,
  newSession,
  controllingTerminal,
  rlimits,
  securebits,
  capabilities,
  noNewPrivs,
  workDir,
  seccomp,
  execListener,
  exec,
  // pid 1 again, appended so that the numbers above stay
  homeOverlay,
  // pid 1's exec of the init program (sandbox_init.h)
  initImage,  // supervisor side: the init program's memfd
  initExec,
  initPlan,
};

// Stable short names ("bind source", "pivot_root", ...): RunResult::setupStep.
const char* setupStepName(SetupStep step);

struct ChildMessage {
  enum Kind : int32_t { setupError = 1, execFailed = 2, execListener = 3, mainExited = 4, mainStarted = 5,
               terminalMaster = 6, mainExec = 7 };
  int32_t kind = 0;
  SetupStep step = SetupStep::none;
  int32_t error = 0;
  int32_t index = -1;
  int32_t waitCode = 0;    // CLD_EXITED, CLD_KILLED, CLD_DUMPED
  int32_t waitStatus = 0;  // exit code or signal number
  int64_t syscallNr = -1;
  int32_t flags = 0;
  struct rusage treeUsage{};  // mainExited: every process of the sandbox
};

inline constexpr int32_t kExecFileFound = 1;

// What a child-side stage returns: nothing, or the step that failed.
struct StageError {
  SetupStep step = SetupStep::none;
  int error = 0;
  int index = -1;
  explicit operator bool() const noexcept { return step != SetupStep::none; }
};

// Child side.
void sendChildMessage(int sock, const ChildMessage& message) noexcept;
void sendSetupError(int sock, SetupStep step, int error, int index = -1) noexcept;
// Returns 0 or an errno value.
int sendChildFd(int sock, const ChildMessage& message, int fd) noexcept;
// Block until the supervisor's "go" / "start"; false if it went away first.
bool waitForGo(int sock) noexcept;
bool waitForStart(int sock) noexcept;
// mainStarted with a pidfd of this process; without one (none could be
// made), block until the supervisor's "ack". False if it failed.
bool announceMainProcess(int sock) noexcept;
// mainExec: the candidate `index` and the working directory (a path of at
// most kChildTextBytes); false if it could not be sent.
bool announceMainExec(int sock, int index, const char* cwd, size_t cwdBytes) noexcept;
inline constexpr size_t kChildTextBytes = 4096;

// Supervisor side.
bool sendGo(int sock) noexcept;
bool sendStart(int sock) noexcept;
bool sendMainAck(int sock) noexcept;
// SO_PASSCRED on the supervisor's end; false (errno set) if refused.
bool passSenderCredentials(int sock) noexcept;
struct ReceivedMessage {
  ChildMessage message;
  UniqueFd fd;          // with execListener, terminalMaster, mainStarted
  pid_t senderPid = 0;  // stamped by the kernel; 0 if it did not say
  std::string text;     // with mainExec: the working directory
};
// One record; std::nullopt at end of stream (all child ends closed). Returns
// a message with kind 0 when there was nothing to read (EAGAIN).
std::optional<ReceivedMessage> receiveChildMessage(int sock);

}  // namespace jobtape::sandbox
