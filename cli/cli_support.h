// Helpers every subcommand shares: opening the home, resolving selectors,
// and formatting for people (relative times, colour). Escaping, durations
// and timestamps are the library's (<jobtape/text.h>).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <jobtape/inspect.h>
#include <jobtape/recorder.h>
#include <jobtape/text.h>

#include "cli/cli_context.h"

namespace jobtape::cli {

// Opens the home at --home for reading (nothing is created). Its refusals
// become a CliError naming the file and the fix. With `refuseForeign`, a
// directory that holds files but no store is refused too (a mistyped --home
// or JOBTAPE_HOME), rather than read as "no jobs recorded yet".
std::unique_ptr<Home> openHome(const CliContext& context, bool refuseForeign = false);

// A selector that names nothing (or too much), said git style: the error
// line, then the candidates one a line on stderr; without candidates the
// error says to see `listCommand` ("jobtape job list").
[[noreturn]] void throwSelectorError(const SelectorError& error, const std::string& listCommand);
// Resolves a job selector (SelectorError as above).
SelectedJob resolveJob(Home& home, const std::optional<std::string>& selector);
// The job to follow: without a selector the running one, else the failed one.
SelectedJob resolveJobToFollow(Home& home, const std::optional<std::string>& selector);

// "3 min ago", "2 h ago", "5 d ago"; "just now" under 10 s
std::string formatRelative(int64_t unixMs, int64_t nowUnixMs);
int64_t nowUnixMs();

enum class Colour { none, red, green, yellow, blue, dim, bold };
// Wraps text in an ANSI colour when context.colour is set.
std::string colourize(const CliContext& context, Colour colour, std::string_view text);
Colour statusColour(JobStatus status);

// "exit 2", "killed by SIGTERM", "stopped by SIGINT", or the outcome's message.
std::string failureReason(const JobResult& result);
// The last line after a failed job (`run`, `job retry`), with no path to copy:
// "jobtape: job 01JD4X7Q failed (exit 2); see: jobtape job logs[ 01JD4X7Q]".
std::string failureHintLine(const CliContext& context, const std::string& shortId, const JobResult& result,
                            bool withSelector);

}  // namespace jobtape::cli
