// jobtape: an embeddable build-event recorder for sandboxed job execution.
//
// This is the whole public API. It uses only standard C++ types so that a
// build tool needs nothing but this header, <jobtape/recipe.h> and
// `pkg-config jobtape`.
//
//   auto recorder = jobtape::Recorder::open({});
//   auto build = recorder->beginBuild({.commandLine = "mytool build"});
//   auto project = build->addProject({.localPath = "/src/app"});
//   jobtape::JobResult result = build->run(recipe, project, options);
//   std::string buildResult = build->finish();  // "succeeded" | "failed"
//
// The library never prints, never exits and never lets one of its own file
// descriptors reach a sandboxed process. Every failure is a jobtape::Error;
// a job that ran and failed is NOT an error: it is a JobResult.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <jobtape/cancel_token.h>
#include <jobtape/error.h>
#include <jobtape/outcome.h>
#include <jobtape/recipe.h>

namespace jobtape {

// The library's version, e.g. "0.1.0".
const char* version() noexcept;

enum class OutputStream { stdout_, stderr_ };

// Identifies the job a callback is about.
struct JobInfo {
  std::string jobId{};
  std::string buildId{};
  std::string name{};  // the recipe's name, else the command's base name
  int64_t projectId = 0;
};

struct JobOptions {
  // Called on the thread that called run(), live, in the order the bytes
  // arrived. Must not throw; keep it quick (the job's pipes wait meanwhile).
  // The bytes are those recorded: the recipe's secret values are "***", and
  // a chunk's end that may begin one waits for the next chunk (or the end).
  std::function<void(const JobInfo&, OutputStream, std::string_view)> onOutput{};
  // Called once the job's process exists; `pid` is its host pid (the one the
  // store shows while it runs).
  std::function<void(const JobInfo&, int pid)> onStarted{};
  // Keep the sandbox's writable state (its tmpfs mounts) even when the job
  // succeeds. Failed jobs always keep it, for debug-shell.
  bool keepState = false;
  // fdatasync the events file at the end of every job, not only failed ones.
  bool durable = false;
  // Record every execve of the job's tree (job show --processes).
  bool traceExecs = true;
  // Run a recipe that asks for no sandbox ("sandboxed": false) on the host.
  // Without it such a recipe is refused (Error::Kind::recipe, field
  // "sandboxed"): a recipe file must not switch the sandbox off on its own.
  bool allowUnsandboxed = false;
  // Run the job on pseudo-terminals of its own, one for stdout and one for
  // stderr, opened inside the sandbox from its own devpts instance and sized
  // like the caller's terminal (fd 1, else fd 0; else 80x24); SIGWINCH
  // resizes them. Programs then see a terminal (colour, status lines); the
  // output is recorded and handed to onOutput as with pipes, stream by
  // stream, with "\n" not turned into "\r\n". The job never gets a terminal
  // of the host. The events file records that it ran so.
  bool terminal = false;
  // The job's stdin is the caller's fd 0, relayed by the library as its
  // bytes come (not recorded): through a pipe when fd 0 is not a terminal;
  // when it is one, only with `terminal` and while the caller is in its
  // foreground, into the job's terminal, the caller's terminal meanwhile in
  // a raw input mode that keeps Ctrl-C (restored when run() returns).
  // Otherwise, and by default, stdin is /dev/null. Bytes read ahead of what
  // the job read are gone from fd 0.
  bool input = false;
  // Optional; not owned.
  CancelToken* cancel = nullptr;
};

struct JobResult {
  std::string jobId{};
  std::string buildId{};
  std::string name{};
  std::string recipeHash{};
  bool succeeded = false;
  Outcome outcome = Outcome::exited;
  int exitCode = 0;  // what a shell would see: N, 128+signal, 124, 126, 127
  int signal = 0;    // terminating signal, 0 if none
  std::string message{};  // one line for humans
  std::chrono::nanoseconds duration{0};
  ResourceUsage rusage{};  // whole process tree
  std::filesystem::path eventsFile{};
  std::filesystem::path stateDir{};
  bool stateKept = false;
  std::string setupStep{};  // with Outcome::setupFailed
  int setupErrno = 0;     // with Outcome::setupFailed
  std::string violatingSyscall{};  // with Outcome::seccompViolation
  // Not empty when the job's record is incomplete: its events file could not
  // be written to its end (e.g. the disk filled), or its row could not be
  // finished. Says what is missing; the job's own result above stands.
  std::string recordProblem{};
};

struct ProjectOptions {
  // Exactly one of the two.
  std::filesystem::path localPath{};  // made absolute
  std::string registryName{};
  // Identifies the project across builds; default: SHA-256 of the absolute
  // path (or of the registry name).
  std::optional<std::string> projectHash{};
};

struct BuildOptions {
  std::string commandLine{};  // how the build was invoked, for listings
  std::filesystem::path cwd{};  // default: the current directory
  std::optional<std::string> retryOf{};  // id of the build this one retries
  // The job this build runs inside (nested build). Default: $JOBTAPE_JOB_ID
  // when the build is started inside a job recorded in the same home.
  std::optional<std::string> parentJobId{};
  bool parentFromEnvironment = true;
};

class Build {
 public:
  virtual ~Build() = default;  // unfinished: finishes it (result computed from its jobs)

