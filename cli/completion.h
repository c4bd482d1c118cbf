// `jobtape completion bash|zsh|fish` prints the shell's completion script;
// the hidden `jobtape __complete-selectors` prints the job selectors the
// scripts offer (keywords, -N, the short ids of recent jobs), one a line.
#pragma once

#include "cli/cli_context.h"

namespace jobtape::cli {

// Registered last: the scripts describe every command registered before.
void registerCompletionCommands(CLI::App& app, CliContext& context);

}  // namespace jobtape::cli
