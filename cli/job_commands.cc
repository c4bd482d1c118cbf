// `jobtape job list|show|logs|replay`: finding a recorded job and looking at
// it. Parsing and printing only; the rendering lives in recorder/
// (log_render, replay, job_report).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli_context.h"
#include "cli/cli_error.h"
#include "cli/cli_support.h"
#include "recorder/event_reader.h"
#include "recorder/job_report.h"
#include "recorder/json_text.h"
#include "recorder/log_render.h"
#include "recorder/replay.h"
#include "sandbox/recipe.h"

namespace jobtape::cli {

namespace {

namespace fs = std::filesystem;

constexpr const char* kEventsFileName = "events.bin.zst";
constexpr const char* kStateDirName = "state";

// ---- shared by the commands ------------------------------------------------

struct SelectorArg {
  std::optional<std::string> value;
};

// Adds the optional SEL positional. A bare "-2" looks like an option to
// CLI11, so the command also accepts extras and takes a lone -N from them.
void addSelector(CLI::App& command, const std::shared_ptr<SelectorArg>& selector) {
  command
      .add_option_function<std::string>(
          "selector", [selector](const std::string& text) { selector->value = text; },
          "The job: failed (default), last, -N, an id or recipe-hash prefix, a pid, an events file, "
          "or job:X / recipe:X / pid:N")
      ->type_name("SEL");
  command.allow_extras();
}

// Called from the command's callback: settles the selector from the extras.
void takeSelectorFromExtras(CLI::App& command, SelectorArg& selector) {
  std::vector<std::string> extras = command.remaining();
  for (const auto& extra : extras) {
    if (extra == "--") continue;  // CLI11 keeps the marker among the extras
    bool nth = extra.size() > 1 && extra[0] == '-' &&
               std::all_of(extra.begin() + 1, extra.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!nth) {
      throw usageError(fmt::format("unknown argument '{}'", escapeControl(extra)),
                       "see 'jobtape job " + command.get_name() + " --help'");
    }
    if (selector.value) {
      throw usageError("more than one job selector given", "give one selector, e.g. 'last' or '-2'");
    }
    selector.value = extra;
  }
}

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

void warn(const std::string& message) { std::fprintf(stderr, "jobtape: warning: %s\n", message.c_str()); }

void reapQuietly(store::Store* store) {
  if (!store) return;
  // A busy or read-only database cannot mark jobs abandoned now; the
  // answer is still worth giving.
  try {
    store->reapAbandoned();
  } catch (const std::exception&) {
  }
}

// The job a selector named, and where its events file is.
struct Target {
  std::optional<store::JobRow> row;  // absent for an events-file path
  fs::path eventsFile;
};

fs::path jobDirOf(store::Store& store, const store::JobRow& row) {
  return row.localPath.empty() ? store.jobDir(row.id) : fs::path(row.localPath);
}

Target resolveTarget(store::Store* store, const std::optional<std::string>& selector) {
  store::Selection selection = resolveJob(store, selector);
  if (auto* file = std::get_if<store::EventsFileSelection>(&selection)) return {std::nullopt, file->path};
  auto& row = std::get<store::JobRow>(selection);
  fs::path events = jobDirOf(*store, row) / kEventsFileName;
  return {row, events};
}

// Opens the events file. A job that has just started may not have written
// its first frame yet: give it a moment before calling the file broken.
std::unique_ptr<recorder::EventReader> openEvents(const Target& target) {
  bool young = target.row && target.row->status == store::JobStatus::running;
  for (int attempt = 0;; ++attempt) {
    try {
      return recorder::EventReader::open(target.eventsFile);
    } catch (const recorder::NotAnEventsFile& error) {
      if (young && attempt < 30) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      if (target.row && !fs::exists(target.eventsFile)) {
        throw CliError(fmt::format("the events file of job {} is gone: {}", target.row->id,
                                   escapeControl(target.eventsFile.string())),
                       "it was removed (jobtape gc?); 'jobtape job show' still has its summary");
      }
      throw CliError(escapeControl(error.what()), "pass a job selector or the path of an events.bin.zst");
    }
  }
}

// Whether the store says the job that wrote `description` still runs.
bool stillRunning(store::Store* store, const Target& target, const std::string& jobId) {
  if (!store) return false;
  reapQuietly(store);
  auto row = store->job(target.row ? target.row->id : jobId);
  return row && row->status == store::JobStatus::running;
}

// ---- job list --------------------------------------------------------------

struct ListArgs {
  std::string status;
  std::string project;
  std::string build;
  int limit = 20;
  bool json = false;
};

std::optional<store::JobStatus> parseStatus(const std::string& text) {
  for (auto status : {store::JobStatus::running, store::JobStatus::succeeded, store::JobStatus::failed,
                      store::JobStatus::abandoned}) {
    if (text == store::jobStatusName(status)) return status;
  }
  return std::nullopt;
}

// Code points, as a stand-in for the width on a terminal.
size_t displayWidth(std::string_view text) {
  auto startsCodePoint = [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; };
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), startsCodePoint));
}

