// sandbox::run — the orchestrator. Each stage lives in its own file; this one
// only says in which order they happen, on which side of the clone.
//
// Supervisor (the thread that called run()):
//   1. plan everything the child will need: state directories, memory limit,
//      rlimits, argv/envp/PATH candidates, mount plan, seccomp BPF, stdio,
//      the channel (its end stamps each record with the sender's pid), and
//      write it for pid 1 (init_plan.h);
//   2. clone the sandbox's pid 1 into new user and pid namespaces; it
//      borrows this process's memory only until it has exec'd jobtape's init
//      program (clone_child.h, init_image.h), which reads the plan;
//   3. write its id maps, send "go";
//   4. tell the observer, which records the job's start while the child
//      builds the sandbox on another CPU, then send "start";
//   5. supervise until the tree is gone (supervisor.h: the main process's
//      end comes from its pidfd, not from a report); turn what was seen
//      into a RunResult.
//
// Sandbox pid 1 is the init program (sandbox_init.h): a process of its own
// whose memory is a few hundred KiB, not a copy of the caller's. A fork of
// an embedding build tool copied its page tables and then cost a
// copy-on-write fault for every page the tool wrote while the job ran (tens
// of ms a job per GiB resident), and mapped all of the tool's data inside
// the sandbox.
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>

#include "sandbox/child_report.h"
#include "sandbox/clone_child.h"
#include "sandbox/deferred_reap.h"
#include "sandbox/exec_plan.h"
#include "sandbox/init_image.h"
#include "sandbox/init_plan.h"
#include "sandbox/input_relay.h"
#include "sandbox/job_terminal.h"
#include "sandbox/linux_syscalls.h"
#include "sandbox/memory_limit.h"
#include "sandbox/mount_tree.h"
#include "sandbox/overlay_marker.h"
#include "sandbox/pid_cgroup.h"
#include "sandbox/pseudo_terminal.h"
#include "sandbox/rlimits.h"
#include "sandbox/run_outcome.h"
#include "sandbox/seccomp_policy.h"
#include "sandbox/state_dir.h"
#include "sandbox/supervisor.h"
#include "sandbox/user_ns.h"

namespace jobtape::sandbox {

namespace {


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

bool mountsOverlay(const MountPlan& mounts) {
  return std::any_of(mounts.ops().begin(), mounts.ops().end(),
                     [](const MountPlan::Op& op) { return op.kind == MountPlan::Op::Kind::overlay; });
}

// pid 1's argv: the plan's and the channel's fd numbers (init_main.cc).
class InitArguments {
 public:
  InitArguments(int image, int planFd, int channel)
      : imagePath_("/proc/self/fd/" + std::to_string(image)), plan_(std::to_string(planFd)),
        channel_(std::to_string(channel)), argv_{name_, plan_.data(), channel_.data(), nullptr} {}
  char* const* argv() { return argv_; }
  const char* imagePath() const { return imagePath_.c_str(); }

 private:
  char name_[21] = "jobtape-sandbox-init";
  std::string imagePath_, plan_, channel_;
  char* argv_[4];
};

std::string initImageHint(int error) {
  return error == EACCES ? " (the kernel's vm.memfd_noexec forbids running a program from memory; jobtape's "
                           "sandbox init runs that way: set it to 0 or 1)"
                         : "";
}

// The setup error pid 1 sent before it ended, if any.
std::optional<RunResult> reportedSetupError(int channel, pid_t pid) {
  while (readableNow(channel)) {
    std::optional<ReceivedMessage> received = receiveChildMessage(channel);
    if (!received) break;
    const ChildMessage& m = received->message;
    if (m.kind == ChildMessage::setupError && received->senderPid == pid) return setupFailure(m.step, m.error, "");
  }
  return std::nullopt;
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
  const UniqueFd planFd = writeInitPlan(childPlan(recipe, options, p));
  const int image = initImageFd();
  if (image < 0) return setupFailure(SetupStep::initImage, errno, initImageHint(errno));

  // 2. Clone pid 1, which execs the init program with the plan.
  const uint64_t namespaces = sandboxed ? kCloneNamespaces : recordOnlyNamespaces();
  const int cgroupFd = p.memory.cgroupFd() >= 0 ? p.memory.cgroupFd() : p.pids.cloneCgroupFd();
  InitArguments arguments(image, planFd.get(), p.childChannel.get());
  const int keep[] = {planFd.get(), p.childChannel.get(), p.stdio.childIn.get(), p.stdio.childOut.get(),
                      p.stdio.childErr.get()};
  ClonedChild child = cloneInit(namespaces, cgroupFd,
                                {.image = image, .imagePath = arguments.imagePath(), .argv = arguments.argv(), .keep = keep,
                                 .keepCount = std::size(keep), .channel = p.childChannel.get()});
  if (child.pid < 0) return setupFailure(SetupStep::clone, errno, "");
  ChildGuard guard(child.pid);
  p.stdio.childIn.reset();
  p.stdio.childOut.reset();
  p.stdio.childErr.reset();
  p.childChannel.reset();

  // 3. Id maps, then let it go. When they cannot be written, pid 1 may have
  // told why it is gone (an init that could not start).
  if (std::optional<RunResult> failed =
          releaseChild(recipe, p.memory, p.pids, child, p.channel.get(), (namespaces & CLONE_NEWUSER) != 0)) {
    return reportedSetupError(p.channel.get(), child.pid).value_or(*failed);
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
  // The home overlay's marker goes while the job runs (overlay_marker.h).
  BackgroundMarkerClearing markerClearing;
  if (mountsOverlay(p.mounts)) config.mainStarted = [&] { markerClearing.start(options.homeLayers.work); };
  SupervisionReport report = supervise(supervised, config, observer);
  markerClearing.wait();
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
