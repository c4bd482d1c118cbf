// Which processes of a job failed, reduced to the commands a build tool ran
// (`jobtape run`'s summary, `job show`, `job show --processes --failed`,
// <jobtape/what_failed.h>).
//
// A process failed when it exited non-zero or a signal killed it (its status
// as the exec tracer recorded it; the job's main process takes the job's own
// result when its exit was not followed). Most failing processes of a failed
// build failed only because a process below them failed: make above a
// compiler, a shell wrapping it, ninja, ctest. And below the command the
// build tool ran are its own helpers: cc1 and as under cc. So the failing
// processes shown are found by walking down from the job's main process,
// while it failed, along the children that explain its failure:
//
//   A failing child C explains the failure of its failing parent P when
//   - P is not a compiler driver (cc, gcc, clang, rustc, ...: whatever those
//     run is their own business; the walk stops at them), and
//   - P is a build driver (make, ninja, ctest, cmake --build, ...: each of
//     their failing children is a failed command of the build), or else
//     C is no compiler helper (cc1, as, ld, ...: their failures are their
//     caller's), C's status is P's (the same exit code; or 128+N against
//     signal N; or both killed by signals, as a timeout kills a whole tree),
//     C ended last of P's failing children, and P started no process after
//     C ended: P gave up because of C (a shell with `set -e` or running C
//     last, a script passing a status on).
//
// A failing process that no failing child explains is shown: the deepest
// process of its chain that failed by itself. Each has its chain (the job's
// main process down to it) and its failing helpers (the failing processes
// below it, e.g. cc1 under cc). Failures along no such chain were tolerated
// (a configure test, `grep` in an `if`, a make recipe line starting with
// `-`) and are not shown. Processes that never exec'd are not recorded, so
// a forked subshell's failure is seen as its parent's. Exit statuses of
// processes other than the job's main one need Linux 6.15 (PIDFD_INFO_EXIT);
// without them only the main process is known to have failed.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "recorder/inspect/job_summary.h"

namespace jobtape::recorder {

struct FailingChain {
  size_t node = 0;              // the failing process to show
  std::vector<size_t> chain;    // from the job's main process down to `node`, both included
  std::vector<size_t> helpers;  // failing processes below `node`, depth first
};

// The exit of `node` as far as it is known: the recorded one when its status
// is known; for the job's main process without one, the job's result.
std::optional<sandbox::ProcessExitRecord> knownExit(const ProcessTree& tree, size_t node,
                                                    const std::optional<JobFinishedEvent>& finished);

bool exitFailed(const sandbox::ProcessExitRecord& exit);

// The failing chains, in the order their failing processes started.
std::vector<FailingChain> findFailingChains(const ProcessTree& tree, const std::optional<JobFinishedEvent>& finished);

// Processes whose exit was recorded without a status (a kernel before 6.15).
size_t processesWithUnknownStatus(const ProcessTree& tree);

}  // namespace jobtape::recorder