// Cuts to `width` code points, marking the cut with "…" at the end (or at
// the start, for paths whose end matters most).
std::string fitWidth(const std::string& text, size_t width, bool keepEnd = false) {
  if (displayWidth(text) <= width) return text;
  std::vector<size_t> starts;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  if (keepEnd) return "…" + text.substr(starts[starts.size() - (width - 1)]);
  return text.substr(0, starts[width - 1]) + "…";
}

std::string padRight(const std::string& text, size_t width) {
  size_t shown = displayWidth(text);
  return shown >= width ? text : text + std::string(width - shown, ' ');
}

std::string homeRelative(const std::string& path) {
  const char* home = std::getenv("HOME");
  std::string prefix = home && *home ? home : "";
  if (!prefix.empty() && prefix != "/" && path.rfind(prefix, 0) == 0 &&
      (path.size() == prefix.size() || path[prefix.size()] == '/')) {
    return "~" + path.substr(prefix.size());
  }
  return path;
}

std::string durationOf(const store::JobRow& row, int64_t now) {
  if (row.stoppedAtMs) return formatDuration(*row.stoppedAtMs - row.startedAtMs);
  if (row.status == store::JobStatus::running) return formatDuration(now - row.startedAtMs) + "…";
  return "-";
}

void printListJson(store::Store& store, const std::vector<store::JobRow>& rows) {
  recorder::JsonWriter json(true);
  json.beginArray();
  for (const auto& row : rows) {
    json.beginObject()
        .field("id", row.id)
        .field("shortId", store.shortestUniquePrefix(row.id))
        .field("status", store::jobStatusName(row.status))
        .field("buildId", row.buildId)
        .field("project", row.projectPath)
        .field("name", row.name)
        .field("command", row.command)
        .field("startedAt", recorder::isoTimestampMs(row.startedAtMs));
    json.key("stoppedAt");
    row.stoppedAtMs ? json.value(recorder::isoTimestampMs(*row.stoppedAtMs)) : json.null();
    json.key("durationMs");
    row.stoppedAtMs ? json.value(*row.stoppedAtMs - row.startedAtMs) : json.null();
    json.field("exitCode", row.exitCode)
        .field("signal", row.signal)
        .field("outcome", row.outcome)
        .field("recipeHash", row.recipeHash)
        .field("pid", static_cast<int64_t>(row.pid))
        .field("eventsFile", (jobDirOf(store, row) / kEventsFileName).string())
        .field("stateKept", row.stateKept)
        .endObject();
  }
  json.endArray();
  std::printf("%s\n", json.text().c_str());
}

