// The `jobtape` command: parses arguments and turns every failure into one
// `jobtape: error: ...` line. Subcommands live in their own files.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <exception>
#include <initializer_list>
#include <iostream>
#include <jobtape/events.h>
#include <jobtape/inspect.h>
#include <jobtape/recorder.h>
#include <jobtape/text.h>
#include <string>
#include <string_view>

#include "cli/cli_context.h"
#include "cli/cli_error.h"
#include "cli/cli_support.h"
#include "cli/completion.h"
#include "cli/usage_errors.h"

namespace {

void printError(const std::string& message, const std::string& hint = {}) {
  std::cerr << "jobtape: error: " << message;
  if (!hint.empty()) std::cerr << "; " << hint;
  std::cerr << '\n';
}

// CLI11 messages are multi-line sometimes; keep the first line.
std::string firstLine(const std::string& text) {
  auto end = text.find('\n');
  return end == std::string::npos ? text : text.substr(0, end);
}

// The words come from the command line: escaped before they reach a terminal.
int usageFailure(const jobtape::cli::UsageProblem& problem) {
  printError(jobtape::escapeControl(problem.message), jobtape::escapeControl(problem.hint));
  return 2;
}

// `jobtape help [COMMAND...]` prints that command's --help.
int printHelp(const CLI::App& app, const std::vector<std::string>& words) {
  jobtape::cli::WordWalk target = jobtape::cli::helpTarget(app, words);
  if (target.problem) return usageFailure(*target.problem);
  // CLI11 names a subcommand's usage line after the words before it.
  std::string before = target.path.substr(0, target.path.rfind(' '));
  std::cout << (target.command == &app ? app.help() : target.command->help(before));
  return 0;
}

// The top-level command the words name, after the global options; empty
// when they name none (help, --version, a typo). Only that command's options
// are built (all of them cost a tenth of a `jobtape run -- true`); help,
// completion and anything else get the whole tree, which they walk.
std::string lazilyBuilt(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view word = argv[i];
    if (word == "--home") {
      ++i;
    } else if (!word.starts_with("--home=")) {
      for (const char* command : {"run", "job", "build", "gc", "history"}) {
        if (word == command) return command;
      }
      return {};
    }
  }
  return {};
}

int runMain(int argc, char** argv) {
  using namespace jobtape::cli;
  CliContext context;
  context.argv.assign(argv, argv + argc);
  context.stdoutIsTerminal = isatty(STDOUT_FILENO) == 1;
  const char* noColour = std::getenv("NO_COLOR");
  context.colour = context.stdoutIsTerminal && !(noColour && *noColour);

  CLI::App app{"jobtape: record sandboxed build jobs and find them again", "jobtape"};
  useQuietHelpFormatter(app);  // before the subcommands: they copy it
  app.set_version_flag("--version", std::string("jobtape ") + jobtape::version());
  app.require_subcommand(1);
  app.option_defaults()->always_capture_default(false);
  app.add_option_function<std::string>(
      "--home", [&](const std::string& dir) { context.home = dir; },
      "Data directory (default: $JOBTAPE_HOME, else $XDG_STATE_HOME/jobtape)");

  const std::string only = lazilyBuilt(argc, argv);
  auto wanted = [&](std::initializer_list<std::string_view> commands) {
    return only.empty() || std::find(commands.begin(), commands.end(), only) != commands.end();
  };
  if (wanted({"run"})) registerRunCommand(app, context);
  if (wanted({"job"})) {
    CLI::App* job = app.add_subcommand("job", "Find a recorded job and look at it, re-enter or retry it");
    job->require_subcommand(1);
    registerJobViewCommands(*job, context);
    registerJobActionCommands(*job, context);
  }
  if (wanted({"build"})) {
    CLI::App* build = app.add_subcommand("build", "List, show, trace and check builds");
    build->require_subcommand(1);
    registerBuildCommands(*build, context);
  }
  if (wanted({"gc", "history"})) registerMaintenanceCommands(app, context);
  if (only.empty()) registerCompletionCommands(app, context);

  std::vector<std::string> words(argv + 1, argv + argc);
  WordWalk walk = checkWords(app, words);
  if (walk.problem) return usageFailure(*walk.problem);
  if (walk.help) return printHelp(app, walk.helpWords);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::CallForVersion&) {
    std::cout << app.version() << '\n';
    return 0;
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) return app.exit(error);
    return usageFailure(describeParseError(error, walk));
  }
  if (!context.action) return usageFailure({"no command given", "see 'jobtape --help'"});
  return context.action();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return runMain(argc, argv);
  } catch (const jobtape::cli::CliError& error) {
    printError(error.what(), error.hint());
    return error.exitStatus();
  } catch (const jobtape::HomeError& error) {
    // Found in the middle of a command (a damaged page read late).
    printError(jobtape::escapeControl(error.what()), jobtape::escapeControl(error.hint()));
    return 1;
  } catch (const jobtape::DamagedRecordError& error) {
    printError(jobtape::escapeControl(error.what()),
               "jobtape uses no file through it; 'jobtape gc' removes such a row once it is old enough");
    return 1;
  } catch (const jobtape::EventsFileError& error) {
    printError(jobtape::escapeControl(error.what()),
               error.gone() ? "it was removed (jobtape gc?); 'jobtape job show' still has its summary"
                            : "pass a job selector or the path of an events.bin.zst");
    return 1;
  } catch (const std::exception& error) {
    printError(firstLine(error.what()));
    return 1;
  } catch (...) {
    printError("unexpected failure");
    return 1;
  }
}
