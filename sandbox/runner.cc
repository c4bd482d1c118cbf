// sandbox::run — the orchestrator. Each stage lives in its own file; this one
// only says in which order they happen, on which side of the clone.
//
// Supervisor (the thread that called run()):
//   1. plan everything the child will need: state directories, memory limit,
//      rlimits, argv/envp/PATH candidates, mount plan, seccomp BPF, stdio,
//      the channel (its end stamps each record with the sender's pid);
//   2. clone the sandbox's pid 1 into new user and pid namespaces;
//   3. write its id maps, send "go";
//   4. tell the observer, which records the job's start while the child
//      builds the sandbox on another CPU, then send "start";
//   5. supervise until the tree is gone (supervisor.h: the main process's
//      end comes from its pidfd, not from a report); turn what was seen
//      into a RunResult.
//
// Sandbox pid 1, after the clone (async-signal-safe only: the caller may be
// multithreaded, and a lock held by another thread at clone time stays held):
//   reset signal dispositions, die with the parent, new session, stdio and
//   nothing else open, wait for the id maps (an end-of-file instead of "go"
//   means the supervisor died before the death signal was armed), unshare
//   the mount, net (unless the recipe has network), ipc, uts and cgroup
//   namespaces, hostname, loopback, mount tree and pivot_root; then confine
//   itself (confineInit: every privilege dropped, not dumpable, the seccomp
//   filters loaded and the exec listener handed up), wait for "start", spawn
//   the main process and become the reaping, forwarding init.
//
// Why the child unshares most namespaces itself: creating a mount namespace
// (a copy of the host's mount table) and a net namespace is most of the
// kernel's work for a sandbox. Done by clone() it would run on the
// supervisor's thread before the observer could start recording; done by
// the child it overlaps with that recording. The user namespace comes first
// either way, so every namespace is owned by it, as with a single clone.
//
// Main process (pid 2), born under pid 1's filters and without privileges:
//   announce itself to the supervisor and wait for its answer (by then the
//   supervisor holds its pidfd), die with pid 1, in pid 1's new session (its
//   own, with the pty as controlling terminal, in terminal mode), umask 022,
//   rlimits, chdir, find the program, unblock signals, tell a tracer which
//   exec comes (it may not read this memory, pid 1's), execve. An exec
//   failure is reported over the close-on-exec channel (126/127).
//
// Record-only recipes (sandboxed == false) get a pid namespace and its /proc
// and nothing else (plus a user namespace mapping the caller to itself when
// the caller is not root, which the kernel requires for the pid namespace):
// pid 1 is the same small init, non-dumpable and dying with the supervisor,
// so the job's tree ends with its main process and with the recorder like a
// sandboxed one. The job sees the host's file system and network and keeps
// its privileges; no mount tree, no privileges dropped, no seccomp, the
// caller's umask.
//
// Die-with-parent: PR_SET_PDEATHSIG fires when the *thread* that cloned the
// child ends (bubblewrap #692); run() holds that thread until the job is over,
// so it fires exactly when the supervisor's process dies. pid 1 then gets
// SIGKILL and the kernel kills the rest of the namespace with it. No process
// of the job can clear pid 1's death signal (it cannot touch pid 1), so its
// own double forks, setsid and cleared death signals change nothing.
#include "sandbox/runner.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>

#include "sandbox/capabilities.h"
#include "sandbox/child_report.h"
#include "sandbox/child_stages.h"
#include "sandbox/clone_child.h"
#include "sandbox/deferred_reap.h"
#include "sandbox/exec_plan.h"
#include "sandbox/input_relay.h"
#include "sandbox/job_terminal.h"
#include "sandbox/linux_syscalls.h"
#include "sandbox/memory_limit.h"
#include "sandbox/mount_tree.h"
#include "sandbox/net_ns.h"
#include "sandbox/pid_cgroup.h"
#include "sandbox/pid_init.h"
#include "sandbox/pseudo_terminal.h"
#include "sandbox/rlimits.h"
#include "sandbox/run_outcome.h"
#include "sandbox/seccomp_policy.h"
#include "sandbox/state_dir.h"
#include "sandbox/supervisor.h"
#include "sandbox/user_ns.h"

