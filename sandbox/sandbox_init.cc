#include "sandbox/sandbox_init.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "sandbox/capabilities.h"
#include "sandbox/child_report.h"
#include "sandbox/child_stages.h"
#include "sandbox/clone_child.h"
#include "sandbox/net_ns.h"
#include "sandbox/pid_init.h"
#include "sandbox/run_outcome.h"

namespace jobtape::sandbox {

namespace {

[[noreturn]] void failSetup(const ChildPlan& p, StageError e) {
  sendSetupError(p.channel, e.step, e.error, e.index);
  ::_exit(kExitSetupFailed);
}

void check(const ChildPlan& p, StageError e) {
  if (e) failSetup(p, e);
}

[[noreturn]] void execFailed(const ChildPlan& p, int error, bool fileFound) {
  ChildMessage m;
  m.kind = ChildMessage::execFailed;
  m.error = error;
  m.flags = fileFound ? kExecFileFound : 0;
  sendChildMessage(p.channel, m);
  ::_exit(error == ENOENT || error == ENOTDIR ? kExitNotFound : kExitNotExecutable);
}

void loadSeccomp(const ChildPlan& p) {
  int listener = -1;
  if (int e = p.seccomp->load(&listener)) failSetup(p, {SetupStep::seccomp, e, -1});
  if (listener < 0) return;
  ChildMessage m;
  m.kind = ChildMessage::execListener;
  int e = sendChildFd(p.channel, m, listener);
  ::close(listener);
  if (e != 0) failSetup(p, {SetupStep::execListener, e, -1});
}

// The program and working directory of the exec the tracer is about to
// see, as this process sees them.
void announceExec(const ChildPlan& p, int candidate) {
  char cwd[kChildTextBytes];
  long length = ::syscall(SYS_getcwd, cwd, sizeof cwd);
  // getcwd's length counts the NUL; a directory out of reach has none.
  size_t bytes = length > 0 ? static_cast<size_t>(length) - 1 : 0;
  if (!announceMainExec(p.channel, candidate, cwd, bytes)) failSetup(p, {SetupStep::announceMain, errno, -1});
}

// Sandboxed, it starts under pid 1's filters and without privileges (see
// confineInit): all that is left is its own process state.
[[noreturn]] void mainProcess(const ChildPlan& p) {
  if (!announceMainProcess(p.channel)) failSetup(p, {SetupStep::announceMain, errno, -1});
  check(p, dieWithParent(1));
  // Sandboxed, the session pid 1 made is the job's (no controlling
  // terminal); a second one would only cost a scheduler autogroup. A pty
  // needs a session leader to become its controlling terminal.
  if (!p.sandboxed || p.controllingTerminal >= 0) check(p, newSession(p.controllingTerminal));
  if (p.sandboxed) ::umask(022);
  check(p, p.rlimits->apply());
  if (p.exec->workDir() != nullptr && ::chdir(p.exec->workDir()) < 0) failSetup(p, {SetupStep::workDir, errno, -1});
  ExecPlan::Resolved program = p.exec->resolve();
  if (program.path == nullptr) execFailed(p, program.error, program.error == EACCES);
  check(p, unblockAllSignals());
  // This memory is pid 1's (spawnMainProcess), not dumpable, which an
  // unprivileged tracer may not read: the exec it is about to trace is told
  // over the channel instead (child_report.h, mainExec).
  if (p.sandboxed && p.traceExecs) announceExec(p, program.index);
  int error = p.exec->exec(program.path);
  struct stat st;
  execFailed(p, error, ::stat(program.path, &st) == 0);
}

#ifndef JOBTAPE_FORK_INSTEAD_OF_BORROWING
int mainProcessEntry(void* plan) { mainProcess(*static_cast<const ChildPlan*>(plan)); }
#endif

// The main process borrows pid 1's memory until its execve (CLONE_VM |
// CLONE_VFORK, as posix_spawn does): no page tables to copy and no
// copy-on-write faults for a process that is about to replace its image.
// pid 1 sleeps meanwhile; the child writes only to its own stack and its
// kernel state (credentials, rlimits, cwd, session) is its own, as none of
// CLONE_THREAD, CLONE_FS or CLONE_SIGHAND is shared. Traced, it stays as
// undumpable as pid 1: the tracer learns its first exec from the channel
// (mainExec), so no copy of the memory is needed to be read.
long spawnMainProcess(const ChildPlan& p) {
#ifdef JOBTAPE_FORK_INSTEAD_OF_BORROWING
  pid_t pid = ::fork();
  if (pid == 0) mainProcess(p);
  return pid;
#else
  return spawnBorrowingMemory(mainProcessEntry, const_cast<ChildPlan*>(&p), 0, 256 * 1024, nullptr);
#endif
}

// Every process of the job runs as pid 1's uid and so could open its
// /proc/1/mem, and pid 1 holds the channel the supervisor listens to. Before
// any code of the job runs, pid 1 therefore gives up its privileges, makes
// itself non-dumpable (its memory was mapped by its exec in the sandbox's
// user namespace: /proc/1/mem, fd, environ and every ptrace-like access then
// need CAP_SYS_PTRACE there, which no process of the job has or can get: the
// bounding set is empty, NOROOT locked, no_new_privs set, and a nested user
// namespace gives nothing over its parent) and loads the
// seccomp filters itself, so that the main process and all of the job
// inherit them from it and nothing inside runs without them. The exec
// listener goes up before the main process exists and never reaches it.
void confineInit(const ChildPlan& p) {
  check(p, dropAllPrivileges());
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) failSetup(p, {SetupStep::dumpable, errno, -1});
  loadSeccomp(p);
}

[[noreturn]] void sandboxInit(ChildPlan p) {
  check(p, resetSignalDispositions());
  check(p, dieWithParent(0));
  check(p, newSession(-1));
  check(p, arrangeStdio(p.stdio, &p.channel));
  ::umask(0);
  if (!waitForGo(p.channel)) ::_exit(kExitSetupFailed);
  if (::unshare(static_cast<int>(p.unshareFlags)) < 0) failSetup(p, {SetupStep::namespaces, errno, -1});
  check(p, setHostname(p.hostname));
  if (!p.network) {
    if (int e = bringUpLoopback()) failSetup(p, {SetupStep::loopback, e, -1});
  }
  raiseOpenFileLimit();
  check(p, p.mounts->apply());
  if (p.sandboxTerminals) check(p, openSandboxTerminals(p.terminalPlan, p.channel));
  confineInit(p);
  if (!waitForStart(p.channel)) ::_exit(kExitSetupFailed);
  long mainPid = spawnMainProcess(p);
  if (mainPid < 0) failSetup(p, {SetupStep::forkMain, errno, -1});
  runPidInit(static_cast<pid_t>(mainPid), p.channel);
}

// Record only: pid 1 of a pid namespace of its own. Not dumpable, because
// the job runs as the same user and could otherwise ptrace it and clear its
// death signal; a job cannot leave the namespace. The host's /proc would
// name other processes by the job's pids (a nested jobtape writing its
// child's /proc/PID/uid_map would reach a host process), so the job gets a
// mount namespace whose only change is a /proc of its pid namespace; host
// mounts still propagate into it.
[[noreturn]] void recordOnlyInit(ChildPlan p) {
  check(p, resetSignalDispositions());
  check(p, dieWithParent(0));
  check(p, newSession(-1));
  check(p, arrangeStdio(p.stdio, &p.channel));
  if (!waitForGo(p.channel)) ::_exit(kExitSetupFailed);
  if (::unshare(CLONE_NEWNS) < 0) failSetup(p, {SetupStep::namespaces, errno, -1});
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) < 0) {
    failSetup(p, {SetupStep::mountPropagation, errno, -1});
  }
  if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) < 0) {
    failSetup(p, {SetupStep::procfs, errno, -1});
  }
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) failSetup(p, {SetupStep::dumpable, errno, -1});
  if (!waitForStart(p.channel)) ::_exit(kExitSetupFailed);
  long mainPid = spawnMainProcess(p);
  if (mainPid < 0) failSetup(p, {SetupStep::forkMain, errno, -1});
  runPidInit(static_cast<pid_t>(mainPid), p.channel);
}

}  // namespace

void runInit(const ChildPlan& plan) { plan.sandboxed ? sandboxInit(plan) : recordOnlyInit(plan); }

void initFailed(int channel, SetupStep step, int error) {
  sendSetupError(channel, step, error, -1);
  ::_exit(kExitSetupFailed);
}

}  // namespace jobtape::sandbox
