// `job debug-shell`: re-enters a failed job's sandbox.
//
// The sandbox is rebuilt from the store's record of the job, not from its
// events file: the recipe comes from jobs.recipe_meta and the writable state
// from the job's directory (jobs.local_path/state), so an events file copied
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

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "recorder/secret_env.h"
#include "sandbox/recipe.h"
#include "sandbox/runner.h"
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
  EnvLookup secretLookup = callerEnv;  // where masked secrets' values come from
  std::filesystem::path home;        // the store's home: shown empty inside, as to every job
};

struct DebugShellPlan {
  std::string jobId;
  std::string jobOutcome;  // "failed: exit 2"
  sandbox::Recipe recipe;  // ready to run
  sandbox::RunOptions options;
  std::vector<std::string> writableBinds;  // inside paths of read-write host binds
  std::string shell;                       // the shell chosen (empty with a command)
  std::vector<std::string> missingSecrets;  // masked variables the caller does not have: left out
};

// The host path that `insidePath` would show inside a sandbox built from
// `recipe` (the last mount covering it wins, as mounts apply in order), or
// nullopt when no bind mount covers it.
std::optional<std::filesystem::path> hostPathOf(const sandbox::Recipe& recipe, const std::string& insidePath);

// Throws DebugShellRefused.
DebugShellPlan planDebugShell(const store::JobRow& job, const DebugShellRequest& request);

// One line for stderr before the shell starts: which job, and that changes
// under read-write binds are real.
std::string debugShellBanner(const DebugShellPlan& plan, const std::string& shortJobId);

// Runs the plan with the caller's stdio (a pty when plan.options.stdio is
// terminal). Returns the sandbox's result; its exitCode is what to exit with.
sandbox::RunResult runDebugShell(const DebugShellPlan& plan, const sandbox::Cancellation* cancellation);

}  // namespace jobtape::recorder