namespace jobtape::sandbox {

namespace {

// Everything the child side reads, prepared before the clone.
struct ChildPlan {
  bool sandboxed = true;  // false: record only, pid 1 is the only isolation
  bool network = false;
  int controllingTerminal = -1;  // the main process's fd to make its terminal
  bool sandboxTerminals = false;  // pid 1 opens the job's terminals (job_terminal.h)
  JobTerminalPlan terminalPlan;
  bool traceExecs = false;
  int channel = -1;
  uint64_t unshareFlags = 0;    // namespaces pid 1 creates itself
  int stdio[3] = {-1, -1, -1};  // become 0, 1, 2; -1 keeps the caller's
  const char* hostname = "jobtape";
  const MountPlan* mounts = nullptr;
  const RlimitPlan* rlimits = nullptr;
  const ExecPlan* exec = nullptr;
  const SeccompProgram* seccomp = nullptr;
};

// --- child side ------------------------------------------------------------

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

// AddressSanitizer cannot follow a switch to a stack it did not allocate,
// so its builds fork instead.
#if defined(__SANITIZE_ADDRESS__)
#define JOBTAPE_FORK_MAIN_PROCESS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JOBTAPE_FORK_MAIN_PROCESS 1
#endif
#endif

#ifndef JOBTAPE_FORK_MAIN_PROCESS
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
#ifdef JOBTAPE_FORK_MAIN_PROCESS
  pid_t pid = ::fork();
  if (pid == 0) mainProcess(p);
  return pid;
#else
  constexpr size_t kStackBytes = 256 * 1024;
  void* stack = ::mmap(nullptr, kStackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return -1;
  long pid = ::clone(mainProcessEntry, static_cast<char*>(stack) + kStackBytes, CLONE_VM | CLONE_VFORK | SIGCHLD,
                     const_cast<ChildPlan*>(&p));
  int saved = errno;
  ::munmap(stack, kStackBytes);  // the child has exec'd or exited
  errno = saved;
  return pid;
#endif
}

// Every process of the job runs as pid 1's uid and so could open its
// /proc/1/mem, and pid 1 holds the channel the supervisor listens to. Before
// any code of the job runs, pid 1 therefore gives up its privileges, makes
// itself non-dumpable (its memory was mapped in the caller's user namespace:
// /proc/1/mem, fd, environ and every ptrace-like access then need
// CAP_SYS_PTRACE there, which nothing in the sandbox has) and loads the
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

// --- supervisor side -------------------------------------------------------

struct Stdio {
  UniqueFd childIn, childOut, childErr;  // the child's ends
  UniqueFd outRead, errRead, ptyMaster;  // ours
  UniqueFd inputWrite;                   // the job's stdin pipe, our end
};

[[noreturn]] void fail(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

// Where the job's stdin comes from (RunOptions::input).
enum class InputKind { none, pipe, terminal };

InputKind inputKind(const RunOptions& options) {
  if (!options.input || (options.stdio != StdioMode::capture && options.stdio != StdioMode::jobTerminal)) {
    return InputKind::none;
  }
  if (!::isatty(0)) return InputKind::pipe;
  if (options.stdio == StdioMode::jobTerminal && CallerTerminal::inputAvailable()) return InputKind::terminal;
  return InputKind::none;
}

UniqueFd openDevNull(int flags) {
  UniqueFd fd(::open("/dev/null", flags | O_CLOEXEC));
  if (!fd) fail("open /dev/null");
  return fd;
}

void openPipe(UniqueFd& readEnd, UniqueFd& writeEnd) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) < 0) fail("pipe2");
  readEnd.reset(ends[0]);
  writeEnd.reset(ends[1]);
}

