// `jobtape job list|show`: finding recorded jobs and looking at one. Parsing
// and printing only; the report is rendered in recorder/inspect/job_report.
// `logs` and `replay` are in job_output_commands.cc.
#include <sys/ioctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/cli_context.h"
#include "cli/cli_error.h"
#include "cli/cli_support.h"
#include "cli/job_selection.h"
#include "recorder/events/event_reader.h"
#include "recorder/inspect/job_json.h"
#include "recorder/inspect/job_report.h"
#include "recorder/inspect/json_text.h"
#include "sandbox/recipe.h"

namespace jobtape::cli {

namespace {

namespace fs = std::filesystem;

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
    json.beginObject();
    recorder::writeJobRowJson(json, row, jobPathsOf(store, row));
    json.endObject();
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
    refuseForeignHome(context);
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
  std::vector<store::JobRow> rows = withoutDamagedRows(*store, store->jobs(filter));
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

// ---- job show --------------------------------------------------------------

struct ShowArgs {
  std::shared_ptr<SelectorArg> selector = std::make_shared<SelectorArg>();
  bool json = false;
  recorder::ReportView view;
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

// Commands are shortened to the terminal's width, or to this off a terminal.
constexpr size_t kWidthOffTerminal = 120;

size_t terminalWidth(const CliContext& context) {
  struct winsize size {};
  if (context.stdoutIsTerminal && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col >= 40) {
    return size.ws_col;
  }
  return kWidthOffTerminal;
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
  style.failure = [&context](std::string_view text) { return colourize(context, Colour::red, text); };
  style.note = [&context](std::string_view text) { return colourize(context, Colour::dim, text); };
  return style;
}

int runShow(const ShowArgs& args, const CliContext& context) {
  auto store = openExistingStore(context);
  reapQuietly(store.get());
  Target target = resolveTarget(store.get(), args.selector->value);
  recorder::JobReport report;
  report.row = target.row;
  if (target.row) report.shortId = store->shortestUniquePrefix(target.row->id);
  report.eventsFile = target.eventsFile;
  if (target.row) {
    report.build = store->build(target.row->buildId);
    loadEvents(report, target);
    fs::path state = jobDirOf(*store, *target.row) / store::kStateDirName;
    std::error_code ec;
    if (fs::is_directory(state, ec)) report.keptState = state;
  } else {
    // A file named on the command line must be one.
    report.events = recorder::summarizeEvents(*openEvents(target));
  }
  loadRecipe(report);
  recorder::addWhatFailed(report);
  recorder::ReportView view = args.view;
  view.width = terminalWidth(context);
  std::string text = args.json ? recorder::renderReportJson(report, view)
                               : recorder::renderReportText(report, reportStyle(context), view);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

// ---- registration ----------------------------------------------------------

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
  show->add_flag("--processes", args->view.processes, "Also the tree of processes the job exec'd");
  show->add_flag("--failed", args->view.failedOnly, "With --processes: only the chains of the processes that failed");
  show->add_flag("--env", args->view.env, "Also the job's environment (--json always has it)");
  show->add_flag("--wide", args->view.wide, "Commands in full, however long");
  onParsed(*show, args, context, runShow);
}

}  // namespace

void registerJobViewCommands(CLI::App& job, CliContext& context) {
  registerList(job, context);
  registerShow(job, context);
  registerJobOutputCommands(job, context);
}

}  // namespace jobtape::cli
