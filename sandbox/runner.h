// Runs one recipe in the sandbox and supervises it to the end.
//
// The orchestrator (runner.cc) reads like a checklist; each kernel concern has
// its own file (user_ns, mount_tree, net_ns, pid_init, seccomp_policy,
// rlimits, ...). This header is all the recorder sees of it.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include <jobtape/cancel_token.h>

#include "sandbox/recipe.h"
#include "sandbox/run_result.h"

namespace jobtape::sandbox {

enum class Stream { stdout_, stderr_ };

struct ExecRecord {
  uint64_t elapsedNs = 0;
  int32_t pid = 0;   // inside the job's pid namespace
  int32_t ppid = 0;
  std::string executable;
  std::vector<std::string> argv;  // raw bytes
  std::string cwd;
};

struct ProcessExitRecord {
  uint64_t elapsedNs = 0;
  int32_t pid = 0;
  bool statusKnown = false;
  int exitCode = -1;
  int signal = 0;
};

// What exec tracing could not record, reported once before run() returns
// when anything was missed: the counts and why.
struct TracingShortfall {
  uint64_t elapsedNs = 0;
  uint64_t missedExecs = 0;  // execs that ran but are not recorded
  uint64_t missedExits = 0;  // recorded execs whose process's end was not followed
  std::string reason;        // e.g. "out of descriptors"; several joined by ", "
};

// Called from the thread that called run(), in the order things happened.
// Implementations must not throw, except onStarted.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  // The sandbox's outermost host pid exists and the sandbox is being built
  // meanwhile; the command starts only once this returns, so this is where
  // a caller records the job's start without adding to its latency. If it
  // throws, run() kills and reaps the child and rethrows: the command never
  // ran.
  virtual void onStarted(pid_t hostPid) { (void)hostPid; }
  virtual void onOutput(Stream stream, uint64_t elapsedNs, std::span<const char> bytes) = 0;
  virtual void onExec(const ExecRecord& exec) { (void)exec; }
  virtual void onProcessExit(const ProcessExitRecord& exit) { (void)exit; }
  virtual void onTracingIncomplete(const TracingShortfall& shortfall) { (void)shortfall; }
};

enum class StdioMode {
  capture,      // stdout/stderr through pipes to the observer
  inherit,      // the caller's fds 0/1/2 as they are (no recording of output)
  terminal,     // a new pty: the caller's terminal relayed to it (debug-shell)
  jobTerminal,  // stdout/stderr on two ptys of the job's own, to the observer
                // as with capture (job_terminal.h)
};

struct HomeLayers {
  std::string upper;
  std::string work;
  bool empty() const { return upper.empty() || work.empty(); }
};

struct RunOptions {
  // Host directory for the sandbox's private writable state: tmpfs mounts of
  // the recipe become directories below it (e.g. stateDir/tmp for /tmp) so a
  // failed job's state can be kept and mounted back by debug-shell.
  std::filesystem::path stateDir;
  // Reuse what is already in stateDir (debug-shell) instead of requiring it
  // to be empty.
  bool reuseState = false;
  StdioMode stdio = StdioMode::capture;
  // capture and jobTerminal: the job's stdin is the caller's fd 0, relayed
  // (input_relay.h): through a pipe when fd 0 is not a terminal; when it is
  // one, with jobTerminal and this process in its foreground, into the job's
  // stdout terminal (job_terminal.h: the caller's terminal in a raw input
  // mode meanwhile). Otherwise, and without `input`, /dev/null.
  bool input = false;
  bool traceExecs = false;  // seccomp user-notification supervisor on execve
  // Extra environment for the process (e.g. JOBTAPE_JOB_ID), added after the
  // recipe's env; not part of the recipe hash.
  std::vector<EnvVar> extraEnv;
  // Host directories shown empty (and read-only) wherever the recipe's binds
  // would show them, e.g. the jobtape home (see mount_tree.h).
  std::vector<std::string> hiddenPaths;
  // The upper and work directories of the recipe's homeOverlay mount: host
  // directories on one filesystem, owned by the caller, that no other run
  // uses meanwhile (the recorder keeps them per project in its store). They
  // are not part of the recipe, so its hash stays the same in every store.
  // Empty: the mount is a read-only bind of its source.
  HomeLayers homeLayers;
};

// Setup of the sandbox failed before the command could run is NOT an
// exception: it is RunResult::outcome == setupFailed. run() throws
// std::system_error only when the supervisor itself cannot work (e.g. no fds).
//
// `cancel` (may be null) is polled by the supervisor itself: a request, made
// before or during the run, stops the tree with its signal, then SIGCONT,
// then SIGKILL after the grace period; the outcome is `cancelled`.
RunResult run(const Recipe& recipe, const RunOptions& options, RunObserver& observer,
              const CancelToken* cancel = nullptr);

}  // namespace jobtape::sandbox
