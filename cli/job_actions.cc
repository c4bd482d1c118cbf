// `jobtape job debug-shell` and `jobtape job retry`: act on a recorded job,
// through the library's actions (<jobtape/actions.h>) like any build tool
// would.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <jobtape/actions.h>
#include <jobtape/inspect.h>
#include <jobtape/recorder.h>
#include <jobtape/text.h>
#include <memory>

#include "cli/cli_context.h"
#include "cli/cli_error.h"
#include "cli/cli_support.h"
#include "cli/failure_summary.h"
#include "cli/job_selection.h"
#include "cli/stop_signals.h"
#include "cli/write_all.h"

namespace jobtape::cli {


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

// ---- which job ------------------------------------------------------------------

// Both actions run what the store recorded. An events file given by path is
// used only when it is the file of a job in this store; its own contents
// (host paths, mounts) are never trusted on their own.
JobRecord recordedJob(Home& home, const SelectedJob& selected, const char* command) {
  if (auto record = home.recordOf(selected)) return *record;
  throw CliError(fmt::format("{} is not the events file of a job in this store; 'job {}' rebuilds a job from the "
                             "store's record, never from a file alone",
                             selected.eventsFile.string(), command),
                 "pass --home of the store that recorded it, or select the job by its id");
}

std::string shortId(Home& home, const std::string& jobId) {
  try {
    return home.shortId(jobId);
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
  for (const auto& name : names) std::cerr << "jobtape: " << escapeControl(missingSecretWarning(name)) << '\n';
}

// ---- debug-shell ----------------------------------------------------------------

int debugShellAction(const CliContext& context, const SelectorAndCommand& args) {
  auto home = openHome(context);
  auto job = recordedJob(*home, resolveJob(*home, args.selector), "debug-shell");
  DebugShellOptions options;
  options.command = args.command;
  options.terminal = ::isatty(STDIN_FILENO) == 1;
  if (const char* term = std::getenv("TERM")) options.callerTerm = term;
  options.process = args.process;
  options.rerun = args.rerun;
  std::unique_ptr<DebugShell> shell;
  try {
    shell = DebugShell::plan(*home, job, options);
  } catch (const ActionRefused& refused) {
    throw CliError(escapeControl(refused.what()), refused.hint());
  }
  std::string id = shortId(*home, job.id);
  warnMissingSecrets(shell->missingSecrets());
  std::cerr << escapeControl(shell->banner(id)) << std::endl;
  for (const auto& line : shell->processLines()) std::cerr << escapeControl(line) << '\n';

  CancelToken token;
  StopSignals signals(token);
  DebugShellResult result;
  try {
    result = shell->run(&token);
  } catch (const Error& error) {
    if (error.kind() != Error::Kind::sandbox) throw;
    throw CliError(fmt::format("cannot start the sandbox of job {}: {}", id, error.what()),
                   "check that unprivileged user namespaces are enabled");
  }
  switch (result.outcome) {
    case Outcome::setupFailed:
      std::cerr << fmt::format("jobtape: error: cannot rebuild the sandbox of job {}: {}; the host may have changed "
                               "since the job ran (a bind source gone?)\n",
                               id, escapeControl(result.message));
      return result.exitCode != 0 ? result.exitCode : 1;
    case Outcome::commandNotFound:
    case Outcome::notExecutable:
      std::cerr << fmt::format("jobtape: error: {}: {} in the sandbox of job {}\n",
                               escapeControl(shell->recipe().command),
                               result.outcome == Outcome::commandNotFound ? "command not found" : "not executable", id);
      return result.exitCode;
    case Outcome::seccompViolation:
      std::cerr << fmt::format("jobtape: error: blocked system call {} in the sandbox of job {}\n",
                               escapeControl(result.violatingSyscall), id);
      return result.exitCode;
    default: return result.exitCode;
  }
}

// ---- retry ----------------------------------------------------------------------

int retryAction(const CliContext& context, const std::optional<std::string>& selector, bool noSandbox) {
  auto home = openHome(context);
  auto job = recordedJob(*home, resolveJob(*home, selector), "retry");
  // The recorded recipe, no more: validated as a user's recipe file, and
  // without a sandbox only when the caller says so again.
  RetryPlan plan;
  try {
    plan = planRetry(*home, job);
  } catch (const ActionRefused& refused) {
    throw CliError(escapeControl(refused.what()), "the job cannot be run again from this store");
  }
  if (!plan.recipe.sandboxed && !noSandbox) {
    throw CliError(fmt::format("job {} was recorded without a sandbox; retry runs it so only when asked", job.id),
                   fmt::format("'jobtape job retry --no-sandbox {}' runs it on the host, unsandboxed", job.id));
  }
  std::string oldId = shortId(*home, job.id);
  std::cerr << fmt::format("jobtape: retrying job {} ({}) as a new build\n", oldId,
                           escapeControl(displayCommand(plan.recipe.command, plan.recipe.args)));
  warnMissingSecrets(plan.missingSecrets);
  plan.build.commandLine = "jobtape job retry " + job.id;
  JobResult result;
  try {
    CancelToken token;
    StopSignals signals(token);
    JobOptions options;
    options.cancel = &token;
    options.allowUnsandboxed = noSandbox;  // asked again above
    options.onOutput = [](const JobInfo&, OutputStream stream, std::string_view bytes) {
      // A closed pipe stops the echo, not the job.
      writeAll(stream == OutputStream::stdout_ ? STDOUT_FILENO : STDERR_FILENO, bytes);
    };
    result = retryJob(plan, options);
  } catch (const Error& error) {
    // A job recorded without the sandbox is not run on the host on the
    // store's word: the caller says so again.
    if (error.field() == "sandboxed") {
      throw CliError(fmt::format("cannot retry job {}: it ran without the sandbox", oldId),
                     fmt::format("run its command again with 'jobtape run --no-sandbox -- ...' in {}",
                                 escapeControl(plan.recipe.workDir)));
    }
    throw CliError(fmt::format("cannot retry job {}: {}", oldId, error.what()),
                   error.kind() == Error::Kind::recipe ? "the recorded recipe is no longer valid on this host"
                                                       : "check the store's directory or pass --home DIR");
  }
  if (!result.succeeded) printFailedJobs(context, {{&result, shortId(*home, result.jobId)}}, false);
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
