// The completion scripts of `jobtape completion bash|zsh|fish`, written from
// the command tree (completion_tree.h). The static part (commands, options,
// their fixed values) is data in the script; job selectors are asked of
// `jobtape [--home DIR] __complete-selectors` at TAB time.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/completion_tree.h"

namespace jobtape::cli {

// The shells there is a script for: "bash", "zsh", "fish".
const std::vector<std::string>& completionShells();

// nullopt for a shell not in completionShells().
std::optional<std::string> completionScript(const std::string& shell, const std::vector<CompletionCommand>& tree);

}  // namespace jobtape::cli
