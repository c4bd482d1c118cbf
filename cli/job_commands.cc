#include <CLI/CLI.hpp>

#include "cli/cli_context.h"

namespace jobtape::cli {

void registerJobViewCommands(CLI::App& app, CliContext& context) {
  (void)app;
  (void)context;
}

}  // namespace jobtape::cli
