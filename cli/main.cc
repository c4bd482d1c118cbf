// The `jobtape` command: parses arguments and turns every failure into one
// `jobtape: error: ...` line. Subcommands live in their own files.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <jobtape/recorder.h>
#include <string>

#include "cli/cli_context.h"
#include "cli/cli_error.h"

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

int runMain(int argc, char** argv) {
  using namespace jobtape::cli;
  CliContext context;
  context.stdoutIsTerminal = isatty(STDOUT_FILENO) == 1;
  const char* noColour = std::getenv("NO_COLOR");
  context.colour = context.stdoutIsTerminal && !(noColour && *noColour);

  CLI::App app{"jobtape: record sandboxed build jobs and find them again", "jobtape"};
  app.set_version_flag("--version", std::string("jobtape ") + jobtape::version());
  app.require_subcommand(1);
  app.option_defaults()->always_capture_default(false);
  app.add_option_function<std::string>(
      "--home", [&](const std::string& dir) { context.home = dir; },
      "Data directory (default: $JOBTAPE_HOME, else $XDG_STATE_HOME/jobtape)");

  registerRunCommand(app, context);
  CLI::App* job = app.add_subcommand("job", "Find a recorded job and look at it, re-enter or retry it");
  job->require_subcommand(1);
  registerJobViewCommands(*job, context);
  registerJobActionCommands(*job, context);
  CLI::App* build = app.add_subcommand("build", "List, show, trace and check builds");
  build->require_subcommand(1);
  registerBuildCommands(*build, context);
  registerMaintenanceCommands(app, context);

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
    printError(firstLine(error.what()), "see 'jobtape --help'");
    return 2;
  }
  if (!context.action) {
    printError("no command given", "see 'jobtape --help'");
    return 2;
  }
  return context.action();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return runMain(argc, argv);
  } catch (const jobtape::cli::CliError& error) {
    printError(error.what(), error.hint());
    return error.exitStatus();
  } catch (const std::exception& error) {
    printError(firstLine(error.what()));
    return 1;
  } catch (...) {
    printError("unexpected failure");
    return 1;
  }
}
