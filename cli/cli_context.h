// What every subcommand shares: global options and the action to run after
// parsing. Subcommand files register themselves with a register*() function.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace CLI { class App; }

namespace jobtape::cli {

struct CliContext {
  std::optional<std::filesystem::path> home;  // --home
  std::vector<std::string> argv;              // as typed, for the build's recorded command line
  bool stdoutIsTerminal = false;
  bool colour = false;  // terminal and no NO_COLOR
  // Set by the chosen subcommand's parse callback; its return is the exit status.
  std::function<int()> action;
};

// `jobtape run` (run_command.cc).
void registerRunCommand(CLI::App& app, CliContext& context);
// `jobtape job list|show|logs|replay` (job_commands.cc); `job` is the group.
void registerJobViewCommands(CLI::App& job, CliContext& context);
// `jobtape job logs|replay` (job_output_commands.cc), through the above.
void registerJobOutputCommands(CLI::App& job, CliContext& context);
// `jobtape job debug-shell|retry` (job_actions.cc).
void registerJobActionCommands(CLI::App& job, CliContext& context);
// `jobtape build list|show|trace|check` (build_commands.cc); `build` is the group.
void registerBuildCommands(CLI::App& build, CliContext& context);
// `jobtape gc`, `jobtape history` (maintenance_commands.cc).
void registerMaintenanceCommands(CLI::App& app, CliContext& context);

}  // namespace jobtape::cli
