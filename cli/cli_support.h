// Helpers every subcommand shares: opening the store, resolving selectors,
// and formatting for people (durations, relative times, colour, escaping).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <jobtape/recorder.h>

#include "cli/cli_context.h"
#include "store/selector.h"
#include "store/store.h"

namespace jobtape::cli {

// Opens (creating if needed) the store at the context's home. Store errors
// become a CliError naming the file.
std::unique_ptr<store::Store> openStore(const CliContext& context);
// Opens the store only if jobtape.db exists (read commands on a fresh home).
std::unique_ptr<store::Store> openExistingStore(const CliContext& context);
// Without a store: a home that holds other files and no jobtape.db is not a
// store at all (a mistyped --home or JOBTAPE_HOME), said as an error rather
// than as "no jobs recorded yet".
void refuseForeignHome(const CliContext& context);

// Resolves a job selector; SelectorError becomes CliError (message = first
// line, the candidate lines follow on stderr before it is thrown).
store::Selection resolveJob(store::Store* store, const std::optional<std::string>& selector);

// "1.2s", "3m04s", "1h02m"
std::string formatDuration(int64_t milliseconds);
// "3 min ago", "2 h ago", "5 d ago"; "just now" under 10 s
std::string formatRelative(int64_t unixMs, int64_t nowUnixMs);
// Local time "2026-11-22 14:03:07"
std::string formatTimestamp(int64_t unixMs);
int64_t nowUnixMs();

// Control characters (and invalid UTF-8) as \n, \t, \x1b...: safe on a terminal.
std::string escapeControl(std::string_view text);

enum class Colour { none, red, green, yellow, blue, dim, bold };
// Wraps text in an ANSI colour when context.colour is set.
std::string colourize(const CliContext& context, Colour colour, std::string_view text);
Colour statusColour(store::JobStatus status);

// "exit 2", "killed by SIGTERM", "stopped by SIGINT", or the outcome's message.
std::string failureReason(const JobResult& result);
// The last line after a failed job (`run`, `job retry`), with no path to copy:
// "jobtape: job 01JD4X7Q failed (exit 2); see: jobtape job logs[ 01JD4X7Q]".
std::string failureHintLine(const CliContext& context, const std::string& shortId, const JobResult& result,
                            bool withSelector);

}  // namespace jobtape::cli
