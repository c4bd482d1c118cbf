// Acting on recorded jobs: run one again as a new build (`job retry`),
// re-enter a failed job's sandbox (`job debug-shell`), and remove old jobs
// (`gc`).
//
// Retry and debug-shell rebuild the job from the store's record, never from
// an events file alone: the recipe must pass as a recipe file from the user
// and may bind neither / nor the home read-write. Secret variables, recorded
// as "***", take the caller's current values; one the caller lacks is left
// out and named (missingSecrets), and the job runs on without it.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <jobtape/inspect.h>
#include <jobtape/recorder.h>

namespace jobtape {

// The job cannot be retried or re-entered (Kind::invalidArgument): still
// running, succeeded without kept state, state removed, recipe unreadable or
// asking for too much. what() is one line; hint() says what to do instead.
class ActionRefused : public Error {
 public:
  ActionRefused(const std::string& message, std::string hint);
  const std::string& hint() const noexcept { return hint_; }

 private:
  std::string hint_;
};

// The default SecretLookup (<jobtape/recipe.h>): getenv.
std::optional<std::string> callerEnvironment(const std::string& name);
// The line said for a secret the caller does not have ("secret variable X ...").
std::string missingSecretWarning(const std::string& name);

// ---- retry ---------------------------------------------------------------------

// A recorded job made ready to run again.
struct RetryPlan {
  std::filesystem::path home{};
  JobRecord job{};
  Recipe recipe{};  // as recorded, secrets restored
  // Its build project as recorded, or the recipe's work dir when that row is gone.
  ProjectOptions project{};
  // retryOf: the job's build; cwd: the current directory. Set commandLine.
  BuildOptions build{};
  std::vector<std::string> missingSecrets{};
};

// Throws ActionRefused. A recipe recorded without a sandbox is planned, but
// runs only with JobOptions::allowUnsandboxed.
RetryPlan planRetry(Home& home, const JobRecord& job, const SecretLookup& secrets = callerEnvironment);

// Runs the plan as a new build of one job in the plan's home, and finishes
// that build. Throws Error like Build::run; a job that fails is a JobResult.
JobResult retryJob(const RetryPlan& plan, const JobOptions& options = {});

// ---- debug-shell ------------------------------------------------------------------

struct DebugShellOptions {
  std::vector<std::string> command{};  // empty: an interactive shell
  bool terminal = false;               // stdin is a terminal: run on a pty
  std::string callerTerm{};            // $TERM, passed on when the recipe has none
  SecretLookup secrets = callerEnvironment;
  // A process of the job (its pid in `job show`): the shell starts in its
  // working directory with its command line in the shell's history (bash,
  // zsh: Up + Enter runs it again); with `rerun` and no command, that command
  // runs again instead of a shell. Refused (ActionRefused) for a pid the job
  // did not record.
  std::optional<int32_t> process{};
  bool rerun = false;
};

struct DebugShellResult {
  Outcome outcome = Outcome::exited;
  int exitCode = 0;  // what to exit with
  int signal = 0;
  std::string message{};           // one line; with setupFailed: what could not be rebuilt
  std::string violatingSyscall{};  // with seccompViolation
};

// The sandbox of a failed job (or one run with keepState), rebuilt as the job
// had it: the same mounts, environment, work dir, uid map, and its kept
// writable state (its private /tmp holds what the job left there). The
// command is the shell or the one asked for; wall-clock and CPU limits are
// dropped; JOBTAPE_DEBUG_SHELL names the job.
class DebugShell {
 public:
  // Throws ActionRefused (a damaged row is refused too).
  static std::unique_ptr<DebugShell> plan(Home& home, const JobRecord& job, const DebugShellOptions& options);
  virtual ~DebugShell() = default;

  virtual const Recipe& recipe() const noexcept = 0;  // what will run
  virtual const std::vector<std::string>& missingSecrets() const noexcept = 0;
  // One line before the shell starts: which job, and that changes under
  // read-write binds are real.
  virtual std::string banner(const std::string& shortJobId) const = 0;
  // With options.process: the lines to print before it starts (the process,
  // where, its command line), unescaped; else none.
  virtual std::vector<std::string> processLines() const = 0;
  // Runs it with the caller's stdio (a pty with options.terminal) until it
  // ends. `cancel` stops it. Throws Error (Kind::sandbox) when no sandbox can
  // be made at all.
  virtual DebugShellResult run(CancelToken* cancel = nullptr) = 0;
};

// ---- gc -------------------------------------------------------------------------------

// Each limit given is an upper bound; a finished job goes when any says so.
// Running jobs are never removed. With olderThan, finished builds older than
// that with no jobs left go too.
struct GcPolicy {
  std::optional<int64_t> keepFailed{};     // failed and abandoned jobs, >= 0
  std::optional<int64_t> keepSucceeded{};  // >= 0
  std::optional<std::chrono::milliseconds> olderThan{};
  bool dryRun = false;  // say what would go, change nothing
  // Also drop the kept upper layers of the jobs' $HOME overlays (all
  // projects', or only those of the project at homesOfProject, a local
  // path as the jobs' builds gave it). Layers a running job holds stay.
  bool homes = false;
  std::optional<std::filesystem::path> homesOfProject{};
};

// "90s", "15m", "12h", "30d", "2w" (a bare number is days); nullopt otherwise.
std::optional<std::chrono::milliseconds> parseAge(std::string_view text);

struct RemovedJob {
  std::string id{};
  JobStatus status = JobStatus::failed;
  int64_t stoppedAtMs = 0;
  uint64_t bytes = 0;  // disk usage of its directory
};

struct GcReport {
  bool dryRun = false;
  std::vector<RemovedJob> jobs{};     // most recent first
  std::vector<std::string> builds{};  // ids of the builds removed
  uint64_t bytesFreed = 0;
  int leftoversSwept = 0;  // removals an interrupted gc or a dead recorder had left
  // What could not be done and was gone on without; the next gc retries.
  std::vector<std::string> problems{};
  // With GcPolicy::homes: home layers removed, left alone (in use), their bytes.
  int homeLayersRemoved = 0;
  int homeLayersInUse = 0;
  uint64_t homeBytesFreed = 0;
};

// Removes what `policy` says (crash-safe: an interrupted gc is finished by
// the next). A home without a store has nothing to remove. Throws Error.
GcReport collectGarbage(Home& home, const GcPolicy& policy);
// `gc --json`.
std::string gcReportJson(const GcReport& report);

struct RecoveryReport {
  std::filesystem::path keptAs{};  // the old jobtape.db, moved aside; empty when there was none
  int jobs = 0;                    // job rows rebuilt from events files
  int builds = 0;                  // builds those jobs belong to
  std::vector<std::string> skipped{};  // job directories without a readable events file
};

// `gc --recover`: rebuilds the home's index (jobtape.db) from the events
// files under jobs/, which are the record: the old database (damaged, or
// not) is moved aside to jobtape.db.damaged-<unix ms> with its -wal and
// -shm, the damaged marker removed, and every job directory's events file
// read for its row (a job without a finish record is abandoned) and its
// build's (result from its jobs). A build's command line, cwd and projects
// were only in the old database and stay empty. Throws Error (Kind::store)
// when the home cannot be used.
RecoveryReport recoverStore(const HomeOptions& options);

}  // namespace jobtape
