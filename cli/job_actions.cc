// `jobtape job debug-shell` and `jobtape job retry`: act on a recorded job.
// The sandbox is rebuilt by recorder/inspect/debug_shell; retry goes through the
// public Recorder API like any build tool would.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <jobtape/recorder.h>
#include <memory>
#include <system_error>

#include "cli/cli_context.h"
#include "cli/cli_error.h"
#include "cli/cli_support.h"
#include "cli/failure_summary.h"
#include "cli/job_selection.h"
#include "recorder/inspect/debug_shell.h"
#include "recorder/events/event_reader.h"
#include "recorder/job_command_line.h"
#include "recorder/secret_env.h"
#include "sandbox/recipe.h"

namespace jobtape::cli {

namespace fs = std::filesystem;

namespace {

// ---- arguments: [SEL] [-- COMMAND...] -----------------------------------------

// CLI11 hands every word after `--` to the positionals, so `-- cat f` and
// `SEL -- cat f` both fill "selector" first. A check on the selector that
// CLI11 runs while it parses (validate_positionals) tells the two apart: it
// sees whether `--` had already gone by when the selector's word came.
struct SelectorAndCommand {
  std::optional<std::string> selector;
  std::vector<std::string> command;
  bool selectorCameAfterMark = false;
  bool checked = false;
  bool noSandbox = false;  // retry: the caller allows a recipe recorded without a sandbox
  std::optional<int> process;  // debug-shell --process PID
  bool rerun = false;          // ... with a bare `--`: run that process's command again
};

void addSelectorAndCommand(CLI::App& sub, const std::shared_ptr<SelectorAndCommand>& args, bool takesCommand) {
  if (!takesCommand) {
    sub.add_option("selector", args->selector, "Which job (default: the most recent failed one)")->type_name("SEL");
    return;
  }
  sub.allow_extras();
  sub.validate_positionals();
  CLI::App* app = &sub;
  CLI::Validator noteMark(
      [args, app](std::string&) {
        if (!args->checked) {
          args->checked = true;
          for (const auto& word : app->remaining()) args->selectorCameAfterMark |= word == "--";
        }
        return std::string();
      },
      "", "");
  sub.add_option("selector", args->selector, "Which job (default: the most recent failed one)")
      ->type_name("SEL")
      ->check(noteMark);
  sub.add_option("command", args->command, "Run this instead of a shell, after --")->type_name("COMMAND");
}

// After parsing: words before `--` are the selector, words after it the command.
void settleSelectorAndCommand(CLI::App& sub, SelectorAndCommand& args) {
  bool mark = false;
  for (const auto& word : sub.remaining()) {
    if (word == "--") {
      mark = true;
      continue;
    }
    throw usageError(fmt::format("unknown option {}", word), "see 'jobtape job debug-shell --help'");
  }
  if (args.selectorCameAfterMark && args.selector) {
    args.command.insert(args.command.begin(), *args.selector);
    args.selector.reset();
  }
  if (!mark && !args.command.empty()) {
    throw usageError(fmt::format("unexpected argument '{}'", args.command.front()),
                     "put the command after --: jobtape job debug-shell [SEL] -- COMMAND...");
  }
  if (mark && args.command.empty()) {
    if (!args.process) throw usageError("no command after --", "leave out -- for an interactive shell");
    args.rerun = true;
  }
}

// ---- signals -------------------------------------------------------------------

std::atomic<sandbox::Cancellation*> activeCancellation{nullptr};
std::atomic<CancelToken*> activeToken{nullptr};

extern "C" void onStopSignal(int signal) {
  if (auto* cancellation = activeCancellation.load()) cancellation->request(signal);
  if (auto* token = activeToken.load()) token->request(signal);
}

// A handler that does nothing: SIGPIPE then turns into EPIPE for our echo of
// the job's output, and, unlike SIG_IGN, it is reset in what the job execs.
extern "C" void onBrokenPipe(int) {}

// SIGINT, SIGTERM and SIGHUP stop the job's tree (through whichever of the
// two is set); a closed stdout stops only our echo. The previous
// dispositions come back at the end.
class StopSignals {
 public:
  StopSignals() {
    for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) {
      struct sigaction action {};
      action.sa_handler = signal == SIGPIPE ? onBrokenPipe : onStopSignal;
      action.sa_flags = SA_RESTART;
      sigemptyset(&action.sa_mask);
      struct sigaction previous {};
      if (::sigaction(signal, &action, &previous) == 0) previous_.emplace_back(signal, previous);
    }
  }
  ~StopSignals() {
    for (auto& [signal, previous] : previous_) ::sigaction(signal, &previous, nullptr);
    activeCancellation.store(nullptr);
    activeToken.store(nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  std::vector<std::pair<int, struct sigaction>> previous_;
};

// ---- which job ------------------------------------------------------------------

// Both actions run what the store recorded. An events file given by path is
// used only when it is the file of a job in this store; its own contents
// (host paths, mounts) are never trusted on their own.
store::JobRow recordedJob(store::Store* store, const store::Selection& selection, const char* command) {
  if (const auto* row = std::get_if<store::JobRow>(&selection)) {
    jobDirOf(*store, *row);  // refuses a damaged row
    return *row;
  }
  const auto& path = std::get<store::EventsFileSelection>(selection).path;
  auto reader = recorder::EventReader::tryOpen(path);
  std::optional<store::JobRow> row;
  if (reader && store) row = store->job(reader->description().jobId);
  std::error_code ec;
  if (row && fs::equivalent(jobDirOf(*store, *row) / store::kEventsFileName, path, ec) && !ec) return *row;
  throw CliError(fmt::format("{} is not the events file of a job in this store; 'job {}' rebuilds a job from the "
                             "store's record, never from a file alone",
                             path.string(), command),
                 "pass --home of the store that recorded it, or select the job by its id");
}

std::string shortId(store::Store& store, const std::string& jobId) {
  try {
    return store.shortestUniquePrefix(jobId);
  } catch (const std::exception&) {
    return jobId.substr(0, 10);
  }
}

// Secret variables are recorded as "***" and come from the caller's
// environment when a job is re-entered or retried; one the caller does not
// have is left out, said once, and the job runs on: a job that needs it fails
// with its own words, one that does not (a token for an optional upload)
// still runs.
void warnMissingSecrets(const std::vector<std::string>& names) {
  for (const auto& name : names) std::cerr << "jobtape: " << escapeControl(recorder::missingSecretWarning(name)) << '\n';
}

// ---- debug-shell ----------------------------------------------------------------

int debugShellAction(const CliContext& context, const SelectorAndCommand& args) {
  auto store = openExistingStore(context);
  auto job = recordedJob(store.get(), resolveJob(store.get(), args.selector), "debug-shell");
  recorder::DebugShellRequest request;
  request.command = args.command;
  request.terminal = ::isatty(STDIN_FILENO) == 1;
  if (const char* term = std::getenv("TERM")) request.callerTerm = term;
  request.process = args.process;
  request.rerun = args.rerun;
  recorder::DebugShellPlan plan;
  try {
    plan = recorder::planDebugShell(store->home(), job, request);
  } catch (const recorder::DebugShellRefused& refused) {
    throw CliError(escapeControl(refused.what()), refused.hint());
  }
  std::string id = shortId(*store, job.id);
  warnMissingSecrets(plan.missingSecrets);
  std::cerr << escapeControl(recorder::debugShellBanner(plan, id)) << std::endl;
  for (const auto& line : recorder::debugShellProcessLines(plan)) std::cerr << escapeControl(line) << '\n';

  sandbox::Cancellation cancellation;
  StopSignals signals;
  activeCancellation.store(&cancellation);
  sandbox::RunResult result;
  try {
    result = recorder::runDebugShell(plan, &cancellation);
  } catch (const std::system_error& error) {
    throw CliError(fmt::format("cannot start the sandbox of job {}: {}", id, error.what()),
                   "check that unprivileged user namespaces are enabled");
  }
  switch (result.outcome) {
    case sandbox::Outcome::setupFailed:
      std::cerr << fmt::format("jobtape: error: cannot rebuild the sandbox of job {}: {}; the host may have changed "
                               "since the job ran (a bind source gone?)\n",
                               id, escapeControl(result.message));
      return result.exitCode != 0 ? result.exitCode : 1;
    case sandbox::Outcome::commandNotFound:
    case sandbox::Outcome::notExecutable:
      std::cerr << fmt::format("jobtape: error: {}: {} in the sandbox of job {}\n", escapeControl(plan.recipe.command),
                               result.outcome == sandbox::Outcome::commandNotFound ? "command not found" : "not executable",
                               id);
      return result.exitCode;
    case sandbox::Outcome::seccompViolation:
      std::cerr << fmt::format("jobtape: error: blocked system call {} in the sandbox of job {}\n",
                               escapeControl(result.violatingSyscall), id);
      return result.exitCode;
    default: return result.exitCode;
  }
}

// ---- retry ----------------------------------------------------------------------

void writeAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;  // a closed pipe stops the echo, not the job
    bytes.remove_prefix(static_cast<size_t>(written));
  }
}


ProjectOptions projectOf(store::Store& store, const store::JobRow& job, const Recipe& recipe) {
  for (const auto& project : store.projects(job.buildId)) {
    if (project.id != job.buildProjectId) continue;
    ProjectOptions options;
    if (!project.localProjectPath.empty()) options.localPath = project.localProjectPath;
    else options.registryName = project.registryProjectName;
    if (!project.projectHash.empty()) options.projectHash = project.projectHash;
    if (!options.localPath.empty() || !options.registryName.empty()) return options;
  }
  // The project row is gone: the recipe's work dir stands in for it.
  ProjectOptions fallback;
  fallback.localPath = recipe.workDir.empty() ? fs::current_path() : fs::path(recipe.workDir);
  return fallback;
}

// The recorded recipe, no more: validated as a user's recipe file, and
// without a sandbox only when the caller says so again.
Recipe retryRecipe(store::Store& store, const store::JobRow& job, bool noSandbox) {
  Recipe recipe;
  try {
    recipe = recorder::readRecordedRecipe(job, store.home());
  } catch (const recorder::DebugShellRefused& refused) {
    throw CliError(escapeControl(refused.what()), "the job cannot be run again from this store");
  }
  if (!recipe.sandboxed && !noSandbox) {
    throw CliError(fmt::format("job {} was recorded without a sandbox; retry runs it so only when asked", job.id),
                   fmt::format("'jobtape job retry --no-sandbox {}' runs it on the host, unsandboxed", job.id));
  }
  return recipe;
}

int retryAction(const CliContext& context, const std::optional<std::string>& selector, bool noSandbox) {
  auto store = openExistingStore(context);
  auto job = recordedJob(store.get(), resolveJob(store.get(), selector), "retry");
  Recipe recipe = retryRecipe(*store, job, noSandbox);
  std::string oldId = shortId(*store, job.id);
  std::cerr << fmt::format("jobtape: retrying job {} ({}) as a new build\n", oldId,
                           escapeControl(recorder::displayCommand(recipe.command, recipe.args)));
  warnMissingSecrets(recorder::restoreSecrets(recipe, recorder::callerEnv));
  JobResult result;
  try {
    CancelToken token;
    StopSignals signals;
    activeToken.store(&token);
    auto recorder = Recorder::open({context.home});
    BuildOptions buildOptions;
    buildOptions.commandLine = "jobtape job retry " + job.id;
    buildOptions.cwd = fs::current_path();
    buildOptions.retryOf = job.buildId;
    auto build = recorder->beginBuild(buildOptions);
    int64_t projectId = build->addProject(projectOf(*store, job, recipe));
    JobOptions options;
    options.cancel = &token;
    options.allowUnsandboxed = noSandbox;  // asked again above
    options.onOutput = [](const JobInfo&, OutputStream stream, std::string_view bytes) {
      writeAll(stream == OutputStream::stdout_ ? STDOUT_FILENO : STDERR_FILENO, bytes);
    };
    result = build->run(recipe, projectId, options);
    build->finish();
  } catch (const Error& error) {
    // A job recorded without the sandbox is not run on the host on the
    // store's word: the caller says so again.
    if (error.field() == "sandboxed") {
      throw CliError(fmt::format("cannot retry job {}: it ran without the sandbox", oldId),
                     fmt::format("run its command again with 'jobtape run --no-sandbox -- ...' in {}",
                                 escapeControl(recipe.workDir)));
    }
    throw CliError(fmt::format("cannot retry job {}: {}", oldId, error.what()),
                   error.kind() == Error::Kind::recipe ? "the recorded recipe is no longer valid on this host"
                                                       : "check the store's directory or pass --home DIR");
  }
  if (!result.succeeded) printFailedJobs(context, {{&result, shortId(*store, result.jobId)}}, false);
  return result.exitCode;
}

}  // namespace

