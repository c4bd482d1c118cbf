// `jobtape build list|show|trace|check`: builds, their jobs and nested
// builds. The data comes from recorder/inspect/build_overview, build_check and
// chrome_trace; this file parses and prints.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/cli_context.h"
#include "cli/cli_error.h"
#include "cli/cli_support.h"
#include "cli/job_selection.h"
#include "recorder/inspect/build_check.h"
#include "recorder/inspect/build_overview.h"
#include "recorder/inspect/chrome_trace.h"
#include "recorder/inspect/job_json.h"
#include "recorder/inspect/json_text.h"
#include "store/selector.h"

namespace jobtape::cli {

namespace fs = std::filesystem;
using recorder::BuildIdAbbreviator;
using recorder::BuildNode;

namespace {

const char* kRunHint = "record one with 'jobtape run -- COMMAND'";

store::BuildRow resolveBuild(store::Store* store, const std::optional<std::string>& selector) {
  if (!store) throw CliError("no builds recorded yet", kRunHint);
  try {
    return store::resolveBuildSelector(*store, selector);
  } catch (const store::SelectorError& error) {
    std::string message = error.what();
    auto newline = message.find('\n');
    if (newline == std::string::npos) throw CliError(message, "see 'jobtape build list'");
    std::string first = message.substr(0, newline);
    std::cerr << "jobtape: error: " << first << '\n' << message.substr(newline + 1);
    if (message.back() != '\n') std::cerr << '\n';
    throw CliError(first, "", 1);
  }
}

BuildIdAbbreviator abbreviatorFor(store::Store& store) {
  std::vector<std::string> ids;
  for (const auto& build : store.builds(0)) ids.push_back(build.id);
  return BuildIdAbbreviator(std::move(ids));
}

Colour resultColour(const std::string& result) {
  if (result == "succeeded") return Colour::green;
  if (result == "failed") return Colour::red;
  return Colour::blue;
}

std::string projectsText(const std::vector<store::ProjectRow>& projects) {
  if (projects.empty()) return "-";
  const auto& first = projects.front();
  std::string text = !first.localProjectPath.empty() ? first.localProjectPath : first.registryProjectName;
  if (projects.size() > 1) text += fmt::format(" +{}", projects.size() - 1);
  return escapeControl(text);
}

std::string countsText(const recorder::JobCounts& counts) {
  std::string text = fmt::format("{} ok", counts.succeeded);
  if (counts.failed + counts.abandoned) text += fmt::format(", {} failed", counts.failed + counts.abandoned);
  if (counts.running) text += fmt::format(", {} running", counts.running);
  return text;
}

std::string durationText(const BuildNode& node) {
  return node.durationMs ? formatDuration(*node.durationMs) : std::string("-");
}

// ---- JSON --------------------------------------------------------------------

// The keys and their meaning are documented in docs/JSON.md ("build").
void writeCountsJson(recorder::JsonWriter& json, const recorder::JobCounts& counts) {
  json.key("job_counts").beginObject();
  json.field("total", counts.total).field("succeeded", counts.succeeded).field("failed", counts.failed);
  json.field("abandoned", counts.abandoned).field("running", counts.running);
  json.endObject();
}

void writeJobsJson(recorder::JsonWriter& json, store::Store& store, const std::string& buildId) {
  auto jobs = store.jobsOfBuild(buildId);
  std::sort(jobs.begin(), jobs.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  json.key("jobs").beginArray();
  for (const auto& job : jobs) {
    json.beginObject();
    recorder::writeJobRowJson(json, job, jobPathsOf(store, job));
    json.endObject();
  }
  json.endArray();
}

// `withJobs` (build show): each build also lists its jobs.
void writeBuildJson(recorder::JsonWriter& json, const BuildNode& node, const BuildIdAbbreviator& abbreviate,
                    store::Store* withJobs) {
  const auto& b = node.build;
  json.beginObject();
  json.field("id", b.id).field("short_id", abbreviate(b.id)).field("result", recorder::buildResultName(b));
  recorder::writeTimeJson(json, "started_at", b.startedAtMs);
  recorder::writeTimeJson(json, "stopped_at", b.stoppedAtMs);
  json.field("duration_ms", node.durationMs);
  json.field("command_line", b.commandLine).field("cwd", b.cwd).field("host", b.host);
  json.field("parent_job_id", b.parentJobId).field("retry_of", b.retryOf);
  json.key("projects").beginArray();
  for (const auto& p : node.projects) {
    json.beginObject().field("id", p.id).field("project_hash", p.projectHash);
    json.field("local_project_path", p.localProjectPath).field("registry_project_name", p.registryProjectName);
    json.endObject();
  }
  json.endArray();
  writeCountsJson(json, node.jobs);
  if (withJobs) writeJobsJson(json, *withJobs, b.id);
  json.key("nested").beginArray();
  for (const auto& child : node.nested) writeBuildJson(json, child, abbreviate, withJobs);
  json.endArray();
  json.field("nested_truncated", node.truncated);
  json.endObject();
}

// ---- build list ----------------------------------------------------------------

struct ListRow {
  std::string id;  // with the tree prefix
  const BuildNode* node;
};

void flatten(const BuildNode& node, const std::string& indent, bool last, bool top, const BuildIdAbbreviator& abbreviate,
             std::vector<ListRow>& rows) {
  std::string branch = top ? "" : indent + (last ? "└─ " : "├─ ");
  rows.push_back({branch + abbreviate(node.build.id), &node});
  std::string childIndent = top ? "" : indent + (last ? "   " : "│  ");
  for (size_t i = 0; i < node.nested.size(); ++i) {
    flatten(node.nested[i], childIndent, i + 1 == node.nested.size(), false, abbreviate, rows);
  }
}

// Display width of a cell: the tree's box characters are one column each.
size_t columns(const std::string& text) {
  size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

std::string pad(const std::string& text, size_t width) {
  size_t used = columns(text);
  return used >= width ? text : text + std::string(width - used, ' ');
}

int listAction(const CliContext& context, int limit, bool json) {
  auto store = openExistingStore(context);
  std::vector<BuildNode> nodes;
  if (store) nodes = recorder::loadRecentBuilds(*store, limit);
  std::vector<std::string> ids;
  if (store) {
    for (const auto& build : store->builds(0)) ids.push_back(build.id);
  }
  BuildIdAbbreviator abbreviate(std::move(ids));
  if (json) {
    recorder::JsonWriter out(true);
    out.beginArray();
    for (const auto& node : nodes) writeBuildJson(out, node, abbreviate, nullptr);
    out.endArray();
    std::cout << out.text() << '\n';
    return 0;
  }
  if (nodes.empty()) {
    std::cerr << "jobtape: no builds recorded yet; " << kRunHint << '\n';
    return 0;
  }
  std::vector<ListRow> rows;
  for (const auto& node : nodes) flatten(node, "", true, true, abbreviate, rows);
  size_t idWidth = 5, countWidth = 4, projectWidth = 7;
  for (const auto& row : rows) {
    idWidth = std::max(idWidth, columns(row.id));
    countWidth = std::max(countWidth, countsText(row.node->jobs).size());
    projectWidth = std::max(projectWidth, columns(projectsText(row.node->projects)));
  }
  int64_t now = nowUnixMs();
  std::cout << pad("BUILD", idWidth) << "  " << pad("RESULT", 9) << "  " << pad("JOBS", countWidth) << "  "
            << pad("DURATION", 8) << "  " << pad("STARTED", 11) << "  " << pad("PROJECT", projectWidth) << "  COMMAND\n";
  for (const auto& row : rows) {
    const auto& b = row.node->build;
    std::string result = recorder::buildResultName(b);
    std::cout << pad(row.id, idWidth) << "  " << colourize(context, resultColour(result), pad(result, 9)) << "  "
              << pad(countsText(row.node->jobs), countWidth) << "  " << pad(durationText(*row.node), 8) << "  "
              << pad(formatRelative(b.startedAtMs, now), 11) << "  " << pad(projectsText(row.node->projects), projectWidth) << "  "
              << escapeControl(b.commandLine) << '\n';
  }
  return 0;
}

// ---- build show ----------------------------------------------------------------

void printJobs(const CliContext& context, store::Store& store, const std::string& buildId) {
  auto jobs = withoutDamagedRows(store, store.jobsOfBuild(buildId));
  std::sort(jobs.begin(), jobs.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  for (const auto& job : jobs) {
    std::string status = store::jobStatusName(job.status);
    std::string how;
    if (job.signal && *job.signal) how = fmt::format("signal {}", *job.signal);
    else if (!job.outcome.empty() && job.outcome != "exited") how = job.outcome;
    else if (job.exitCode) how = fmt::format("exit {}", *job.exitCode);
    std::string duration = job.stoppedAtMs ? formatDuration(*job.stoppedAtMs - job.startedAtMs) : "-";
    std::cout << "  " << store.shortestUniquePrefix(job.id) << "  "
              << colourize(context, statusColour(job.status), pad(status, 9)) << "  " << pad(how, 12) << "  "
              << pad(duration, 8) << "  " << escapeControl(!job.name.empty() ? job.name + ": " + job.command : job.command)
              << '\n';
  }
  if (jobs.empty()) std::cout << "  (none)\n";
}

void printNestedTree(const CliContext& context, const BuildNode& node, const std::string& indent,
                     const BuildIdAbbreviator& abbreviate) {
  for (size_t i = 0; i < node.nested.size(); ++i) {
    const auto& child = node.nested[i];
    bool last = i + 1 == node.nested.size();
    std::string result = recorder::buildResultName(child.build);
    std::cout << indent << (last ? "└─ " : "├─ ") << abbreviate(child.build.id) << "  "
              << colourize(context, resultColour(result), result) << "  " << countsText(child.jobs) << "  "
              << durationText(child) << "  from job " << child.build.parentJobId.value_or("?").substr(0, 10) << "  "
              << escapeControl(child.build.commandLine) << '\n';
    printNestedTree(context, child, indent + (last ? "   " : "│  "), abbreviate);
  }
  if (node.truncated) std::cout << indent << "└─ (more nested builds not shown)\n";
}

int showAction(const CliContext& context, const std::optional<std::string>& selector, bool json) {
  auto store = openExistingStore(context);
  auto build = resolveBuild(store.get(), selector);
  BuildNode node = recorder::loadBuildTree(*store, build);
  auto abbreviate = abbreviatorFor(*store);
  if (json) {
    recorder::JsonWriter out(true);
    writeBuildJson(out, node, abbreviate, store.get());
    std::cout << out.text() << '\n';
    return 0;
  }
  std::string result = recorder::buildResultName(build);
  auto line = [](const char* label, const std::string& value) { std::cout << fmt::format("{:<10} {}\n", label, value); };
  std::cout << "build " << build.id << '\n';
  line("result:", colourize(context, resultColour(result), result));
  line("started:", formatTimestamp(build.startedAtMs) + " (" + formatRelative(build.startedAtMs, nowUnixMs()) + ")");
  line("duration:", durationText(node));
  line("command:", escapeControl(build.commandLine));
  line("cwd:", escapeControl(build.cwd));
  line("host:", escapeControl(build.host));
  if (build.parentJobId) line("nested in:", "job " + *build.parentJobId);
  if (build.retryOf) line("retry of:", "build " + *build.retryOf);
  for (const auto& p : node.projects) {
    std::string name = !p.localProjectPath.empty() ? p.localProjectPath : p.registryProjectName;
    line("project:", escapeControl(name) + "  (" + p.projectHash.substr(0, 12) + ")");
  }
  line("jobs:", countsText(node.jobs));
  printJobs(context, *store, build.id);
  if (!node.nested.empty()) {
    std::cout << "nested builds:\n";
    printNestedTree(context, node, "  ", abbreviate);
  }
  return 0;
}

// ---- build trace ---------------------------------------------------------------

int traceAction(const CliContext& context, const std::optional<std::string>& selector,
                const std::optional<std::string>& output) {
  auto store = openExistingStore(context);
  auto build = resolveBuild(store.get(), selector);
  auto trace = recorder::loadTrace(*store, build);
  std::string json = recorder::chromeTraceJson(trace, nowUnixMs());
  if (!output || *output == "-") {
    std::cout << json;
    return 0;
  }
  // Written beside the target and renamed, so a reader never sees half a trace.
  fs::path target(*output);
  fs::path temporary = target;
  temporary += ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << json;
    out.close();
    if (!out) {
      std::error_code ec;
      fs::remove(temporary, ec);
      throw CliError(fmt::format("cannot write {}", target.string()), "check the directory exists and is writable");
    }
  }
  std::error_code ec;
  fs::rename(temporary, target, ec);
  if (ec) {
    fs::remove(temporary, ec);
    throw CliError(fmt::format("cannot write {}: {}", target.string(), ec.message()), "choose another -o path");
  }
  size_t jobs = trace.jobs.size();
  std::cerr << fmt::format("jobtape: wrote the trace of build {} ({} job{}) to {}; open it in https://ui.perfetto.dev\n",
                           build.id.substr(0, 10), jobs, jobs == 1 ? "" : "s", target.string());
  return 0;
}

// ---- build check ---------------------------------------------------------------

void printCheckJson(const recorder::FailureCheck& check, const BuildIdAbbreviator& abbreviate) {
  recorder::JsonWriter json(true);
  json.beginObject().field("failures", check.wanted).field("project", check.project);
  json.field("locked", check.locked()).field("verdict", check.verdict());
  json.key("builds").beginArray();
  for (const auto& b : check.considered) {
    json.beginObject().field("id", b.id).field("short_id", abbreviate(b.id)).field("result", recorder::buildResultName(b));
    recorder::writeTimeJson(json, "started_at", b.startedAtMs);
    recorder::writeTimeJson(json, "stopped_at", b.stoppedAtMs);
    json.field("command_line", b.commandLine).endObject();
  }
  json.endArray().endObject();
  std::cout << json.text() << '\n';
}

int checkAction(const CliContext& context, int failures, const std::optional<std::string>& project, bool json) {
  if (failures < 1) {
    throw usageError(fmt::format("--failures {}: needs at least 1", failures), "e.g. --failures 3");
  }
  auto store = openExistingStore(context);
  recorder::FailureCheck check;
  check.wanted = failures;
  check.project = project;
  if (store) check = recorder::checkRecentFailures(*store, failures, project);
  // A lock that a typo in the project name opens is no lock: a project with
  // no finished build is refused rather than reported unlocked.
  if (project && check.considered.empty()) {
    throw usageError(fmt::format("no finished build of project '{}' is recorded", escapeControl(*project)),
                     "give its directory or registry name as 'jobtape build list' shows it");
  }
  if (json) {
    printCheckJson(check, store ? abbreviatorFor(*store) : BuildIdAbbreviator({}));
  } else {
    std::cout << check.verdict() << '\n';
  }
  return check.locked() ? 1 : 0;
}

}  // namespace

void registerBuildCommands(CLI::App& build, CliContext& context) {
  {
    struct Args {
      int limit = 20;
      bool json = false;
    };
    auto args = std::make_shared<Args>();
    CLI::App* list = build.add_subcommand("list", "List recent builds, nested builds under their parents");
    list->add_option("--limit", args->limit, "Show at most N top-level builds (0: all; default 20)")->type_name("N");
    list->add_flag("--json", args->json, "Print JSON");
    list->callback([args, &context] {
      if (args->limit < 0) throw usageError(fmt::format("--limit {}: must not be negative", args->limit), "e.g. --limit 50");
      context.action = [args, &context] { return listAction(context, args->limit, args->json); };
    });
  }
  {
    struct Args {
      std::optional<std::string> selector;
      bool json = false;
    };
    auto args = std::make_shared<Args>();
    CLI::App* show = build.add_subcommand("show", "Show one build: result, projects, jobs, nested builds");
    show->add_option("build", args->selector, "last (default), failed, or a build id prefix")->type_name("BUILD");
    show->add_flag("--json", args->json, "Print JSON, with the jobs of each build");
    show->callback([args, &context] {
      context.action = [args, &context] { return showAction(context, args->selector, args->json); };
    });
  }
  {
    struct Args {
      std::optional<std::string> selector;
      std::optional<std::string> output;
    };
    auto args = std::make_shared<Args>();
    CLI::App* trace = build.add_subcommand("trace", "Write a build as Chrome trace-event JSON (open in Perfetto)");
    trace->add_option("build", args->selector, "last (default), failed, or a build id prefix")->type_name("BUILD");
    trace->add_option("-o,--output", args->output, "Write to FILE instead of stdout")->type_name("FILE");
    trace->callback([args, &context] {
      context.action = [args, &context] { return traceAction(context, args->selector, args->output); };
    });
  }
  {
    struct Args {
      int failures = 0;
      std::optional<std::string> project;
      bool json = false;
    };
    auto args = std::make_shared<Args>();
    CLI::App* check = build.add_subcommand(
        "check", "Exit 1 when the last N finished builds (of a project) all failed: a branch lock for CI");
    check->add_option("--failures", args->failures, "How many failed builds in a row lock")->type_name("N")->required();
    check->add_option("--project", args->project,
                      "Only builds of this project (its directory or registry name); nested builds count too")
        ->type_name("P");
    check->add_flag("--json", args->json, "Print the verdict and the builds it looked at as JSON (same exit status)");
    check->callback([args, &context] {
      context.action = [args, &context] { return checkAction(context, args->failures, args->project, args->json); };
    });
  }
}

}  // namespace jobtape::cli