// The job's terminals, unsandboxed: opened here on the host's devpts.
void openHostJobTerminals(Stdio& s, const JobTerminalPlan& plan) {
  PtyPair out = PtyPair::open(-1), err = PtyPair::open(-1);
  configureJobTerminal(out.master.get(), plan.size);
  configureJobTerminal(err.master.get(), plan.size);
  if (plan.inputOnTerminal) s.childIn.reset(::fcntl(out.slave.get(), F_DUPFD_CLOEXEC, 0));
  s.outRead = std::move(out.master);
  s.childOut = std::move(out.slave);
  s.errRead = std::move(err.master);
  s.childErr = std::move(err.slave);
}

Stdio openStdio(StdioMode mode, InputKind input, bool sandboxed, const JobTerminalPlan& plan) {
  Stdio s;
  if (mode == StdioMode::capture || mode == StdioMode::jobTerminal) {
    if (input == InputKind::pipe) openPipe(s.childIn, s.inputWrite);
    if (mode == StdioMode::capture) {
      openPipe(s.outRead, s.childOut);
      openPipe(s.errRead, s.childErr);
    } else if (!sandboxed) {
      openHostJobTerminals(s, plan);
    } else {
      // Until pid 1 puts the sandbox's own terminals there.
      s.childOut = openDevNull(O_WRONLY);
      s.childErr = openDevNull(O_WRONLY);
    }
    if (!s.childIn) s.childIn = openDevNull(O_RDONLY);
  } else if (mode == StdioMode::terminal) {
    PtyPair pty = PtyPair::open(::isatty(0) ? 0 : 1);
    s.ptyMaster = std::move(pty.master);
    s.childIn = std::move(pty.slave);
  }
  return s;
}

// A pid namespace can only be entered by a new process, so clone() makes it;
// the child unshares the rest (see the top of this file).
constexpr uint64_t kCloneNamespaces = CLONE_NEWUSER | CLONE_NEWPID;

// Record only: a pid namespace, in a user namespace unless the caller is
// root (root keeps its real privileges: record only promises no isolation).
uint64_t recordOnlyNamespaces() { return ::geteuid() == 0 ? CLONE_NEWPID : CLONE_NEWUSER | CLONE_NEWPID; }

uint64_t unshareNamespaces(const Recipe& recipe) {
  uint64_t flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
  if (!recipe.network) flags |= CLONE_NEWNET;
  return flags;
}

// Compiling the policy costs more than the rest of the planning together, and
// there are only eight configurations: each is compiled once per process and
// shared (load() is const and allocation-free).
const SeccompProgram& seccompProgramFor(const SeccompPolicyConfig& config) {
  static std::mutex mutex;
  static std::unique_ptr<const SeccompProgram> programs[2][2][2];
  std::lock_guard<std::mutex> lock(mutex);
  std::unique_ptr<const SeccompProgram>& slot =
      programs[config.allowNetwork][config.traceExecs][config.denySetid];
  if (!slot) slot = std::make_unique<const SeccompProgram>(SeccompProgram::compile(config));
  return *slot;
}

// Kills and reaps the child if run() leaves early (a throw, a failed id map).
class ChildGuard {
 public:
  explicit ChildGuard(pid_t pid) : pid_(pid) {}
  ~ChildGuard() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  void release() { pid_ = -1; }

 private:
  pid_t pid_;
};

// The id maps, the cgroup when clone3 could not place the child in it, "go".
std::optional<RunResult> releaseChild(const Recipe& recipe, const MemoryLimit& memory, const PidsCgroup& pids,
                                      const ClonedChild& child, int channel, bool userNamespace) {
  if (memory.cgroupFd() >= 0 && !child.inCgroup) {
    std::string pid = std::to_string(child.pid);
    UniqueFd procs(::openat(memory.cgroupFd(), "cgroup.procs", O_WRONLY | O_CLOEXEC));
    if (!procs || ::write(procs.get(), pid.data(), pid.size()) < 0) return setupFailure(SetupStep::memoryCgroup, errno, "");
  }
  if (int e = pids.enter(child.pid, memory.cgroupFd() < 0 && child.inCgroup)) {
    return setupFailure(SetupStep::pidsCgroup, e, "");
  }
  if (userNamespace) {
    IdMapFailure maps = writeIdMaps(child.pid, IdMapping::forRecipe(recipe));
    if (maps.step != SetupStep::none) return setupFailure(maps.step, maps.error, "");
  }
  if (!sendGo(channel)) return setupFailure(SetupStep::waitForParent, errno, "");
  return std::nullopt;
}

