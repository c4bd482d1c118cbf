// `job debug-shell`: re-enters a failed job's sandbox.
//
// The sandbox is rebuilt from the store's record of the job, not from its
// events file: the recipe comes from jobs.recipe_meta and the writable state
// from the job's directory (home/jobs/<id>/state), so an events file copied
// from elsewhere cannot make jobtape bind arbitrary host paths. The recipe is
// run as recorded (mounts, env, work dir, network, uid/gid map, limits) with
// three differences made for a person at a prompt: the command is the shell
// or the command asked for; the wall-clock and CPU-time limits are dropped
// (the shell would be killed halfway); JOBTAPE_DEBUG_SHELL names the job,
// and TERM is passed on when the recipe has none and a terminal is in use.
// The kept state is mounted back as it is (RunOptions::reuseState), so the
// job's private /tmp holds what the job left there. Secret variables, which
// the record keeps as "***", take the caller's current values
// (restoreSecrets); one the caller lacks is left out and named in the plan.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "recorder/inspect/debug_shell_process.h"
#include "recorder/secret_env.h"
#include "sandbox/recipe.h"
#include "sandbox/runner.h"
#include "store/home_layers.h"
#include "store/store.h"

namespace jobtape::recorder {

// The job cannot be re-entered (succeeded without kept state, still
// running, recorded without a sandbox, state removed, recipe unreadable).
// what() is one line; hint() says what to do instead.
class DebugShellRefused : public std::runtime_error {
 public:
  DebugShellRefused(const std::string& message, std::string hint)
      : std::runtime_error(message), hint_(std::move(hint)) {}
  const std::string& hint() const { return hint_; }

 private:
  std::string hint_;
};

struct DebugShellRequest {
  std::vector<std::string> command;  // empty: an interactive shell
  bool terminal = false;             // stdin is a terminal: run on a pty
  std::string callerTerm;            // $TERM of the caller, passed on if the recipe has none
  SecretLookup secretLookup = callerEnv;  // where masked secrets' values come from
  // --process PID: in that process's working directory, with its command in
  // the shell's history (debug_shell_process.h); with `rerun` and no
  // command, its command is run instead of a shell.
  std::optional<int32_t> process;
  bool rerun = false;
  // The job's project's hash: a homeOverlay mount gets that project's kept
  // layer again (recorder/home_layer.h).
  std::string projectHash;
};

struct DebugShellPlan {
  std::string jobId;
  std::string jobOutcome;  // "failed: exit 2"
  sandbox::Recipe recipe;  // ready to run
  sandbox::RunOptions options;
  std::vector<std::string> writableBinds;  // inside paths of read-write host binds
  std::string shell;                       // the shell chosen (empty with a command)
  std::vector<std::string> missingSecrets;  // masked variables the caller does not have: left out
  std::optional<ProcessToRerun> process;    // with --process
  std::shared_ptr<HistoryFile> history;     // the shell's history file, while the plan lives
  std::shared_ptr<store::HomeLayerLease> homeLayer;  // the home overlay's slot, while the plan lives
};

// The host path that `insidePath` would show inside a sandbox built from
// `recipe` (the last mount covering it wins, as mounts apply in order), or
// nullopt when no bind mount covers it.
std::optional<std::filesystem::path> hostPathOf(const sandbox::Recipe& recipe, const std::string& insidePath);

// The recipe `job` recorded, read as strictly as a recipe file from the user
// (absolute paths, no NUL, no `..`), and refused when it asks for more than
// a run gives a job: a read-write bind of / or of anything overlapping the
// store's `home`. Both debug-shell and retry run only such a recipe. Throws
// DebugShellRefused.
sandbox::Recipe readRecordedRecipe(const store::JobRow& job, const std::filesystem::path& home);

// `home` is the store's; the job's files are found there (store/job_dir.h),
// never where the row says. Throws DebugShellRefused.
DebugShellPlan planDebugShell(const std::filesystem::path& home, const store::JobRow& job,
                              const DebugShellRequest& request);

// One line for stderr before the shell starts: which job, and that changes
// under read-write binds are real.
std::string debugShellBanner(const DebugShellPlan& plan, const std::string& shortJobId);

// With --process: the lines to print before the shell or the command
// starts (the process, where, its command line), unescaped; else none.
std::vector<std::string> debugShellProcessLines(const DebugShellPlan& plan);

// Runs the plan with the caller's stdio (a pty when plan.options.stdio is
// terminal). Returns the sandbox's result; its exitCode is what to exit with.
sandbox::RunResult runDebugShell(const DebugShellPlan& plan, const CancelToken* cancel);

}  // namespace jobtape::recorder
