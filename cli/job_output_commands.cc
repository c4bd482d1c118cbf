// `jobtape job logs|replay`: a recorded job's output, as it was written or
// with its original timing. Parsing and printing only; the rendering lives in
// recorder/ (log_render, replay).
#include <CLI/CLI.hpp>
#include <limits>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <memory>
#include <optional>
#include <string>

#include "cli/cli_context.h"
#include "cli/cli_error.h"
#include "cli/cli_support.h"
#include "cli/job_selection.h"
#include "recorder/events/event_reader.h"
#include "recorder/inspect/job_summary.h"
#include "recorder/inspect/log_render.h"
#include "recorder/inspect/replay.h"

namespace jobtape::cli {

namespace {

// Writes raw bytes to stdout through stdio (so it interleaves correctly with
// anything else printed) and flushes when asked: followers want lines as
// they come.
class StdoutSink : public recorder::ByteSink {
 public:
  void write(std::string_view bytes) override {
    if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size()) fail();
  }
  void flush() {
    if (std::fflush(stdout) != 0) fail();
  }

 private:
  [[noreturn]] void fail() {
    throw CliError(fmt::format("cannot write the output: {}", std::strerror(errno)));
  }
};

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

recorder::LogOptions logOptions(const LogsArgs& args) {
  recorder::LogOptions options;
  auto format = recorder::parseLogFormat(args.format);
  if (!format) {
    throw usageError(fmt::format("unknown log format '{}'", escapeControl(args.format)), "use text, json or cast");
  }
  options.format = *format;
  if (args.stdoutOnly) options.streams = recorder::StreamFilter::stdoutOnly;
  if (args.stderrOnly) options.streams = recorder::StreamFilter::stderrOnly;
  if (args.timestamps && options.format != recorder::LogFormat::text) {
    throw usageError("--timestamps goes with --format text only", "json and cast carry the times already");
  }
  options.timestamps = args.timestamps;
  if (args.tail != kTailNotGiven && args.tail < 0) {
    throw usageError(fmt::format("option '--tail' wants a number of lines, 0 or more, not {}", args.tail),
                     "e.g. --tail 20");
  }
  if (args.tail >= 0) options.tailLines = static_cast<size_t>(args.tail);
  return options;
}

// Asks the store at most every half second whether the job still runs.
class RunningCheck {
 public:
  RunningCheck(store::Store* store, const Target& target, std::string jobId)
      : store_(store), target_(target), jobId_(std::move(jobId)) {}
  bool stopped() {
    auto now = std::chrono::steady_clock::now();
    if (now - lastCheck_ < std::chrono::milliseconds(500)) return false;
    lastCheck_ = now;
    // A job the store does not know (an events file from elsewhere) is
    // followed until its last event, like tail -f.
    if (!store_) return false;
    reapQuietly(store_);
    auto row = store_->job(target_.row ? target_.row->id : jobId_);
    return row && row->status != store::JobStatus::running;
  }

 private:
  store::Store* store_;
  const Target& target_;
  std::string jobId_;
  std::chrono::steady_clock::time_point lastCheck_{};
};

int runLogs(const LogsArgs& args, const CliContext& context) {
  recorder::LogOptions options = logOptions(args);
  auto store = openExistingStore(context);
  reapQuietly(store.get());
  Target target = resolveTarget(store.get(), args.selector->value);
  auto reader = openEvents(target);
  const std::string jobId = reader->description().jobId;

  StdoutSink sink;
  recorder::LogRenderer renderer(reader->description(), options, sink);
  bool finished = false;
  while (auto event = reader->next()) {
    finished |= event->kind == recorder::Event::Kind::jobFinished;
    renderer.add(*event);
  }
  if (args.follow && !finished) {
    renderer.catchUp();
    sink.flush();
    RunningCheck check(store.get(), target, jobId);
    while (auto event = reader->nextFollowing([&check] { return check.stopped(); })) {
      renderer.add(*event);
      sink.flush();
      if (event->kind == recorder::Event::Kind::jobFinished) break;
    }
    // The job ended without a last event reaching us yet: take what is there.
    while (auto event = reader->next()) renderer.add(*event);
  }
  renderer.finish();
  sink.flush();
  if (renderer.tracingIncomplete() && options.format != recorder::LogFormat::json) {
    std::fprintf(stderr, "jobtape: tracing incomplete: %s\n",
                 escapeControl(recorder::tracingIncompleteText(*renderer.tracingIncomplete())).c_str());
  }
  warnIfDamaged(*reader, store.get(), target);
  return 0;
}

// ---- job replay ------------------------------------------------------------

struct ReplayArgs {
  std::shared_ptr<SelectorArg> selector = std::make_shared<SelectorArg>();
  double speed = 1.0;
  std::optional<double> maxIdle;
};

// stdout chunks to our stdout and stderr chunks to our stderr, each at once.
class TerminalReplaySink : public recorder::ReplaySink {
 public:
  void write(sandbox::Stream stream, std::string_view bytes) override {
    FILE* file = stream == sandbox::Stream::stdout_ ? stdout : stderr;
    if (std::fwrite(bytes.data(), 1, bytes.size(), file) != bytes.size() || std::fflush(file) != 0) {
      throw CliError(fmt::format("cannot write the output: {}", std::strerror(errno)));
    }
  }
};

int runReplay(const ReplayArgs& args, const CliContext& context) {
  recorder::ReplayOptions options;
  options.speed = args.speed;
  options.maxIdleSeconds = args.maxIdle;
  try {
    recorder::validateReplayOptions(options);
  } catch (const std::invalid_argument& error) {
    throw usageError(error.what(), "e.g. --speed 2 or --speed 0.5, --max-idle 1");
  }
  auto store = openExistingStore(context);
  reapQuietly(store.get());
  Target target = resolveTarget(store.get(), args.selector->value);
  auto reader = openEvents(target);
  auto next = [&reader]() -> std::optional<recorder::OutputEvent> {
    while (auto event = reader->next()) {
      if (event->kind == recorder::Event::Kind::output) return std::move(event->output);
    }
    return std::nullopt;
  };
  recorder::SteadyReplayClock clock;
  TerminalReplaySink sink;
  recorder::replay(next, options, clock, sink);
  warnIfDamaged(*reader, store.get(), target);
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