// Everything planned before the clone, owned here for the whole run.
struct Preparation {
  MemoryLimit memory;
  PidsCgroup pids;  // root's maxProcesses (pid_cgroup.h)
  RlimitPlan rlimits;
  ExecPlan exec;
  MountPlan mounts;
  const SeccompProgram* seccomp = nullptr;
  InputKind input = InputKind::none;
  JobTerminalPlan terminalPlan;
  Stdio stdio;
  UniqueFd channel, childChannel;
};

void prepare(Preparation& p, const Recipe& recipe, const RunOptions& options, const StateDirs& state) {
  p.memory = MemoryLimit::prepare(recipe.limits.memoryBytes);
  if (needsPidsCgroup(recipe)) p.pids = PidsCgroup::prepare(recipe.limits.maxProcesses, p.memory.cgroupFd());
  p.rlimits = RlimitPlan::build(recipe.limits, p.memory.addressSpaceBytes());
  p.exec = ExecPlan::build(recipe, options.extraEnv);
  if (recipe.sandboxed) {
    p.mounts = MountPlan::build(recipe, state.tmpfsSources, options.hiddenPaths, options.homeLayers);
    // Host root's files are trusted by the host whatever the mount said.
    p.seccomp = &seccompProgramFor(
        {.allowNetwork = recipe.network, .traceExecs = options.traceExecs, .denySetid = ::geteuid() == 0});
  }
  p.input = inputKind(options);
  p.terminalPlan = JobTerminalPlan::forCaller(p.input == InputKind::terminal);
  p.stdio = openStdio(options.stdio, p.input, recipe.sandboxed, p.terminalPlan);
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) fail("socketpair");
  p.channel.reset(pair[0]);
  p.childChannel.reset(pair[1]);
  // Every record then carries its sender's pid (child_report.h).
  if (!passSenderCredentials(p.channel.get())) fail("setsockopt(SO_PASSCRED)");
}

ChildPlan childPlan(const Recipe& recipe, const RunOptions& options, const Preparation& p) {
  ChildPlan plan;
  plan.sandboxed = recipe.sandboxed;
  plan.network = recipe.network;
  const bool terminal = options.stdio == StdioMode::terminal;
  const bool jobTerminal = options.stdio == StdioMode::jobTerminal;
  plan.controllingTerminal = terminal ? 0 : jobTerminal ? 1 : -1;
  plan.sandboxTerminals = jobTerminal && recipe.sandboxed;
  plan.terminalPlan = p.terminalPlan;
  plan.traceExecs = recipe.sandboxed && options.traceExecs;
  plan.channel = p.childChannel.get();
  plan.unshareFlags = unshareNamespaces(recipe);
  plan.stdio[0] = p.stdio.childIn.get();
  plan.stdio[1] = terminal ? p.stdio.childIn.get() : p.stdio.childOut.get();
  plan.stdio[2] = terminal ? p.stdio.childIn.get() : p.stdio.childErr.get();
  plan.hostname = recipe.hostname.empty() ? "jobtape" : recipe.hostname.c_str();
  plan.mounts = &p.mounts;
  plan.rlimits = &p.rlimits;
  plan.exec = &p.exec;
  plan.seccomp = p.seccomp;
  return plan;
}

SupervisedChild supervisedChild(ClonedChild& child, Preparation& p) {
  SupervisedChild supervised;
  supervised.pid = child.pid;
  supervised.pidfd = std::move(child.pidfd);
  supervised.channel = std::move(p.channel);
  supervised.stdoutRead = std::move(p.stdio.outRead);
  supervised.stderrRead = std::move(p.stdio.errRead);
  supervised.ptyMaster = std::move(p.stdio.ptyMaster);
  supervised.sandboxed = true;  // record only too: pid 1 is ours
  return supervised;
}

}  // namespace

