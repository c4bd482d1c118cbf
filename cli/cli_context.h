// What every subcommand shares: global options and the action to run after
// parsing. Subcommand files register themselves with a register*() function.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace CLI { class App; }

namespace jobtape::cli {

struct CliContext {
  std::optional<std::filesystem::path> home;  // --home
  bool stdoutIsTerminal = false;
  bool colour = false;  // terminal and no NO_COLOR
  // Set by the chosen subcommand's parse callback; its return is the exit status.
  std::function<int()> action;
};

void registerRunCommand(CLI::App& app, CliContext& context);
void registerJobCommands(CLI::App& app, CliContext& context);
void registerBuildCommands(CLI::App& app, CliContext& context);
void registerMaintenanceCommands(CLI::App& app, CliContext& context);  // gc, history

}  // namespace jobtape::cli