void printListTable(const CliContext& context, store::Store& store, const std::vector<store::JobRow>& rows) {
  int64_t now = nowUnixMs();
  std::vector<std::array<std::string, 6>> table;
  table.push_back({"ID", "STATUS", "PROJECT", "COMMAND", "STARTED", "DURATION"});
  for (const auto& row : rows) {
    table.push_back({store.shortestUniquePrefix(row.id), store::jobStatusName(row.status),
                     fitWidth(escapeControl(homeRelative(row.projectPath.empty() ? "-" : row.projectPath)), 28, true),
                     fitWidth(escapeControl(row.command), 48), formatRelative(row.startedAtMs, now),
                     durationOf(row, now)});
  }
  std::array<size_t, 6> widths{};
  for (const auto& cells : table) {
    for (size_t c = 0; c < cells.size(); ++c) widths[c] = std::max(widths[c], displayWidth(cells[c]));
  }
  for (size_t r = 0; r < table.size(); ++r) {
    std::string line;
    for (size_t c = 0; c < table[r].size(); ++c) {
      bool last = c + 1 == table[r].size();
      std::string cell = last ? table[r][c] : padRight(table[r][c], widths[c]);
      // Colour wraps the padded cell so escape codes never shift columns.
      if (r == 0) cell = colourize(context, Colour::bold, cell);
      else if (c == 1) cell = colourize(context, statusColour(rows[r - 1].status), cell);
      line += cell;
      if (!last) line += "  ";
    }
    std::printf("%s\n", line.c_str());
  }
}

int runList(const ListArgs& args, const CliContext& context) {
  store::JobFilter filter;
  if (!args.status.empty()) {
    filter.status = parseStatus(args.status);
    if (!filter.status) {
      throw usageError(fmt::format("unknown status '{}'", escapeControl(args.status)),
                       "use one of: running, succeeded, failed, abandoned");
    }
  }
  if (args.limit < 0) throw usageError(fmt::format("--limit must be 0 (no limit) or more, not {}", args.limit));
  filter.limit = args.limit;
  if (!args.project.empty()) {
    // "--project ." means this directory, as recorded (absolute); anything
    // that is not a directory here is taken as a registry name.
    std::error_code ec;
    bool directory = fs::is_directory(args.project, ec);
    filter.project = directory ? fs::weakly_canonical(args.project, ec).string() : args.project;
  }

  auto store = openExistingStore(context);
  if (!store) {
    std::printf(args.json ? "[]\n" : "no jobs recorded yet\n");
    return 0;
  }
  reapQuietly(store.get());
  if (!args.build.empty()) {
    try {
      filter.buildId = store::resolveBuildSelector(*store, args.build).id;
    } catch (const store::SelectorError& error) {
      std::string message = error.what();
      throw CliError(message.substr(0, message.find('\n')), "see 'jobtape build list'");
    }
  }
  std::vector<store::JobRow> rows = store->jobs(filter);
  if (args.json) {
    printListJson(*store, rows);
  } else if (rows.empty()) {
    bool filtered = filter.status || filter.project || filter.buildId;
    std::printf(filtered ? "no jobs match\n" : "no jobs recorded yet\n");
  } else {
    printListTable(context, *store, rows);
  }
  return 0;
}

}  // namespace
}  // namespace jobtape::cli