void registerJobActionCommands(CLI::App& job, CliContext& context) {
  {
    auto args = std::make_shared<SelectorAndCommand>();
    CLI::App* shell = job.add_subcommand(
        "debug-shell", "Open a shell (or run a command) in a failed job's sandbox, as the job left it");
    shell->footer(
        "Usage: jobtape job debug-shell [SEL] [--process PID] [-- [COMMAND...]]\n"
        "The sandbox is rebuilt from the store's record of the job: same mounts, environment,\n"
        "work dir and uid, and its kept /tmp. Changes in read-write host directories are real.\n"
        "--process PID starts in that process's directory with its command in the shell's history;\n"
        "with a bare -- after it, its command is run again and its status is the exit status.");
    addSelectorAndCommand(*shell, args, true);
    shell->add_option("--process", args->process, "Start at this process of the job (its pid in job show)")
        ->type_name("PID");
    shell->callback([args, shell, &context] {
      settleSelectorAndCommand(*shell, *args);
      context.action = [args, &context] { return debugShellAction(context, *args); };
    });
  }
  {
    auto args = std::make_shared<SelectorAndCommand>();
    CLI::App* retry = job.add_subcommand("retry", "Run a job's recorded recipe again, as a new build");
    addSelectorAndCommand(*retry, args, false);
    retry->add_flag("--no-sandbox", args->noSandbox,
                    "Allow a job that was recorded without a sandbox to run again without one");
    retry->callback([args, &context] {
      context.action = [args, &context] { return retryAction(context, args->selector, args->noSandbox); };
    });
  }
}

}  // namespace jobtape::cli