  virtual const std::string& id() const noexcept = 0;
  // Adds a project this build touches; returns its id for run(). Throws Error.
  virtual int64_t addProject(const ProjectOptions& project) = 0;
  // Runs one recipe to its end as a job of this build and records it.
  // Thread-safe: several threads may run jobs of one build at once. Throws
  // Error for an invalid recipe, an unknown project or a store failure; a
  // job that fails (including sandbox setup) is a JobResult, not an Error.
  // The jobtape home is never visible inside the sandbox: it is shown empty,
  // and a recipe that binds it read-write (e.g. a project directory holding
  // the home) or binds any part of it is refused (Error::Kind::recipe, field
  // "mounts[N]").
  virtual JobResult run(const Recipe& recipe, int64_t projectId, const JobOptions& options = {}) = 0;
  // Ends the build: "succeeded", or "failed" when a job or a nested build
  // failed. Call once, after every run() returned. Throws Error.
  virtual std::string finish() = 0;
};

struct RecorderOptions {
  // Data directory; default $JOBTAPE_HOME, else
  // ${XDG_STATE_HOME:-$HOME/.local/state}/jobtape.
  std::optional<std::filesystem::path> home{};
};

class Recorder {
 public:
  // Opens (creating if needed) the store. Throws Error (Kind::store).
  static std::unique_ptr<Recorder> open(const RecorderOptions& options = {});
  virtual ~Recorder() = default;

  virtual const std::filesystem::path& home() const noexcept = 0;
  // Throws Error. The Recorder must outlive its builds.
  virtual std::unique_ptr<Build> beginBuild(const BuildOptions& options) = 0;
};

// The default sandbox of `jobtape run -- COMMAND`: the host's / read-only,
// `projectDir` read-write, a private /tmp (kept with a failed job), the
// host's runtime directories (/run, /var/run, $XDG_RUNTIME_DIR: where the
// host's services have their sockets) as empty private directories, the
// caller's environment, work dir = `workDir`, loopback-only network, the
// caller's uid and gid. /dev and /proc are always provided by the sandbox.
// $HOME (when it is a directory other than /) is a homeOverlay mount: writable
// inside, the writes kept in the store per project, the host's home never
// written; remove that mount for a read-only home (`--no-home-overlay`).
// Empty paths mean the current directory.
// The project `dir` belongs to, as `jobtape run` picks it: walking up from
// `dir`, the first directory that is a repository's top level (a .git
// directory or file, .hg) or holds a .jobtape marker; the walk stops before
// $HOME and /, which are never found this way. Else `dir` itself (made
// absolute and normalised).
std::filesystem::path projectRoot(const std::filesystem::path& dir);

Recipe defaultRecipe(std::string command, std::vector<std::string> args,
                     std::filesystem::path projectDir = {}, std::filesystem::path workDir = {});

// A recipe file: the JSON form of the Recipe struct of recipe.capnp, checked
// as checkRecipe does. Unknown fields and wrong types are refused. Throws
// Error (Kind::recipe; field() names the field).
Recipe parseRecipe(std::string_view json);
// What run() checks first: a command, absolute paths without NUL or "..",
// env names without '='. Throws Error (Kind::recipe).
void checkRecipe(const Recipe& recipe);

// The recipe's secret variables (by name, or listed in secretEnv), in env order.
std::vector<std::string> secretVariables(const Recipe& recipe);
// `text` as the record would have it: each secret value of `recipes` (of 6
// bytes or more) replaced by "***".
std::string maskSecrets(std::string_view text, const std::vector<Recipe>& recipes);

}  // namespace jobtape