namespace jobtape::cli {

namespace {

// ---- job show --------------------------------------------------------------

struct ShowArgs {
  std::shared_ptr<SelectorArg> selector = std::make_shared<SelectorArg>();
  bool json = false;
  bool processes = false;
};

// Fills the events part of the report; a missing or broken file is said in
// the report, not fatal: the row alone is worth showing.
void loadEvents(recorder::JobReport& report, const Target& target) {
  try {
    auto reader = recorder::EventReader::open(target.eventsFile);
    report.events = recorder::summarizeEvents(*reader);
  } catch (const recorder::NotAnEventsFile& error) {
    report.eventsError = fs::exists(target.eventsFile) ? error.what() : "missing (removed by 'jobtape gc'?)";
  }
  // A running job's last frame is still being written: not damage.
  if (report.events && target.row && target.row->status == store::JobStatus::running) report.events->damage.reset();
}

void loadRecipe(recorder::JobReport& report) {
  if (report.row && !report.row->recipeMeta.empty()) {
    try {
      report.recipe = sandbox::recipeFromJson(report.row->recipeMeta);
      report.recipeSource = "store";
      return;
    } catch (const std::exception&) {
      // Fall back to the events file's copy below.
    }
  }
  if (report.events) {
    report.recipe = report.events->description.recipe;
    report.recipeSource = "events file";
  }
}

recorder::ReportStyle reportStyle(const CliContext& context) {
  recorder::ReportStyle style;
  style.escape = [](std::string_view text) { return escapeControl(text); };
  style.timestamp = [](int64_t unixMs) { return formatTimestamp(unixMs); };
  style.duration = [](int64_t ms) { return formatDuration(ms); };
  style.status = [&context](std::string_view status) {
    auto parsed = parseStatus(std::string(status));
    return parsed ? colourize(context, statusColour(*parsed), status) : std::string(status);
  };
  return style;
}

int runShow(const ShowArgs& args, const CliContext& context) {
  auto store = openExistingStore(context);
  reapQuietly(store.get());
  Target target = resolveTarget(store.get(), args.selector->value);
  recorder::JobReport report;
  report.row = target.row;
  report.eventsFile = target.eventsFile;
  if (target.row) {
    report.build = store->build(target.row->buildId);
    loadEvents(report, target);
    fs::path state = jobDirOf(*store, *target.row) / kStateDirName;
    std::error_code ec;
    if (fs::is_directory(state, ec)) report.keptState = state;
  } else {
    // A file named on the command line must be one.
    report.events = recorder::summarizeEvents(*openEvents(target));
  }
  loadRecipe(report);
  std::string text = args.json ? recorder::renderReportJson(report, args.processes)
                               : recorder::renderReportText(report, reportStyle(context), args.processes);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

// ---- job logs --------------------------------------------------------------

struct LogsArgs {
  std::shared_ptr<SelectorArg> selector = std::make_shared<SelectorArg>();
  bool stdoutOnly = false;
  bool stderrOnly = false;
  bool timestamps = false;
  int64_t tail = -1;
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
  if (args.tail < -1) throw usageError(fmt::format("--tail must be 0 or more lines, not {}", args.tail));
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
  if (auto damage = reader->damage(); damage && !stillRunning(store.get(), target, jobId)) {
    warn(fmt::format("events file damaged at byte {}: {}; output may be incomplete", damage->offset,
                     escapeControl(damage->reason)));
  }
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
  if (auto damage = reader->damage(); damage && !stillRunning(store.get(), target, reader->description().jobId)) {
    warn(fmt::format("events file damaged at byte {}: {}; output may be incomplete", damage->offset,
                     escapeControl(damage->reason)));
  }
  return 0;
}

// ---- registration ----------------------------------------------------------

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

void registerList(CLI::App& job, CliContext& context) {
  auto args = std::make_shared<ListArgs>();
  CLI::App* list = job.add_subcommand("list", "List recorded jobs, most recent first");
  list->add_option("--status", args->status, "Only jobs with this status: running, succeeded, failed, abandoned")
      ->type_name("S");
  list->add_option("--project", args->project, "Only jobs of this project (path or registry name)")->type_name("P");
  list->add_option("--build", args->build, "Only jobs of this build (last, failed, or a build id prefix)")
      ->type_name("B");
  list->add_option("--limit", args->limit, "Show at most N jobs (default 20; 0: all)")->type_name("N");
  list->add_flag("--json", args->json, "A JSON array with full ids and times");
  onParsed(*list, args, context, runList);
}

void registerShow(CLI::App& job, CliContext& context) {
  auto args = std::make_shared<ShowArgs>();
  CLI::App* show = job.add_subcommand("show", "Everything about one job: recipe, outcome, times, resources, files");
  addSelector(*show, args->selector);
  show->add_flag("--json", args->json, "As one JSON object");
  show->add_flag("--processes", args->processes, "Also the tree of processes the job exec'd");
  onParsed(*show, args, context, runShow);
}

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

void registerJobViewCommands(CLI::App& job, CliContext& context) {
  registerList(job, context);
  registerShow(job, context);
  registerLogs(job, context);
  registerReplay(job, context);
}

}  // namespace jobtape::cli
