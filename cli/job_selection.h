// What `jobtape job list|show|logs|replay` share: the SEL argument, finding
// the job it names and opening its events file.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fmt/format.h>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/cli_context.h"
#include "cli/cli_error.h"
#include "cli/cli_support.h"
#include "recorder/events/event_reader.h"
#include "recorder/inspect/job_json.h"
#include "store/job_dir.h"
#include "store/store.h"

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
// Marks dead recorders' jobs abandoned, unless the store cannot be written now.
void reapQuietly(store::Store* store);

// The job a selector named, and where its events file is.
struct Target {
  std::optional<store::JobRow> row;  // absent for an events-file path
  std::filesystem::path eventsFile;
};

// The job's directory (store/job_dir.h); a damaged row is refused with a
// CliError.
std::filesystem::path jobDirOf(store::Store& store, const store::JobRow& row);
// `rows` less the damaged ones, each said in a warning.
std::vector<store::JobRow> withoutDamagedRows(store::Store& store, std::vector<store::JobRow> rows);
// Its short id and files, as the JSON listings print them.
recorder::JobPaths jobPathsOf(store::Store& store, const store::JobRow& row);
Target resolveTarget(store::Store* store, const std::optional<std::string>& selector);
// Opens the events file. A job that has just started may not have written
// its first frame yet: give it a moment before calling the file broken.
std::unique_ptr<recorder::EventReader> openEvents(const Target& target);
// Whether the store says the job that wrote `description` still runs.
bool stillRunning(store::Store* store, const Target& target, const std::string& jobId);
// Warns of a damaged events file, unless its job is still writing it.
void warnIfDamaged(const recorder::EventReader& reader, store::Store* store, const Target& target);

}  // namespace jobtape::cli
