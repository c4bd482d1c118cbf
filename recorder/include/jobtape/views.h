// Recorded jobs and builds put into words and JSON, as `jobtape job logs`,
// `job show`, `job replay` and the --json listings print them. Everything is
// written to a std::ostream or returned as text; nothing here knows a
// terminal, except that text from outside is escaped (escapeControl,
// <jobtape/text.h>) where a person reads it. The JSON shapes are documented
// in docs/JSON.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <jobtape/events.h>
#include <jobtape/inspect.h>
#include <jobtape/text.h>

namespace jobtape {

// ---- job report (`job show`) ---------------------------------------------------

// How text of the report is made for its reader; the defaults suit a
// terminal without colour.
struct ReportStyle {
  std::function<std::string(std::string_view)> escape = escapeControl;
  std::function<std::string(int64_t unixMs)> timestamp = formatTimestamp;
  std::function<std::string(int64_t milliseconds)> duration = formatDuration;
  // Decorates the status word ("failed"), e.g. with colour.
  std::function<std::string(std::string_view status)> status = [](std::string_view s) { return std::string(s); };
  // Decorates what failed (a non-zero exit, a signal), e.g. in red; and notes, e.g. dim.
  std::function<std::string(std::string_view text)> failure = [](std::string_view s) { return std::string(s); };
  std::function<std::string(std::string_view text)> note = [](std::string_view s) { return std::string(s); };
};

struct ReportOptions {
  bool json = false;        // one JSON object instead of text
  bool processes = false;   // also the tree of processes the job exec'd
  bool failedOnly = false;  // ... only the failing chains and their failing helpers
  bool env = false;         // the recipe's environment in text (JSON has it always)
  bool wide = false;        // commands in full
  size_t width = 100;       // else commands are shortened to this many columns
  ReportStyle style{};      // text only
};

// Everything known about the job: what failed first (<jobtape/what_failed.h>),
// then its record, build, recipe, outcome, times, resources and files. A missing or damaged events file of a recorded job is
// said in the report; an events file named by path must be one (throws
// EventsFileError).
void writeJobReport(Home& home, const SelectedJob& job, const ReportOptions& options, std::ostream& out);

// ---- logs (`job logs`) -------------------------------------------------------------

enum class LogFormat {
  text,  // the bytes as written, stdout and stderr interleaved as they came
  json,  // one JSON object an event
  cast,  // an asciinema v2 cast
};
// "text" | "json" | "cast"
std::optional<LogFormat> parseLogFormat(std::string_view name);

enum class StreamFilter { both, stdoutOnly, stderrOnly };

struct LogOptions {
  LogFormat format = LogFormat::text;
  StreamFilter streams = StreamFilter::both;
  // Text only: each line starts with "[   1.234s] ", the time since the start.
  bool timestamps = false;
  std::optional<size_t> tailLines{};  // only the last N lines
  // Keep writing a running job's output until it finishes; `out` is flushed
  // after each event.
  bool follow = false;
  unsigned castWidth = 80;  // the cast's terminal (the job had pipes, not a tty)
  unsigned castHeight = 24;
};

struct LogSummary {
  // What exec tracing missed. json writes it as an event; text and cast carry
  // only output, so the caller may say it aside (tracingShortfallText).
  std::optional<TracingShortfall> tracingIncomplete{};
  // With a tail: bytes dropped because its lines held more than 32 MiB (one
  // huge line keeps its last 32 MiB); the caller says so aside.
  uint64_t tailCutBytes = 0;
};

// Writes the events still to come from `events` as `options` say. Throws
// Error (Kind::invalidArgument) for timestamps with a format other than text,
// and whatever `out` throws.
LogSummary writeLogs(JobEvents& events, const LogOptions& options, std::ostream& out);

// "164 execs not recorded, 2 exits not followed (out of descriptors)", unescaped.
std::string tracingShortfallText(const TracingShortfall& shortfall);

// ---- replay (`job replay`) ----------------------------------------------------------

struct ReplayOptions {
  double speed = 1.0;                    // > 0 and finite
  std::optional<double> maxIdleSeconds;  // >= 0; longer recorded pauses shrink to it
};
// Throws Error (Kind::invalidArgument) with a one-line reason.
void validateReplayOptions(const ReplayOptions& options);

// Writes the output again with its recorded timing: stdout chunks to `out`,
// stderr chunks to `err`, each flushed as it is due. Returns the chunks written.
uint64_t replayOutput(JobEvents& events, const ReplayOptions& options, std::ostream& out, std::ostream& err);

// ---- JSON of the listings ------------------------------------------------------------

// `job list --json`: an array of job objects (with short ids and file paths).
// Throws DamagedRecordError for a damaged row among them.
std::string jobListJson(Home& home, const std::vector<JobRecord>& jobs);
// `build list --json`: an array of build objects with their nested builds.
std::string buildListJson(const std::vector<BuildTree>& builds);
// `build show --json`: the build object, each build with its jobs too.
std::string buildShowJson(Home& home, const BuildTree& build);
// `build check --json`: the verdict and the builds it looked at.
std::string buildCheckJson(const FailureCheck& check);
// `history --json`, and the two CSV files of `history --csv` (RFC 4180).
std::string historyJson(const std::vector<DayStats>& days);
std::string historyBuildsCsv(const std::vector<DayStats>& days);
std::string historyJobsCsv(const std::vector<DayStats>& days);

}  // namespace jobtape