RunResult run(const Recipe& recipe, const RunOptions& options, RunObserver& observer,
              const CancelToken* cancellation) {
  const uint64_t startNs = monotonicNowNs();
  const bool sandboxed = recipe.sandboxed;
  reapExitedSandboxes();

  // 1. Plan.
  StateDirs state;
  if (sandboxed) state = prepareStateDirs(recipe, options);
  if (state.error != 0) return setupFailure(SetupStep::stateDir, state.error, " (" + state.failedPath + ")");
  Preparation p;
  prepare(p, recipe, options, state);
  if (p.pids.error()) return setupFailure(SetupStep::pidsCgroup, EOPNOTSUPP, ": " + *p.pids.error());
  const ChildPlan plan = childPlan(recipe, options, p);

  // 2. Clone; the child never returns from here.
  const uint64_t namespaces = sandboxed ? kCloneNamespaces : recordOnlyNamespaces();
  const int cgroupFd = p.memory.cgroupFd() >= 0 ? p.memory.cgroupFd() : p.pids.cloneCgroupFd();
  ClonedChild child = cloneChild(namespaces, cgroupFd);
  if (child.pid == 0) sandboxed ? sandboxInit(plan) : recordOnlyInit(plan);
  if (child.pid < 0) return setupFailure(SetupStep::clone, errno, "");
  ChildGuard guard(child.pid);
  p.stdio.childIn.reset();
  p.stdio.childOut.reset();
  p.stdio.childErr.reset();
  p.childChannel.reset();

  // 3. Id maps, then let it go.
  if (std::optional<RunResult> failed =
          releaseChild(recipe, p.memory, p.pids, child, p.channel.get(), (namespaces & CLONE_NEWUSER) != 0)) {
    return *failed;
  }

  // 4. The observer records while the child builds the sandbox. A child
  // that failed meanwhile is gone and cannot read "start": supervise() then
  // finds its setup error on the channel.
  observer.onStarted(child.pid);  // a throw kills and reaps the child
  (void)sendStart(p.channel.get());

  // 5. Supervise to the end.
  std::optional<TerminalRelay> relay;
  if (options.stdio == StdioMode::terminal) relay.emplace(p.stdio.ptyMaster.get(), 0, 1);
  std::optional<CallerTerminal> callerTerminal;
  if (options.stdio == StdioMode::jobTerminal) callerTerminal.emplace(p.input == InputKind::terminal);
  std::optional<InputRelay> input;
  if (p.input == InputKind::pipe) input.emplace(0, std::move(p.stdio.inputWrite));
  if (p.input == InputKind::terminal) {
    input.emplace(0);
    if (!sandboxed) input->setTerminalTarget(p.stdio.outRead.get());  // sandboxed: once pid 1 sends it
  }
  SupervisedChild supervised = supervisedChild(child, p);
  SupervisorConfig config;
  config.startNs = startNs;
  config.timeoutMs = recipe.limits.timeoutMs;
  config.graceMs = recipe.limits.killGraceMs != 0 ? recipe.limits.killGraceMs : 2000;
  config.cancellation = cancellation;
  config.terminal = relay ? &*relay : nullptr;
  config.callerTerminal = callerTerminal ? &*callerTerminal : nullptr;
  config.input = input ? &*input : nullptr;
  config.exec = &p.exec;
  SupervisionReport report = supervise(supervised, config, observer);
  // pid 1 may still be exiting (deferred_reap.h). A job cgroup is removed
  // below, which needs it gone: then the guard waits for it.
  const bool jobCgroup = p.memory.cgroupFd() >= 0 || p.pids.ownsCgroup();
  if (!report.reaped && !jobCgroup) reapLater(child.pid, std::move(supervised.pidfd));
  if (report.reaped || !jobCgroup) guard.release();
  relay.reset();
  callerTerminal.reset();
  return describeOutcome(report, {.recipe = &recipe, .sandboxed = sandboxed, .oomKilled = p.memory.oomKilled(), .startNs = startNs});
}

}  // namespace jobtape::sandbox
