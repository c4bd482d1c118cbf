// `jobtape job logs|replay`: a recorded job's output, as it was written or
// with its original timing. Parsing and printing only; the rendering is the
// library's (<jobtape/views.h>).
#include <CLI/CLI.hpp>
#include <limits>
#include <cstdio>
#include <fmt/format.h>
#include <jobtape/views.h>
#include <memory>
#include <optional>
#include <string>

#include "cli/cli_context.h"
#include "cli/cli_error.h"
#include "cli/cli_support.h"
#include "cli/job_selection.h"
#include "cli/stdio_stream.h"

namespace jobtape::cli {

namespace {

// ---- job logs --------------------------------------------------------------

// --tail's value when the option is not given: every value a user can type,
// -1 included, is checked.
constexpr int64_t kTailNotGiven = std::numeric_limits<int64_t>::min();

struct LogsArgs {
  std::shared_ptr<SelectorArg> selector = std::make_shared<SelectorArg>();
  bool stdoutOnly = false;
  bool stderrOnly = false;
  bool timestamps = false;
  int64_t tail = kTailNotGiven;
  bool follow = false;
  std::string format = "text";
};

LogOptions logOptions(const LogsArgs& args) {
  LogOptions options;
  auto format = parseLogFormat(args.format);
  if (!format) {
    throw usageError(fmt::format("unknown log format '{}'", escapeControl(args.format)), "use text, json or cast");
  }
  options.format = *format;
  if (args.stdoutOnly) options.streams = StreamFilter::stdoutOnly;
  if (args.stderrOnly) options.streams = StreamFilter::stderrOnly;
  if (args.timestamps && options.format != LogFormat::text) {
    throw usageError("--timestamps goes with --format text only", "json and cast carry the times already");
  }
  options.timestamps = args.timestamps;
  if (args.tail != kTailNotGiven && args.tail < 0) {
    throw usageError(fmt::format("option '--tail' wants a number of lines, 0 or more, not {}", args.tail),
                     "e.g. --tail 20");
  }
  if (args.tail >= 0) options.tailLines = static_cast<size_t>(args.tail);
  options.follow = args.follow;
  return options;
}

int runLogs(const LogsArgs& args, const CliContext& context) {
  LogOptions options = logOptions(args);
  auto home = openHome(context);
  auto events = home->events(args.follow ? resolveJobToFollow(*home, args.selector->value)
                                         : resolveJob(*home, args.selector->value));
  StdioStream out(stdout);
  LogSummary summary = writeLogs(*events, options, out);
  if (summary.tracingIncomplete && options.format != LogFormat::json) {
    std::fprintf(stderr, "jobtape: tracing incomplete: %s\n",
                 escapeControl(tracingShortfallText(*summary.tracingIncomplete)).c_str());
  }
  if (summary.tailCutBytes > 0) {
    std::fprintf(stderr, "jobtape: note: the tail's lines held more than 32 MiB; its first %llu bytes were cut\n",
                 static_cast<unsigned long long>(summary.tailCutBytes));
  }
  warnIfDamaged(*events);
  return 0;
}

// ---- job replay ------------------------------------------------------------

struct ReplayArgs {
  std::shared_ptr<SelectorArg> selector = std::make_shared<SelectorArg>();
  double speed = 1.0;
  std::optional<double> maxIdle;
};

int runReplay(const ReplayArgs& args, const CliContext& context) {
  ReplayOptions options;
  options.speed = args.speed;
  options.maxIdleSeconds = args.maxIdle;
  try {
    validateReplayOptions(options);
  } catch (const Error& error) {
    throw usageError(error.what(), "e.g. --speed 2 or --speed 0.5, --max-idle 1");
  }
  auto home = openHome(context);
  auto events = home->events(resolveJob(*home, args.selector->value));
  StdioStream out(stdout);
  StdioStream err(stderr);
  replayOutput(*events, options, out, err);
  warnIfDamaged(*events);
  return 0;
}

// ---- registration ----------------------------------------------------------

void registerLogs(CLI::App& job, CliContext& context) {
  auto args = std::make_shared<LogsArgs>();
  CLI::App* logs = job.add_subcommand("logs", "A job's output: stdout and stderr in the order they came");
  addSelector(*logs, args->selector);
  auto* out = logs->add_flag("--stdout", args->stdoutOnly, "Only what the job wrote to stdout");
  auto* err = logs->add_flag("--stderr", args->stderrOnly, "Only what the job wrote to stderr");
  out->excludes(err);
  logs->add_flag("--timestamps", args->timestamps, "Start each line with the time since the job started");
  logs->add_option("--tail", args->tail, "Only the last N lines")->type_name("N");
  logs->add_flag("-f,--follow", args->follow, "Keep printing a running job's output until it finishes");
  logs->add_option("--format", args->format, "text (raw bytes), json (an object an event) or cast (asciinema v2)")
      ->type_name("text|json|cast");
  onParsed(*logs, args, context, runLogs);
}

void registerReplay(CLI::App& job, CliContext& context) {
  auto args = std::make_shared<ReplayArgs>();
  CLI::App* replay = job.add_subcommand("replay", "Write a job's output again with its original timing");
  addSelector(*replay, args->selector);
  replay->add_option("--speed", args->speed, "Play X times as fast (default 1)")->type_name("X");
  replay->add_option_function<double>(
            "--max-idle", [args](double seconds) { args->maxIdle = seconds; },
            "Cut pauses longer than SECONDS to SECONDS")
      ->type_name("SECONDS");
  onParsed(*replay, args, context, runReplay);
}

}  // namespace

void registerJobOutputCommands(CLI::App& job, CliContext& context) {
  registerLogs(job, context);
  registerReplay(job, context);
}

}  // namespace jobtape::cli
