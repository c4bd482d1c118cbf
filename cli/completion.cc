#include "cli/completion.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <jobtape/inspect.h>
#include <jobtape/text.h>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cli/cli_error.h"
#include "cli/completion_scripts.h"
#include "cli/completion_tree.h"

namespace jobtape::cli {

namespace {

constexpr int kRecentJobs = 20;  // whose short ids and names are offered
constexpr int kNthFailed = 9;    // -1 .. -9 at most

// The scripts put these words on the user's command line: only letters and
// digits get there, whatever the store says (a ULID prefix is nothing else).
bool safeWord(const std::string& word) {
  return !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  });
}

// Any job may name itself anything: a name is offered only when it can stand
// unquoted on a command line, so that neither the script nor the shell the
// completed line is run in reads anything in it but text.
bool safeName(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           std::string_view("._-+/@,=").find(c) != std::string_view::npos;
  });
}

// The listing is newest first: a name is offered once, where the job its
// selector picks stands.
void addNames(const JobListing& listing, std::vector<std::string>& words) {
  std::vector<std::string> seen;
  for (const JobRecord& job : listing.jobs) {
    if (!safeName(job.name) || std::find(seen.begin(), seen.end(), job.name) != seen.end()) continue;
    seen.push_back(job.name);
    words.push_back("name:" + job.name);
  }
}

// Completion runs at every TAB: nothing it meets (no store, a store it may
// not read, a damaged row) is worth an error in the middle of a prompt.
void printSelectors(const CliContext& context) {
  std::unique_ptr<Home> home;
  try {
    home = Home::open({context.home});
  } catch (const std::exception&) {
    return;
  }
  if (!home->hasStore()) return;
  std::vector<std::string> words{"failed", "last"};
  try {
    JobListing listing = home->jobs({.limit = kRecentJobs});
    int failed = static_cast<int>(std::count_if(listing.jobs.begin(), listing.jobs.end(), [](const JobRecord& job) {
      return job.status == JobStatus::failed || job.status == JobStatus::abandoned;
    }));
    for (int n = 1; n <= std::min(failed, kNthFailed); ++n) words.push_back("-" + std::to_string(n));
    for (const JobRecord& job : listing.jobs) {
      std::string shortId = home->shortId(job.id);
      if (safeWord(shortId)) words.push_back(shortId);
    }
    addNames(listing, words);
  } catch (const std::exception&) {
    // what was gathered so far is still right
  }
  for (const std::string& word : words) std::cout << word << '\n';
}

std::string shellList() {
  std::string list;
  for (const std::string& shell : completionShells()) list += (list.empty() ? "" : ", ") + shell;
  return list;
}

}  // namespace

void registerCompletionCommands(CLI::App& app, CliContext& context) {
  auto shell = std::make_shared<std::string>();
  CLI::App* completion = app.add_subcommand("completion", "Print a shell completion script (bash, zsh, fish)");
  completion->add_option("shell", *shell, "bash, zsh or fish")->type_name("SHELL");
  completion->callback([&app, &context, shell] {
    context.action = [&app, shell] {
      if (shell->empty()) {
        throw usageError("'jobtape completion' needs a shell: " + shellList(), "e.g. 'jobtape completion bash'");
      }
      std::optional<std::string> script = completionScript(*shell, completionTree(app));
      if (!script) {
        throw usageError("no completion for shell '" + escapeControl(*shell) + "'",
                         "the shells are " + shellList() + ", e.g. 'jobtape completion bash'");
      }
      std::cout << *script;
      return 0;
    };
  });

  CLI::App* selectors = app.add_subcommand("__complete-selectors", "Job selectors to complete, one a line");
  selectors->group("");  // for the completion scripts, not for people
  selectors->allow_extras();  // the word being completed may be passed; the scripts filter
  selectors->callback([&context] {
    context.action = [&context] {
      printSelectors(context);
      return 0;
    };
  });
}

}  // namespace jobtape::cli
