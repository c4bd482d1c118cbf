// From what the supervisor saw to the RunResult a caller reads.
//
// Exit codes (RunResult::exitCode, what `jobtape run` exits with), chosen to
// match the conventions of the tools people already script around:
//   exited N            N
//   killed by signal N  128+N                     (shells)
//   timed out           124                       (coreutils timeout)
//   cancelled with N    128+N                     (Ctrl-C: 130)
//   command not found   127, not executable 126  (shells, bubblewrap)
//   setup failed        125                       (timeout, env, podman: the
//                                                  runner failed, not the job)
//   seccomp violation   128+SIGSYS = 159
// Precedence when several apply: setup failure, exec failure, cancel, timeout,
// then how the main process ended.
#pragma once

#include <cstdint>
#include <string>

#include "sandbox/recipe.h"
#include "sandbox/run_result.h"
#include "sandbox/supervisor.h"

namespace jobtape::sandbox {

inline constexpr int kExitTimedOut = 124;
inline constexpr int kExitSetupFailed = 125;
inline constexpr int kExitNotExecutable = 126;
inline constexpr int kExitNotFound = 127;

struct OutcomeContext {
  const Recipe* recipe = nullptr;
  bool sandboxed = true;
  bool oomKilled = false;  // the memory cgroup's OOM killer acted
  uint64_t startNs = 0;
};

RunResult describeOutcome(const SupervisionReport& report, const OutcomeContext& context);

// A run that never got a process (state directory, clone, id maps).
RunResult setupFailure(SetupStep step, int error, const std::string& detail);

// ResourceUsage from getrusage/wait4 figures.
ResourceUsage resourceUsageFrom(const struct rusage& usage);

}  // namespace jobtape::sandbox
