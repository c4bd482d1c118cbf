// The command tree as shell completion needs it, read from the CLI11
// definitions so the completion scripts cannot drift from the parser:
// every command's subcommands, options (which take a value, and which
// values when the option names them, "text|json|cast"), and whether it takes
// a job selector (completed from the store at TAB time).
#pragma once

#include <string>
#include <vector>

namespace CLI { class App; }

namespace jobtape::cli {

struct CompletionOption {
  std::vector<std::string> names;  // "--follow", "-f"
  std::string description;         // one line, for zsh and fish
  bool takesValue = false;
  std::vector<std::string> values;  // the fixed values, when the option lists them
};

struct CompletionCommand {
  std::string path;  // "" for jobtape itself, "job show"
  std::string description;
  std::vector<std::string> subcommands;  // in the order they were defined
  std::vector<CompletionOption> options;  // --help included
  bool takesJobSelector = false;  // a SEL positional
};

// Every command reachable from `root`, root first, parents before children.
// Hidden commands (no help group) are left out; `help` is a command of root.
std::vector<CompletionCommand> completionTree(const CLI::App& root);

// The names of the commands users can type under `group`, hidden ones left
// out: what help, errors and completion offer.
std::vector<std::string> visibleCommandNames(const CLI::App& group);

}  // namespace jobtape::cli
