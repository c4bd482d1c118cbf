// What `jobtape job list|show|logs|replay` share: the SEL argument, and the
// warnings about what a listing or a reading left out.
#pragma once

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <jobtape/events.h>
#include <jobtape/inspect.h>

#include "cli/cli_context.h"
#include "cli/cli_error.h"
#include "cli/cli_support.h"

namespace jobtape::cli {

struct SelectorArg {
  std::optional<std::string> value;
};

// Adds the optional SEL positional. A bare "-2" looks like an option to
// CLI11, so the command also accepts extras and takes a lone -N from them.
void addSelector(CLI::App& command, const std::shared_ptr<SelectorArg>& selector);
// Called from the command's callback: settles the selector from the extras.
void takeSelectorFromExtras(CLI::App& command, SelectorArg& selector);

// Sets the command's action, once its words are settled: the selector's from
// the extras, or no extras at all for a command without one.
template <typename Args, typename Run>
void onParsed(CLI::App& command, const std::shared_ptr<Args>& args, CliContext& context, Run run) {
  command.callback([&command, args, &context, run] {
    if constexpr (requires { args->selector; }) takeSelectorFromExtras(command, *args->selector);
    else if (!command.remaining().empty()) {
      throw usageError(fmt::format("unknown argument '{}'", escapeControl(command.remaining().front())),
                       "see 'jobtape job " + command.get_name() + " --help'");
    }
    context.action = [args, &context, run] { return run(*args, context); };
  });
}

void warn(const std::string& message);
// The listing's jobs; each damaged row it left out is said in a warning.
std::vector<JobRecord> withoutDamaged(JobListing listing);
// Warns of a damaged events file (not of a running job's last frame).
void warnIfDamaged(const JobEvents& events);

}  // namespace jobtape::cli
