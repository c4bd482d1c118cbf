// `jobtape job list|show`: finding recorded jobs and looking at one. Parsing
// and printing only; the report is the library's (<jobtape/views.h>).
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
#include <iostream>
#include <jobtape/inspect.h>
#include <jobtape/views.h>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/cli_context.h"
#include "cli/cli_error.h"
#include "cli/cli_support.h"
#include "cli/job_selection.h"

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

std::string durationOf(const JobRecord& row, int64_t now) {
  if (row.stoppedAtMs) return formatDuration(*row.stoppedAtMs - row.startedAtMs);
  if (row.status == JobStatus::running) return formatDuration(now - row.startedAtMs) + "…";
  return "-";
}

void printListJson(Home& home, const std::vector<JobRecord>& rows) {
  std::printf("%s\n", jobListJson(home, rows).c_str());
}

// A NAME column only when a listed job has a name (`run --name`): most have
// none, and the table stays as narrow as before for them.
void printListTable(const CliContext& context, Home& home, const std::vector<JobRecord>& rows) {
  int64_t now = nowUnixMs();
  bool named = std::any_of(rows.begin(), rows.end(), [](const JobRecord& row) { return !row.name.empty(); });
  constexpr size_t kStatusColumn = 1;
  std::vector<std::vector<std::string>> table;
  table.push_back({"ID", "STATUS", "PROJECT", "COMMAND", "STARTED", "DURATION"});
  if (named) table.back().insert(table.back().begin() + kStatusColumn + 1, "NAME");
  for (const auto& row : rows) {
    std::vector<std::string> cells = {
        home.shortId(row.id), jobStatusName(row.status),
        fitWidth(escapeControl(homeRelative(row.projectPath.empty() ? "-" : row.projectPath)), 28, true),
        fitWidth(escapeControl(row.command), 48), formatRelative(row.startedAtMs, now), durationOf(row, now)};
    if (named) cells.insert(cells.begin() + kStatusColumn + 1, row.name.empty() ? "-" : fitWidth(escapeControl(row.name), 32));
    table.push_back(std::move(cells));
  }
  std::vector<size_t> widths(table.front().size());
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
      else if (c == kStatusColumn) cell = colourize(context, statusColour(rows[r - 1].status), cell);
      line += cell;
      if (!last) line += "  ";
    }
    std::printf("%s\n", line.c_str());
  }
}

int runList(const ListArgs& args, const CliContext& context) {
  JobQuery query;
  if (!args.status.empty()) {
    query.status = parseJobStatus(args.status);
    if (!query.status) {
      throw usageError(fmt::format("unknown status '{}'", escapeControl(args.status)),
                       "use one of: running, succeeded, failed, abandoned");
    }
  }
  if (args.limit < 0) throw usageError(fmt::format("--limit must be 0 (no limit) or more, not {}", args.limit));
  query.limit = args.limit;
  // "--project ." means this directory, as recorded: the library says so.
  if (!args.project.empty()) query.project = args.project;
  if (!args.build.empty()) query.build = args.build;

  auto home = openHome(context, true);
  if (!home->hasStore()) {
    std::printf(args.json ? "[]\n" : "no jobs recorded yet\n");
    return 0;
  }
  JobListing listing;
  try {
    listing = home->jobs(query);
  } catch (const SelectorError& error) {
    throw CliError(error.what(), "see 'jobtape build list'");
  }
  std::vector<JobRecord> rows = withoutDamaged(std::move(listing));
  if (args.json) {
    printListJson(*home, rows);
  } else if (rows.empty()) {
    bool filtered = query.status || query.project || query.build;
    std::printf(filtered ? "no jobs match\n" : "no jobs recorded yet\n");
  } else {
    printListTable(context, *home, rows);
  }
  return 0;
}

// ---- job show --------------------------------------------------------------

struct ShowArgs {
  std::shared_ptr<SelectorArg> selector = std::make_shared<SelectorArg>();
  bool json = false;
  ReportOptions view;
};

// Commands are shortened to the terminal's width, or to this off a terminal.
constexpr size_t kWidthOffTerminal = 120;

size_t terminalWidth(const CliContext& context) {
  struct winsize size {};
  if (context.stdoutIsTerminal && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col >= 40) {
    return size.ws_col;
  }
  return kWidthOffTerminal;
}

ReportStyle reportStyle(const CliContext& context) {
  ReportStyle style;
  style.status = [&context](std::string_view status) {
    auto parsed = parseJobStatus(status);
    return parsed ? colourize(context, statusColour(*parsed), status) : std::string(status);
  };
  style.failure = [&context](std::string_view text) { return colourize(context, Colour::red, text); };
  style.note = [&context](std::string_view text) { return colourize(context, Colour::dim, text); };
  return style;
}

int runShow(const ShowArgs& args, const CliContext& context) {
  auto home = openHome(context);
  SelectedJob job = resolveJob(*home, args.selector->value);
  ReportOptions options = args.view;
  options.json = args.json;
  options.width = terminalWidth(context);
  options.style = reportStyle(context);
  writeJobReport(*home, job, options, std::cout);
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
